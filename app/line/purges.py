"""Records left at Twilio that the line has still to delete: calls, texts, replies, by sid.

Twilio refuses to delete a call or a text until it is complete and for a while after (error
20009; at least a minute, in rare cases days), so a record is noted here when it ends and
asked for again, with a growing wait, until Twilio deletes it (workers.purges).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app import jobs
from app.db import db, dialect_insert, utcnow
from app.line.models import Purge, RecordKind
from app.settings import settings
from app.telephony.webhooks import is_call_sid, is_message_sid

log = logging.getLogger(__name__)
LONGEST_WAIT = 3600  # seconds between two asks, at most: the line asks for days if need be


@dataclass(frozen=True)
class Pending:
    """The records still to delete at Twilio: how many, and since when the oldest waits."""

    count: int
    oldest: datetime | None


def _valid(sid: str, kind: RecordKind) -> bool:
    return is_call_sid(sid) if kind == RecordKind.CALL else is_message_sid(sid)


def schedule(sid: str, kind: RecordKind, *, replies: int = 0, delay: int | None = None) -> None:
    """Note a record to delete at Twilio (once each) and queue the first ask after `delay`
    seconds (PURGE_DELAY_SECONDS by default). Commits."""
    if not _valid(sid, kind):
        log.warning("not a Twilio %s sid: nothing noted for deletion", kind)  # nor logged
        return
    wait = settings.PURGE_DELAY_SECONDS if delay is None else delay
    now = utcnow()
    table = Purge.__table__
    statement = (
        dialect_insert(table)
        .values(
            sid=sid,
            kind=kind,
            replies=replies,
            created_at=now,
            due_at=now + timedelta(seconds=wait),
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[table.c.sid])
        .returning(table.c.id)
    )
    new_id = db.session.execute(statement).scalar()
    db.session.commit()
    if new_id is not None:
        ask_again(new_id, 0, wait)


def ask_again(purge_id: int, attempt: int, delay: float) -> None:
    """Queue ask number `attempt` for a record; if Redis is down, the sweep asks instead."""
    try:
        jobs.PURGE.enqueue(purge_id, attempt, delay=delay, job_id=f"purge-{purge_id}-{attempt}")
    except Exception:  # noqa: BLE001 - the row is kept: workers.purges.sweep_purges finds it
        log.warning("the deletion of a record at Twilio could not be queued; the sweep will")


def next_wait(attempts: int) -> int:
    """Seconds before the next ask, after `attempts` refusals: doubling, an hour at most."""
    return min(settings.PURGE_DELAY_SECONDS * 2**attempts, LONGEST_WAIT)


def pending() -> Pending:
    """How many records the line has still to delete at Twilio, and the oldest's age."""
    count, oldest = db.session.execute(select(func.count(), func.min(Purge.created_at))).one()
    return Pending(count, oldest)
