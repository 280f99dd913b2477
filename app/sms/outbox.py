"""Texts leave through here: a row per text (its kind, never its body), sent by a worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app import jobs
from app.db import db
from app.sms.models import Subscriber, TextKind, TextMessage


def queue_text(
    subscriber: Subscriber,
    kind: TextKind,
    *,
    session_starts_at: datetime | None = None,
    offset_minutes: int | None = None,
    link: str | None = None,
) -> TextMessage | None:
    """Record a text to send and queue its job; None if this exact text was already queued."""
    message = TextMessage(
        subscriber_id=subscriber.id,
        kind=kind,
        session_starts_at=session_starts_at,
        offset_minutes=offset_minutes,
    )
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    jobs.SEND_TEXT.enqueue([message.id], link)
    return message
