"""Conference status callbacks: kept once per SequenceNumber, folded in sequence order."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.db import db, utcnow
from app.line.calls import by_sid, record
from app.line.models import Call, ConferenceEvent, Conversation, Step
from app.settings import settings
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
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.room == room).with_for_update(key_share=True)
    )
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
        _schedule_time_limit(conversation)
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


def _schedule_time_limit(conversation: Conversation) -> None:
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
    conversation.started_at, conversation.ended_at = started, ended
    conversation.max_participants = most
