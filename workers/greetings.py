"""Calls that ended at the greeting while their status callback was lost.

The greeting writes nothing: a call's row comes from its next webhook (a key, the silence or
the hang-up's status callback). It notes each CallSid in Redis instead, and this sweep looks
up, at Twilio, those that no webhook wrote minutes later. One that ended is written (masked)
and ended like any call, so it is logged and its record at Twilio is purged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import calls, live
from app.db import db, utcnow
from app.models import Call
from app.telephony import rest

log = logging.getLogger(__name__)
SETTLED_SECONDS = 120  # by then a call still on the line has pressed a key or fallen through
FORGET_SECONDS = 86400  # a CallSid Twilio keeps reporting as live is not looked up for ever
BATCH = 500


def reconcile_greetings() -> dict[str, int]:
    """Write and end the greeted calls that no webhook wrote; forget the rest."""
    conn = live.connection()
    key = live.key(calls.GREETED)
    now = utcnow()
    conn.zremrangebyscore(key, 0, _ms(now - timedelta(seconds=FORGET_SECONDS)))
    settled = _ms(now - timedelta(seconds=SETTLED_SECONDS))
    counts = {"checked": 0, "recorded": 0}
    offset = 0
    while sids := [_text(s) for s in conn.zrangebyscore(key, 0, settled, offset, BATCH)]:
        counts["checked"] += len(sids)
        written = set(db.session.scalars(select(Call.sid).where(Call.sid.in_(sids))))
        done, recorded = _record_lost([s for s in sids if s not in written])
        counts["recorded"] += recorded
        finished = written | done
        if finished:
            conn.zrem(key, *finished)
        offset += len(sids) - len(finished)  # those still live stay for the next sweep
    return counts


def _record_lost(sids: list[str]) -> tuple[set[str], int]:
    """Write and end those of `sids` that ended at Twilio; which are done, how many written."""
    if not sids:
        return set(), 0
    found, gone = rest.fetch_calls(sids, current_app.config["FUSING_MAX_IN_FLIGHT"])
    done, recorded = set(gone), 0
    for sid, remote in found.items():
        if remote.status not in calls.TERMINAL_STATUSES:
            continue  # still on the line: its next webhook will write it
        ended = remote.ended or utcnow()
        call = calls.arrive(sid, calls.caller_of(sid, remote.from_number), remote.started or ended)
        calls.end(call, remote.status, remote.duration, ended)
        done.add(sid)
        recorded += 1
    return done, recorded


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
