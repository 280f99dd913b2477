"""Conference status callbacks: kept once per SequenceNumber, folded in sequence order."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.db import db, utcnow
from app.line.calls import by_sid, record
from app.line.models import ConferenceEvent, Conversation, Step
from app.settings import settings
from app.telephony.webhooks import (
    CONFERENCE_END,
    PARTICIPANT_JOIN,
    PARTICIPANT_LEAVE,
    ConferenceStatusCallback,
)

log = logging.getLogger(__name__)


def event_received(callback: ConferenceStatusCallback) -> Conversation | None:
    """Store one conference event and refresh the conversation (a duplicate changes nothing).

    Returns the conversation when this event ended it, for what follows from its length.
    """
    event, room, sequence, at = callback.event, callback.room, callback.sequence, callback.at
    conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
    if conversation is None or not callback.known:
        log.info("conference event %s for an unknown room ignored", event)
        return None
    if any(e.sequence == sequence for e in conversation.events):
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
        step = Step.JOINED if event == PARTICIPANT_JOIN else Step.LEFT_ROOM
        record(call, step, room, at=at)
    had_started = conversation.started_at is not None
    had_ended = conversation.ended_at is not None
    fold(conversation)
    try:
        db.session.commit()
    except IntegrityError:  # the same event, retried concurrently, was stored first
        db.session.rollback()
        return None
    if conversation.started_at is not None and not had_started:
        _schedule_time_limit(conversation)
    return conversation if conversation.ended_at is not None and not had_ended else None


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
