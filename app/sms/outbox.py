"""Texts leave through here: a row per text (its kind, never its body), sent by a worker,
and what Twilio reports of it, even when its report comes before the sender noted the sid."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import purges
from app.line.models import RecordKind
from app.settings import settings
from app.sms.models import REPORTED_STATUSES, Subscriber, TextKind, TextMessage, TextStatus
from app.telephony.webhooks import FINAL_MESSAGE_STATUSES, MessageStatusCallback

EARLY_SECONDS = 600  # how long a report for a sid no text has yet is kept


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


def handed_over(message: TextMessage, sid: str) -> None:
    """Twilio took the text: note its sid, then apply any report that came before it."""
    message.sid, message.status, message.sent_at = sid, TextStatus.SENT, utcnow()
    db.session.commit()
    if settings.PURGE_TWILIO_RECORDS:  # asked for until Twilio deletes it, delivered or not
        purges.schedule(sid, RecordKind.MESSAGE)
    for report in _take_early(sid):
        _apply(message, MessageStatusCallback(sid, report["status"], report["error_code"]))


def record_status(callback: MessageStatusCallback) -> None:
    """What Twilio reports of a text; kept a while when no text has its sid yet."""
    if _apply_to_sid(callback):
        return
    key = redis.key("sms", "early", callback.message_sid)
    report = json.dumps({"status": callback.status, "error_code": callback.error_code})
    redis.connection().pipeline().rpush(key, report).expire(key, EARLY_SECONDS).execute()
    if _find(callback.message_sid) is not None:  # the sender noted it meanwhile: apply now
        for early in _take_early(callback.message_sid):
            _apply_to_sid(MessageStatusCallback(callback.message_sid, **early))


def _find(sid: str) -> TextMessage | None:
    return db.session.scalar(select(TextMessage).where(TextMessage.sid == sid))


def _apply_to_sid(callback: MessageStatusCallback) -> bool:
    message = _find(callback.message_sid)
    if message is not None:
        _apply(message, callback)
    return message is not None


def _take_early(sid: str) -> list[dict]:
    key = redis.key("sms", "early", sid)
    reports, _ = redis.connection().pipeline().lrange(key, 0, -1).delete(key).execute()
    return [json.loads(report) for report in reports]


def _apply(message: TextMessage, callback: MessageStatusCallback) -> None:
    # A late 'sent' must not undo 'delivered'; Twilio's earlier steps are not recorded at all.
    if callback.status in REPORTED_STATUSES and message.status not in FINAL_MESSAGE_STATUSES:
        message.status = callback.status
    if (code := callback.error_number()) is not None:
        message.error_code = code
    db.session.commit()
