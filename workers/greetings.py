"""Calls that ended at the greeting while their status callback was lost.

The greeting writes nothing: a call's row comes from its next webhook (a key, the silence or
the hang-up's status callback). It notes each CallSid in Redis instead, and this sweep looks
up, at Twilio, those that no webhook wrote minutes later. One that ended is written (masked)
and ended like any call, so it is logged and its record at Twilio is purged.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import calls
from app.line.models import Call
from app.settings import settings
from app.telephony import rest
from app.telephony.webhooks import TERMINAL_STATUSES

log = logging.getLogger(__name__)
SETTLED_SECONDS = 120  # by then a call still on the line has pressed a key or fallen through
FORGET_SECONDS = 86400  # a CallSid Twilio keeps reporting as live is not looked up for ever
BATCH = 500
LOCK_SECONDS = jobs.RECONCILE_GREETINGS.timeout  # sweeps must not overlap (offsets would shift)


def reconcile_greetings() -> dict[str, int]:
    """Write and end the greeted calls that no webhook wrote; forget the rest."""
    conn = redis.connection()
    lock = redis.key("greetings-sweep")
    if not conn.set(lock, 1, nx=True, ex=LOCK_SECONDS):
        return {"busy": 1}  # the last sweep is still running
    try:
        return _sweep(conn, redis.key(calls.GREETED))
    finally:
        conn.delete(lock)


def _sweep(conn, key: str) -> dict[str, int]:
    now = utcnow()
    counts = Counter(dict.fromkeys(("checked", "recorded", "unknown", "unreachable"), 0))
    counts["forgotten"] = conn.zremrangebyscore(
        key, 0, calls.epoch_ms(now - timedelta(seconds=FORGET_SECONDS))
    )
    if counts["forgotten"]:
        log.warning(
            "%d greeted calls could not be looked up at Twilio for a day", counts["forgotten"]
        )
    settled = calls.epoch_ms(now - timedelta(seconds=SETTLED_SECONDS))
    offset = 0
    while sids := [s.decode() for s in conn.zrangebyscore(key, 0, settled, offset, BATCH)]:
        counts["checked"] += len(sids)
        written = set(db.session.scalars(select(Call.sid).where(Call.sid.in_(sids))))
        done = written | _record_lost([s for s in sids if s not in written], counts)
        if done:
            conn.zrem(key, *done)
        offset += len(sids) - len(done)  # those still live, or not fetched, stay for next time
    if counts["unknown"] or counts["unreachable"]:
        log.warning(
            "greeted calls not found at Twilio: %d; not fetched: %d (kept)",
            counts["unknown"],
            counts["unreachable"],
        )
    return dict(counts)


def _record_lost(sids: list[str], counts: Counter) -> set[str]:
    """Write and end those of `sids` that ended at Twilio; the ones done with."""
    if not sids:
        return set()
    found, gone = rest.fetch_calls(sids, settings.RECONCILE_MAX_IN_FLIGHT)
    counts["unknown"] += len(gone)  # deleted at Twilio already: nothing left to purge
    counts["unreachable"] += len(sids) - len(found) - len(gone)
    done = set(gone)
    for sid, remote in found.items():
        if remote.status not in TERMINAL_STATUSES:
            continue  # still on the line: its next webhook will write it
        ended = remote.ended or utcnow()
        calls.end_unseen(sid, remote.from_number, remote.status, remote.duration, ended)
        done.add(sid)
        counts["recorded"] += 1
    return done
