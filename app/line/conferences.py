"""Conference status callbacks: kept once per SequenceNumber, folded in sequence order; and
what Twilio's Conference records say of conversations whose events were lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import jobs
from app.db import db, locked, utcnow
from app.line.calls import by_sid, record
from app.line.models import (
    Call,
    CallEvent,
    CallState,
    ConferenceEvent,
    Conversation,
    Participant,
    Step,
)
from app.settings import settings
from app.telephony.rest import ConferenceRecord
from app.telephony.webhooks import (
    CONFERENCE_END,
    PARTICIPANT_JOIN,
    PARTICIPANT_LEAVE,
    ConferenceStatusCallback,
)

log = logging.getLogger(__name__)
PARTICIPANT = (PARTICIPANT_JOIN, PARTICIPANT_LEAVE)
STEPS = {PARTICIPANT_JOIN: Step.JOINED, PARTICIPANT_LEAVE: Step.LEFT_ROOM}


def event_received(callback: ConferenceStatusCallback) -> Conversation | None:
    """Store one conference event and refresh the conversation (a duplicate changes nothing).

    Twilio sends each event as a request of its own, in no guaranteed order: the room's row
    is locked while one is applied, so each sees the others, and all are folded in
    sequence order. Returns the conversation when this event gave it (another) end, for
    what follows from its length.
    """
    event, room, sequence, at = callback.event, callback.room, callback.sequence, callback.at
    conversation = locked(
        select(Conversation).where(Conversation.room == room), key_share=True
    ).scalar()
    if conversation is None or not callback.known:
        log.info("conference event %s for an unknown room ignored", event)
        db.session.rollback()
        return None
    if any(e.sequence == sequence for e in conversation.events):
        db.session.rollback()
        return None  # Twilio retried an event we already have
    # Read before anything changes, so that all the changes go out in one flush.
    call = by_sid(callback.participant) if callback.participant else None
    stored = ConferenceEvent(
        conversation=conversation,
        sequence=sequence,
        event=event,
        call_sid=callback.call_sid,
        at=at,
    )
    conversation.conference_sid = callback.conference_sid or conversation.conference_sid
    db.session.add(stored)
    if call is not None:
        _record_in_sequence(call, conversation, stored)
    had_started = conversation.started_at is not None
    span = (conversation.started_at, conversation.ended_at)
    fold(conversation)
    try:
        db.session.commit()
    except IntegrityError:  # the same event, retried concurrently, was stored first
        db.session.rollback()
        return None
    if conversation.started_at is not None and not had_started:
        schedule_time_limit(conversation)
    now = (conversation.started_at, conversation.ended_at)
    return conversation if now[1] is not None and now != span else None


def _record_in_sequence(call: Call, conversation: Conversation, stored: ConferenceEvent) -> None:
    """Put the call's joined or left step for this room on its timeline, in sequence order.

    Twilio's timestamps are whole seconds, and steps within one second keep the order they
    were recorded in: an event that arrives after a later one has its steps recorded again.
    """
    room = conversation.room
    mine = sorted(
        (e for e in conversation.events if e.call_sid == call.sid and e.event in PARTICIPANT),
        key=lambda e: e.sequence,
    )
    if mine[-1] is not stored:  # it came late: what came after it goes after it again
        for step in [e for e in call.events if e.kind in STEPS.values() and e.detail == room]:
            call.events.remove(step)
    else:
        mine = [stored]
    for found in mine:
        record(call, STEPS[found.event], room, at=found.at)


def schedule_time_limit(conversation: Conversation) -> None:
    """When two people are together, time their warning and their goodbye."""
    limit = settings.CONVERSATION_LIMIT_SECONDS
    elapsed = (utcnow() - conversation.started_at).total_seconds()
    warn_in = limit - settings.CONVERSATION_WARNING_SECONDS - elapsed
    for job, delay, name in (
        (jobs.WARN_LIMIT, warn_in, "warn"),
        (jobs.END_AT_LIMIT, limit - elapsed, "end"),
    ):
        job.enqueue(conversation.id, delay=max(delay, 0), job_id=f"{name}-{conversation.id}")


def fold(conversation: Conversation) -> None:
    """Derive when the two callers were together from all events, in sequence order."""
    present: set[str] = set()
    started = ended = None
    most = 0
    for event in sorted(conversation.events, key=lambda e: e.sequence):
        if event.event == PARTICIPANT_JOIN:
            present.add(event.call_sid)
            most = max(most, len(present))
            if len(present) >= 2 and started is None:
                started = event.at
        elif event.event == PARTICIPANT_LEAVE:
            present.discard(event.call_sid)
            if started and ended is None and len(present) < 2:
                ended = event.at
        elif event.event == CONFERENCE_END and ended is None:
            ended = event.at
    # What the events do not tell (they were lost) may have come from Twilio's records.
    conversation.started_at = started or conversation.started_at
    conversation.ended_at = ended or conversation.ended_at
    conversation.max_participants = max(most, conversation.max_participants or 0)


def unsettled(now: datetime | None = None) -> list[Conversation]:
    """Matched pairs whose events have not told the line how their conversation went: no
    start CONVERSATION_CHECK_SECONDS after the match, or no end once both callers left."""
    now = now or utcnow()
    quiet = now - timedelta(seconds=settings.CONVERSATION_CHECK_SECONDS)
    pairs = (
        select(Participant.conversation_id)
        .group_by(Participant.conversation_id)
        .having(func.count() >= 2, func.max(Participant.matched_at) < quiet)
    )
    found = db.session.scalars(
        select(Conversation)
        .where(
            Conversation.ended_at.is_(None),
            Conversation.created_at > now - timedelta(days=1),  # past that, Twilio is not asked
            Conversation.id.in_(pairs),
        )
        .options(selectinload(Conversation.participants).selectinload(Participant.call))
    ).all()
    # Two people together in a room that has started are a conversation going well.
    return [c for c in found if c.started_at is None or not _anyone_in(c)]


def _anyone_in(conversation: Conversation) -> bool:
    return any(_in_room(p.call, conversation.room) for p in conversation.participants)


def _in_room(call: Call, room: str) -> bool:
    return call.room == room and call.state in (CallState.WAITING, CallState.MATCHED)


def settle(conversation: Conversation, found: list[ConferenceRecord]) -> tuple[bool, bool]:
    """Take from Twilio's records of the room what its events did not say; (started, ended):
    whether this call set the start (and timed the limit), and the end."""
    matched = max(p.matched_at for p in conversation.participants)
    rescued = any(  # the rescue found the partner alone in the room: the two never met
        e.kind == Step.RESCUED and e.detail == conversation.room
        for p in conversation.participants
        for e in p.call.events
    )
    conference = found[0] if found else None
    if conference is None:  # no room at Twilio: nobody ever joined it
        if _anyone_in(conversation):
            return False, False
        ends = [p.call.ended_at for p in conversation.participants if p.call.ended_at]
        return False, _set(conversation, "ended_at", max(ends, default=utcnow()))
    conversation.conference_sid = conversation.conference_sid or conference.sid
    start = max(conference.created, matched)
    if conference.status != "completed":
        if conference.status != "in-progress":  # one caller there, waiting for the other
            return False, False
        if len(conference.joined) >= 2:  # the later of two joins is when they met
            start = max(conference.joined)
        started = _set(conversation, "started_at", start)
        if started:
            schedule_time_limit(conversation)
        return started, False
    # Twilio calls date_updated the last update, not the end: the first caller to leave the
    # room (each <Dial> action comes as it ends) bounds it.
    left = [e.at for p in conversation.participants for e in p.call.events if _left(e, matched)]
    end = min([conference.updated, *left])
    started = not rescued and _set(conversation, "started_at", min(start, end))
    return started, _set(conversation, "ended_at", end)


def _left(event: CallEvent, matched: datetime) -> bool:
    return event.kind == Step.LEFT and event.at >= matched


def _set(conversation: Conversation, column: str, value: datetime) -> bool:
    """Fill in a moment the events did not give, unless they gave it meanwhile."""
    values: dict[str, object] = {column: value}
    if column == "started_at":  # no start yet means the events never showed two in the room
        values["max_participants"] = 2
    done = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, getattr(Conversation, column).is_(None))
        .values(values)
    ).rowcount
    db.session.commit()
    db.session.refresh(conversation)
    return bool(done)
