"""Text jobs: send at a bounded rate, plan reminder waves exactly once."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, literal, select, update

from app import jobs, urls
from app.db import UTCDateTime, db, utcnow
from app.fusing import sessions as fusing_sessions
from app.fusing.schedule import Occurrence, spoken_when
from app.infra import redis
from app.line import purges
from app.line.models import RecordKind
from app.settings import settings
from app.sms import texts
from app.sms.crypto import decrypt
from app.sms.models import Subscriber, SubscriberStatus, TextKind, TextMessage, TextStatus
from app.telephony import rest

log = logging.getLogger(__name__)
BATCH = 200


def _wait_for_rate() -> None:
    # A shared fixed window in Redis: every worker together stays under SMS_PER_SECOND.
    limit = settings.SMS_PER_SECOND
    conn = redis.connection()
    while True:
        second = int(time.time())
        window = redis.key("sms", "rate", str(second))
        with conn.pipeline() as pipe:
            used, _ = pipe.incr(window).expire(window, 5).execute()
        if used <= limit:
            return
        time.sleep(max(0.0, second + 1 - time.time()))


def _body(message: TextMessage, link: str | None) -> str:
    line = settings.TWILIO_PHONE_NUMBER
    if message.kind == TextKind.REMINDER:
        session = fusing_sessions.session_at(message.session_starts_at)
        local = Occurrence(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            tz=message.subscriber.timezone,
            round_length=timedelta(seconds=session.round_seconds),
            gap=timedelta(seconds=session.gap_seconds),
        )  # the same moment, said in the subscriber's own zone
        # Worded as of when it is due, so a text sent a little late still says "tomorrow".
        due = session.starts_at - timedelta(minutes=message.offset_minutes)
        return texts.REMINDER.format(when=spoken_when(local, due), line=line)
    if message.kind == TextKind.PAYMENT_LINK:
        return texts.PAYMENT_LINK.format(link=link)
    return texts.CONFIRMATION


def send_batch(message_ids: list[int], link: str | None = None) -> dict[str, int]:
    """Send queued texts; each is claimed first, so no text is ever sent twice."""
    counts = {"sent": 0, "skipped": 0, "opted_out": 0, "failed": 0}
    for message_id in message_ids:
        counts[_send_one(message_id, link)] += 1
    return counts


def _send_one(message_id: int, link: str | None) -> str:
    claimed = db.session.execute(
        update(TextMessage)
        .where(TextMessage.id == message_id, TextMessage.status == TextStatus.QUEUED)
        .values(status=TextStatus.SENDING, claimed_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    message = db.session.get(TextMessage, message_id)
    subscriber = message.subscriber
    if subscriber.status != SubscriberStatus.ACTIVE or subscriber.number_encrypted is None:
        message.status = TextStatus.CANCELLED
        db.session.commit()
        return "skipped"
    _wait_for_rate()
    try:
        sid = rest.send_sms(
            decrypt(subscriber.number_encrypted),
            _body(message, link),
            urls.callback(urls.SMS_STATUS),
        )
    except rest.OptedOut:
        message.status, message.error_code = TextStatus.FAILED, rest.OPTED_OUT
        subscriber.status, subscriber.stopped_at = SubscriberStatus.STOPPED, utcnow()
        subscriber.number_encrypted = None
        db.session.commit()
        return "opted_out"
    except rest.TelephonyError as error:
        if error.retryable:  # give it back, and let RQ retry the batch with backoff
            message.status, message.claimed_at = TextStatus.QUEUED, None
            db.session.commit()
            raise
        message.status, message.error_code = TextStatus.FAILED, error.code
        db.session.commit()
        return "failed"
    message.sid, message.status, message.sent_at = sid, TextStatus.SENT, utcnow()
    db.session.commit()
    if settings.PURGE_TWILIO_RECORDS:  # asked for until Twilio deletes it, delivered or not
        purges.schedule(sid, RecordKind.MESSAGE)
    return "sent"


def plan_reminders(now: datetime | None = None) -> int:
    """Recurring: queue each due reminder once per subscriber, session and offset."""
    now = now or utcnow()
    queued = 0
    upcoming = fusing_sessions.upcoming(now)
    if upcoming is not None:
        session = fusing_sessions.session_for(upcoming)
        for minutes in settings.REMINDER_OFFSETS_MINUTES:
            due = upcoming.starts_at - timedelta(minutes=minutes)
            # A reminder missed by more than half its lead (scheduler down) is not sent late.
            if due <= now < due + timedelta(minutes=minutes / 2):
                queued += _plan_wave(session.starts_at, minutes)
    _requeue_stuck(now)
    return queued


def _plan_wave(starts_at, minutes: int) -> int:
    """Add the missing reminders of one wave and queue them; returns how many were added."""
    already = select(TextMessage.id).where(
        TextMessage.subscriber_id == Subscriber.id,
        TextMessage.kind == TextKind.REMINDER,
        TextMessage.session_starts_at == starts_at,
        TextMessage.offset_minutes == minutes,
    )
    planned_at = utcnow()  # marks this run's rows
    missing = select(
        Subscriber.id,
        literal(TextKind.REMINDER.value),
        literal(starts_at, UTCDateTime),
        literal(minutes),
        literal(TextStatus.QUEUED.value),
        literal(planned_at, UTCDateTime),
    ).where(Subscriber.status == SubscriberStatus.ACTIVE, ~already.exists())
    columns = [
        "subscriber_id",
        "kind",
        "session_starts_at",
        "offset_minutes",
        "status",
        "created_at",
    ]
    db.session.execute(insert(TextMessage).from_select(columns, missing))
    db.session.commit()
    ids = db.session.scalars(
        select(TextMessage.id)
        .where(
            and_(
                TextMessage.kind == TextKind.REMINDER,
                TextMessage.session_starts_at == starts_at,
                TextMessage.offset_minutes == minutes,
                TextMessage.created_at == planned_at,
            )
        )
        .order_by(TextMessage.id)
    ).all()
    _enqueue(ids)
    return len(ids)


def _enqueue(ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        jobs.SEND_BATCH.enqueue(chunk, job_id=f"sms-{chunk[0]}-{chunk[-1]}")


def _requeue_stuck(now) -> None:
    """Texts a dead worker left behind: queued ones are sent again; claimed ones are checked."""
    stale = now - timedelta(seconds=settings.SMS_STUCK_SECONDS)
    stuck = db.session.scalars(
        select(TextMessage).where(
            TextMessage.status == TextStatus.SENDING, TextMessage.claimed_at < stale
        )
    ).all()
    for message in stuck:  # a claimed text may or may not have left: ask Twilio before resending
        message.status = TextStatus.SENT if _was_sent(message) else TextStatus.QUEUED
    db.session.commit()
    waiting = db.session.scalars(
        select(TextMessage.id).where(
            TextMessage.status == TextStatus.QUEUED, TextMessage.created_at < stale
        )
    ).all()
    _enqueue(list(waiting))


def _was_sent(message: TextMessage) -> bool:
    if message.subscriber.number_encrypted is None:
        return True  # opted out meanwhile: nothing more to send
    return rest.sent_since(decrypt(message.subscriber.number_encrypted), message.claimed_at)
