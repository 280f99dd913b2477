"""Deleting the line's records at Twilio, each asked for until Twilio deletes it.

Twilio refuses (20009) until a call or text is complete and for a while after; each refusal
sets a longer wait (app.line.purges.next_wait) and queues the next ask. The sweep asks for
those whose ask was lost and warns, once, of any still refused after a day.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import purges
from app.line.calls import by_sid, record
from app.line.models import Purge, RecordKind, Step
from app.sms.models import TextMessage
from app.telephony import rest

log = logging.getLogger(__name__)
REPLY_WAIT = timedelta(hours=1)  # how long an inbound text waits for its replies to show up
WARN_AFTER = timedelta(days=1)
LATE = timedelta(minutes=5)  # an ask this far past due lost its job (Redis flushed, a crash)
BATCH = 500
LOCK_SECONDS = jobs.SWEEP_PURGES.timeout


class RepliesNotFound(Exception):
    """An inbound text's replies are not listed at Twilio yet: it stays, to find them by."""

    code = None
    verdict = rest.Verdict.NOT_YET


def purge(purge_id: int, attempt: int = 0) -> str:
    """Ask Twilio once to delete a record; when refused, queue the next ask."""
    row = db.session.get(Purge, purge_id)
    if row is None or row.attempts != attempt:
        return "stale"  # deleted already, or a later ask has taken over
    return _ask(row)


def sweep_purges() -> dict[str, int]:
    """Recurring: ask for the deletions whose ask was lost; warn of those refused for a day."""
    conn = redis.connection()
    lock = redis.key("purge-sweep")
    if not conn.set(lock, 1, nx=True, ex=LOCK_SECONDS):
        return {"busy": 1}  # the last sweep is still running
    try:
        now = utcnow()
        late = db.session.scalars(
            select(Purge).where(Purge.due_at < now - LATE).order_by(Purge.due_at).limit(BATCH)
        ).all()
        counts = Counter(_ask(row) for row in late)
        counts["warned"] = _warn_of_the_long_refused(now)
        return dict(counts)
    finally:
        conn.delete(lock)


def _ask(row: Purge) -> str:
    try:
        if row.kind == RecordKind.CALL:
            rest.delete_call_record(row.sid)
        elif row.kind == RecordKind.INBOUND_TEXT:
            _delete_inbound(row)
        else:
            rest.delete_message_record(row.sid)
    except rest.Gone:
        pass  # deleted already (by an earlier ask, or by hand): what was wanted
    except (rest.TelephonyError, RepliesNotFound) as refusal:
        return _later(row, refusal)
    _done(row)
    return "purged"


def _delete_inbound(row: Purge) -> None:
    """Delete a text to the line, after noting the replies sent to its sender for deletion
    (Twilio names the sender only on the text itself: it goes last)."""
    replies = rest.replies_to(row.sid)
    for sid in replies:
        purges.schedule(sid, RecordKind.MESSAGE, delay=0)
    row.replies = max(0, row.replies - len(replies))
    if row.replies:
        if utcnow() - row.created_at < REPLY_WAIT:
            raise RepliesNotFound(row.sid)
        log.warning("a reply to text %s never showed up at Twilio; the text is deleted", row.sid)
    rest.delete_message_record(row.sid)


def _later(row: Purge, refusal: rest.TelephonyError | RepliesNotFound) -> str:
    row.attempts += 1
    row.last_code = refusal.code
    wait = purges.next_wait(row.attempts)
    row.due_at = utcnow() + timedelta(seconds=wait)
    db.session.commit()
    if refusal.verdict is rest.Verdict.PERMANENT:  # not a wait: say so, and still ask again
        log.warning("Twilio refused to delete %s %s: %s", row.kind, row.sid, refusal)
    purges.ask_again(row.id, row.attempts, wait)
    return "later"


def _done(row: Purge) -> None:
    now = utcnow()
    if row.kind == RecordKind.CALL:
        call = by_sid(row.sid)
        if call is not None and call.purged_at is None:
            call.purged_at = now
            record(call, Step.PURGED)
    elif row.kind == RecordKind.MESSAGE:
        for text in db.session.scalars(select(TextMessage).where(TextMessage.sid == row.sid)):
            text.purged_at = text.purged_at or now
    db.session.delete(row)
    db.session.commit()


def _warn_of_the_long_refused(now) -> int:
    rows = db.session.scalars(
        select(Purge).where(Purge.created_at < now - WARN_AFTER, Purge.warned_at.is_(None))
    ).all()
    if rows:
        codes = Counter(str(row.last_code) for row in rows)
        log.warning(
            "%d records at Twilio still not deleted after a day (Twilio's answers: %s; "
            "e.g. %s); the line keeps asking, hourly",
            len(rows),
            dict(codes),
            ", ".join(row.sid for row in rows[:5]),
        )
        for row in rows:
            row.warned_at = now
        db.session.commit()
    return len(rows)
