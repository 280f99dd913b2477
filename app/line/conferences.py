"""Conference status callbacks: kept once per SequenceNumber, folded in sequence order."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.billing import membership
from app.db import db, utcnow
from app.line.calls import by_sid, parse_timestamp, record, whole_number
from app.line.models import ConferenceEvent, Conversation

log = logging.getLogger(__name__)
KNOWN_EVENTS = {"conference-start", "conference-end", "participant-join", "participant-leave"}


def event_received(form) -> bool:
    """Store one conference event and refresh the conversation; False for a duplicate."""
    event = form.get("StatusCallbackEvent", "")
    room = form.get("FriendlyName", "")
    conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
    if conversation is None or event not in KNOWN_EVENTS:
        log.info("conference event %s for an unknown room ignored", event)
        return False
    sequence = whole_number(form.get("SequenceNumber"))
    if any(e.sequence == sequence for e in conversation.events):
        return False  # Twilio retried an event we already have
    at = parse_timestamp(form.get("Timestamp"))
    call_sid = form.get("CallSid")
    # Read before anything changes, so that all the changes go out in one flush.
    call = by_sid(call_sid) if call_sid and event.startswith("participant-") else None
    stored = ConferenceEvent(
        conversation=conversation, sequence=sequence, event=event, call_sid=call_sid, at=at
    )
    conversation.conference_sid = form.get("ConferenceSid") or conversation.conference_sid
    db.session.add(stored)
    if call is not None:
        record(call, "joined" if event == "participant-join" else "left_room", room, at=at)
    had_started = conversation.started_at is not None
    had_ended = conversation.ended_at is not None
    fold(conversation)
    try:
        db.session.commit()
    except IntegrityError:  # the same event, retried concurrently, was stored first
        db.session.rollback()
        return False
    if conversation.started_at is not None and not had_started:
        _schedule_time_limit(conversation)
    if conversation.ended_at is not None and not had_ended:
        membership.conversation_ended(conversation)
    return True


def _schedule_time_limit(conversation: Conversation) -> None:
    """When two people are together, time their warning and their goodbye."""
    config = current_app.config
    limit = config["CONVERSATION_LIMIT_SECONDS"]
    elapsed = (utcnow() - conversation.started_at).total_seconds()
    warn_in = limit - config["CONVERSATION_WARNING_SECONDS"] - elapsed
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
        if event.event == "participant-join":
            present.add(event.call_sid)
            most = max(most, len(present))
            if len(present) >= 2 and started is None:
                started = event.at
        elif event.event == "participant-leave":
            present.discard(event.call_sid)
            if started and ended is None and len(present) < 2:
                ended = event.at
        elif event.event == "conference-end" and ended is None:
            ended = event.at
    conversation.started_at, conversation.ended_at = started, ended
    conversation.max_participants = most
