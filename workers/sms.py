"""Text jobs: send at the sender's rate, plan reminder waves exactly once."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from redis.exceptions import WatchError
from sqlalchemy import and_, insert, literal, select, update

from app import i18n, jobs, urls
from app.db import UTCDateTime, db, utcnow
from app.fusing import sessions as fusing_sessions
from app.fusing.schedule import Occurrence
from app.infra import redis
from app.settings import settings
from app.sms import outbox, subscribers, texts, waves
from app.sms.crypto import decrypt
from app.sms.models import Subscriber, SubscriberStatus, TextKind, TextMessage, TextStatus
from app.telephony import rest

log = logging.getLogger(__name__)
BATCH = 200
SEND_JOB = "sms-"  # the job ids of wave chunks start so


def _pace(segments: int) -> None:
    """Wait for this text's turn: all workers together hand Twilio what the sender sends.

    A shared next-free time in Redis, moved on by each text's segments at the sender's rate:
    texts then leave Twilio about when the line hands them over, instead of waiting in
    Twilio's queue (where the line could no longer cancel them).
    """
    cost = segments / settings.SMS_SEGMENTS_PER_SECOND
    conn, key = redis.connection(), redis.key("sms", "pace")
    with conn.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                turn = max(time.time(), float(pipe.get(key) or 0))
                pipe.multi()
                pipe.set(key, turn + cost, ex=int(cost) + 60)
                pipe.execute()
                break
            except WatchError:  # another worker took a turn meanwhile
                continue
    time.sleep(max(0.0, turn - time.time()))


def _body(message: TextMessage, link: str | None) -> str:
    with i18n.speaking(message.subscriber.language):  # each text in its subscriber's language
        return str(_words(message, link))


def _words(message: TextMessage, link: str | None) -> str:
    if message.kind == TextKind.REMINDER:
        session = fusing_sessions.session_at(message.session_starts_at)
        occurrence = Occurrence(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            tz=session.timezone,
            round_length=timedelta(seconds=session.round_seconds),
            gap=timedelta(seconds=session.gap_seconds),
        )
        tz, minutes = message.subscriber.timezone, message.offset_minutes
        return waves.reminder(occurrence, tz, minutes, utcnow())
    if message.kind == TextKind.PAYMENT_LINK:
        return texts.PAYMENT_LINK.format(link=link)
    if message.kind == TextKind.CALLBACK_MISSED:
        return texts.CALLBACK_MISSED
    return texts.CONFIRMATION


def _still_wanted(message: TextMessage) -> bool:
    subscriber = message.subscriber
    if subscriber.status != SubscriberStatus.ACTIVE or subscriber.number_encrypted is None:
        return False
    if message.kind != TextKind.REMINDER:
        return True
    # A wave that could not fit, or started late, drops what would now arrive too late.
    return not waves.missed(message.session_starts_at, message.offset_minutes, utcnow())


def _valid_for(message: TextMessage) -> int | None:
    # A reminder still in Twilio's queue after its own lead is stale: Twilio drops it (30036).
    return message.offset_minutes * 60 if message.kind == TextKind.REMINDER else None


def send_batch(message_ids: list[int], link: str | None = None) -> dict[str, int]:
    """Send queued texts; each is claimed first, so no text is ever sent twice."""
    counts = {"sent": 0, "skipped": 0, "opted_out": 0, "failed": 0}
    for message_id in message_ids:
        counts[_send_one(message_id, link)] += 1
    return counts


def _claim(message_id: int, to: TextStatus = TextStatus.SENDING) -> bool:
    claimed = db.session.execute(
        update(TextMessage)
        .where(TextMessage.id == message_id, TextMessage.status == TextStatus.QUEUED)
        .values(status=to, claimed_at=utcnow())
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _send_one(message_id: int, link: str | None) -> str:
    message = db.session.get(TextMessage, message_id)
    if message is None or message.status != TextStatus.QUEUED:
        return "skipped"  # sent, or being sent, by another run: no turn taken for it
    subscriber = message.subscriber
    if not _still_wanted(message):
        _claim(message_id, TextStatus.CANCELLED)
        return "skipped"
    body = _body(message, link)
    _pace(texts.segments(body))
    if not _claim(message_id):  # the claim is what keeps a text from leaving twice
        return "skipped"
    if subscriber.status != SubscriberStatus.ACTIVE or subscriber.number_encrypted is None:
        message.status = TextStatus.CANCELLED  # they stopped while it waited its turn
        db.session.commit()
        return "skipped"
    try:
        sid = rest.send_sms(
            decrypt(subscriber.number_encrypted),
            body,
            urls.callback(urls.SMS_STATUS),
            valid_for=_valid_for(message),
        )
    except rest.OptedOut:
        message.status, message.error_code = TextStatus.FAILED, rest.OPTED_OUT
        subscribers.refused(subscriber)
        return "opted_out"
    except rest.TelephonyError as error:
        if error.retryable or error.code == rest.QUEUE_FULL:  # back to RQ, retried later
            message.status, message.claimed_at = TextStatus.QUEUED, None
            db.session.commit()
            raise
        message.status, message.error_code = TextStatus.FAILED, error.code
        db.session.commit()
        return "failed"
    outbox.handed_over(message, sid)  # and asked for at Twilio until it is deleted
    return "sent"


def plan_reminders(now: datetime | None = None) -> int:
    """Recurring: queue each due reminder once per subscriber, session and offset.

    A wave is queued from when it must start to leave by its due time (app/sms/waves.py).
    """
    now = now or utcnow()
    queued = 0
    upcoming = fusing_sessions.upcoming(now)
    if upcoming is not None:
        session = fusing_sessions.session_for(upcoming)
        for wave in waves.plan(upcoming, subscribers.active_by_zone_and_language()):
            # A reminder missed by more than half its lead (scheduler down) is not sent late.
            if wave.begins <= now and not waves.missed(
                upcoming.starts_at, wave.offset_minutes, now
            ):
                queued += _plan_wave(session.starts_at, wave.offset_minutes)
    _requeue_stuck(utcnow())  # claims and rows are stamped with the real time
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


def _enqueue(ids: list[int], again: str = "") -> None:
    # A chunk is about a minute of the sender's rate, which every worker shares: a job then
    # stays well inside its timeout however many workers run.
    size = max(1, min(BATCH, int(settings.SMS_SEGMENTS_PER_SECOND * 60)))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        jobs.SEND_BATCH.enqueue(chunk, job_id=f"{SEND_JOB}{again}{chunk[0]}-{chunk[-1]}")


def _requeue_stuck(now: datetime) -> None:
    """Texts a dead worker left behind: queued ones are sent again; claimed ones are checked.

    `now` is the real time (utcnow()): claims and rows are stamped with it.
    """
    stale = now - timedelta(seconds=settings.SMS_STUCK_SECONDS)
    stuck = db.session.scalars(
        select(TextMessage).where(
            TextMessage.status == TextStatus.SENDING, TextMessage.claimed_at < stale
        )
    ).all()
    # A claimed text may or may not have left: Twilio is asked before it is sent again.
    again = {message.id for message in stuck if not _left(message)}
    if any(job.startswith(SEND_JOB) for job in jobs.SEND_BATCH.queue().get_job_ids()):
        return  # chunks of a wave are still queued: what waits is theirs, not left behind
    waiting = db.session.scalars(
        select(TextMessage.id).where(
            TextMessage.status == TextStatus.QUEUED, TextMessage.created_at < stale
        )
    ).all()
    # Fresh job ids: a chunk of the same texts may still be running in a worker's horse.
    _enqueue(sorted(again | set(waiting)), again=f"again-{int(now.timestamp())}-")


def _left(message: TextMessage) -> bool:
    """Settle a claimed text: whether it left (else it is queued again)."""
    if message.subscriber.number_encrypted is None:  # opted out meanwhile: nothing more to send
        message.status = TextStatus.SENT
        db.session.commit()
        return True
    sid = rest.sent_since(decrypt(message.subscriber.number_encrypted), message.claimed_at)
    if sid is None:
        message.status, message.claimed_at = TextStatus.QUEUED, None
        db.session.commit()
        return False
    outbox.handed_over(message, sid)  # its reports now find it, and it is deleted at Twilio
    return True
