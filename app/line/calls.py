"""A call's life on the line: arrival, timeline, and its end, whenever it comes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import abort
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm import make_transient_to_detached

from app import i18n, identity_keys, jobs
from app.db import db, dialect_insert, locked, utcnow
from app.identity import Caller
from app.infra import redis, table_cache
from app.line import pool
from app.line.arrival_script import ARRIVE
from app.line.models import Call, CallEvent, CallMode, CallState, Outcome, Step
from app.settings import settings
from app.telephony.webhooks import CallStatusCallback, is_call_sid, whole_number

log = logging.getLogger(__name__)
STATE_RACES = 10  # how often an end may find the call's state moved before it gives up
LANGUAGES = "languages"  # identity -> the language chosen (app.line.languages keeps it)
GREETED = "greeted"  # CallSids the greeting answered, by time: workers.greetings finds the lost
ARRIVAL_SCRIPT = "mindfuse.arrival"
ARRIVALS_KEPT = 7200  # seconds an hour's arrivals are kept: past the hour, for a late retry
KNOWN = "known"  # identity -> when it last waited to talk: a returning caller's short greeting


def record(call: Call, kind: str, detail: str | None = None, at: datetime | None = None) -> None:
    """Add a step to the call's timeline (committed with the caller's transaction).

    `kind` is a Step, the Outcome of a turn-away, or a Twilio progress status.
    """
    db.session.add(CallEvent(call=call, kind=kind, detail=detail, at=at or utcnow()))


def set_outcome(call: Call, outcome: Outcome) -> None:
    """Set how the call went; once paired, a call stays counted as paired."""
    if call.outcome != Outcome.PAIRED:
        call.outcome = outcome


def ending_outcome(call: Call) -> Outcome:
    """How a call that ended with no outcome went: a Fusing Hour guest never placed in a
    room hung up waiting in the lobby; anyone else left at a menu."""
    return Outcome.HUNG_UP_WAITING if call.mode == CallMode.FUSING else Outcome.HUNG_UP_MENU


def turn_away(call: Call, outcome: Outcome) -> None:
    """Record that the line did not connect this call, and why (blocked, rate limited...)."""
    set_outcome(call, outcome)
    record(call, outcome)
    db.session.commit()


def by_sid(sid: str) -> Call | None:
    """The call with this Twilio CallSid, if the line has seen it."""
    return db.session.scalar(select(Call).where(Call.sid == sid))


def _valid_sid(sid: str) -> str:
    if not is_call_sid(sid):
        abort(400, "not a Twilio CallSid")
    return sid


_ARRIVALS: dict[str, object] = {}


def _arrival_statement():
    """INSERT .. ON CONFLICT (sid) DO NOTHING RETURNING the new row, built once per dialect."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _ARRIVALS:
        table = Call.__table__
        insert = dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.sid])
        _ARRIVALS[dialect] = insert.returning(*table.c)
    return _ARRIVALS[dialect]


def hold_waiting(call: Call) -> bool:
    """Lock the caller's row until the transaction ends, and say whether they still wait on
    the wait `call` holds, read afresh: two claims for one caller run one after the other,
    and none is made for a caller paired, timed out or gone since `call` was read."""
    row = locked(select(Call.state, Call.wait_token).where(Call.id == call.id)).one_or_none()
    return row is not None and row.state == CallState.WAITING and row.wait_token == call.wait_token


def waiting_longest_first(limit: int) -> list[Call]:
    """The calls waiting now (at most `limit`), the longest on the line first."""
    return db.session.scalars(
        select(Call)
        .where(Call.state == CallState.WAITING, Call.wait_token.is_not(None))
        .order_by(Call.arrived_at, Call.id)
        .limit(limit)
    ).all()


def caller_of(sid: str, from_number: str | None) -> Caller:
    """Who is calling on this CallSid (400 for a malformed sid); touches no store."""
    return identity_keys.caller(from_number, _valid_sid(sid))


def arrive(
    sid: str, caller: Caller, arrived_at: datetime | None = None, *, language: str | None = None
) -> Call:
    """Record a call, or return it when it is recorded already: one statement.

    The greeting writes nothing; the first webhook that needs the call's row writes it,
    with the arrival time the greeting handed on. Its arrival on the timeline is the row
    itself (arrived_at, withheld). As the first statement of a request it runs on its own,
    without BEGIN and COMMIT round trips, and the inserted row, returned whole, becomes the
    session's Call without another SELECT, loaded as if read.
    """
    values = {
        "sid": sid,
        "identity": caller.identity,
        "masked_number": caller.masked,
        "country": caller.country,
        "withheld": caller.withheld,
    }
    if arrived_at is not None:
        values["arrived_at"] = arrived_at
    values["language"] = i18n.valid(language) or i18n.default()
    options = {} if db.session().get_transaction() else {"isolation_level": "AUTOCOMMIT"}
    row = db.session.connection(execution_options=options).execute(_arrival_statement(), values)
    inserted = row.mappings().first()
    db.session.commit()  # ends the autocommit connection's use: later writes get a transaction
    if inserted is None:  # another webhook of the same call wrote it first
        return by_sid(sid)
    call = Call(**inserted)
    make_transient_to_detached(call)  # as if loaded: added after the commit, nothing expires
    db.session.add(call)
    return call


def current(
    sid: str,
    from_number: str | None,
    arrived_at: datetime | None = None,
    language: str | None = None,
) -> Call:
    """The call a webhook is about, recorded now if this is the first webhook to need it
    (in `language`, the one its greeting spoke).

    Straight from the greeting (`arrived_at` given) the row is most likely not written yet:
    the insert comes first and finds the row itself if it is there.
    """
    if arrived_at is not None:
        return arrive(sid, caller_of(sid, from_number), arrived_at, language=language)
    return by_sid(_valid_sid(sid)) or arrive(sid, caller_of(sid, from_number), language=language)


def epoch_ms(moment: datetime) -> int:
    """A moment as whole milliseconds since the epoch (the greeting's stamps and notes)."""
    return int(moment.timestamp() * 1000)


def arrival_time(stamp: str | None) -> datetime | None:
    """The arrival time the greeting put in its URLs (milliseconds since the epoch)."""
    try:
        return datetime.fromtimestamp(int(stamp or "") / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class Arrival:
    """What the greeting's round trip found: over the hourly allowance, the chosen language."""

    over_limit: bool
    remembered: bytes | None
    returning: bool = False  # waited to talk before, within RETENTION_DAYS


def count_arrival(sid: str, identity: str, at: datetime) -> Arrival:
    """Count this call, arrived `at`, against the caller's hourly allowance (kept in Redis)
    and note its CallSid as greeted; also reads the language the caller chose before.

    Calls are counted by CallSid, not by request: the hour's CallSids of an identity sit in
    a sorted set by first arrival, so a replayed or retried greeting counts nothing more
    and keeps the verdict its call first had (its place never moves). The same round trip
    reads the versions of the per-process caches the call needs next.
    """
    # A sorted set under a name of its own: the sets scored by time of before ("arrivals")
    # may still be live while an upgrade rolls out.
    arrivals = redis.key("arrival-order", identity, str(int(at.timestamp() // 3600)))
    newest, tag = identity_keys.newest(identity), identity_keys.newest_tag()
    names, version_keys = table_cache.version_keys()
    (arrive,) = redis.scripts(ARRIVAL_SCRIPT, ARRIVE)
    keys = [arrivals, redis.key(GREETED), redis.key(LANGUAGES, tag), redis.key(KNOWN, tag)]
    found = redis.run(arrive, [*keys, *version_keys], [sid, epoch_ms(at), newest, ARRIVALS_KEPT])
    rank, remembered, last_waited = found[:3]
    table_cache.remember(names, found[3:])
    last_waited = None if last_waited is None else float(last_waited)
    returning = last_waited is not None and last_waited > _known_since(at)
    return Arrival(rank >= settings.CALLS_PER_HOUR_LIMIT, remembered, returning)


def _known_since(at: datetime) -> float:
    return (at - timedelta(days=settings.RETENTION_DAYS)).timestamp()


def note_waited(call: Call, at: datetime | None = None) -> None:
    """The caller went on to wait for someone: from now on the greeting is the short one.

    Kept by identity (the HMAC under the newest key, never a number) in one sorted set by
    time, trimmed to RETENTION_DAYS as it is written; nothing is kept for a withheld caller
    (whose identity is the call's own). A Redis failure only costs the short greeting.
    """
    if call.withheld:
        return
    at = at or utcnow()
    known = redis.key(KNOWN, identity_keys.newest_tag())
    try:
        with redis.connection().pipeline(transaction=False) as pipe:
            pipe.zadd(known, {identity_keys.newest(call.identity): at.timestamp()})
            pipe.zremrangebyscore(known, "-inf", _known_since(at))
            pipe.execute()
    except RedisError:
        log.warning("a caller's wait could not be noted for the short greeting")


def status_changed(callback: CallStatusCallback) -> None:
    """Apply a call status callback; duplicates and stale ones change nothing."""
    call = by_sid(callback.call_sid)
    if call is None:
        if callback.ended:  # it ended at the greeting, which writes nothing
            end_unseen(
                callback.call_sid,
                callback.from_number,
                callback.call_status,
                callback.duration,
                callback.at,
            )
        return
    sequence = callback.sequence
    if call.state == CallState.ENDED or (sequence and sequence <= call.status_sequence):
        return
    if callback.ended:
        end(call, callback.call_status, callback.duration, callback.at)
        return
    call.status_sequence = sequence
    record(call, callback.call_status)
    db.session.commit()


def end_unseen(
    sid: str, from_number: str | None, status: str, duration: int | str | None, at: datetime
) -> None:
    """Record and end a call that ended before any webhook wrote it (at the greeting)."""
    began = at - timedelta(seconds=whole_number(duration))
    end(arrive(sid, caller_of(sid, from_number), began), status, duration, at)


def end(call: Call, status: str, duration: int | str | None, at: datetime) -> None:
    """Close a call wherever it was: leave the pool, settle the outcome, rescue a partner."""
    for _ in range(STATE_RACES):
        prior = call.state
        if prior == CallState.ENDED:
            db.session.rollback()
            return
        # From the state read only: a pairing committed meanwhile is seen, not overwritten.
        done = db.session.execute(
            update(Call)
            .where(Call.id == call.id, Call.state == prior)
            .values(state=CallState.ENDED, ended_at=at, duration_seconds=whole_number(duration))
        ).rowcount
        if done:
            break
        db.session.rollback()  # its state moved meanwhile: read it again
    else:
        raise RuntimeError(f"call {call.id} kept changing state while it ended")
    if prior == CallState.WAITING:
        call.end_wait(at)
        set_outcome(call, Outcome.HUNG_UP_WAITING)
    elif call.outcome is None:  # nothing more said how it went: it ended at a menu or lobby
        set_outcome(call, ending_outcome(call))
    record(call, Step.ENDED, status, at=at)
    db.session.commit()
    # The database already says the call ended: what follows may fail without losing that.
    try:
        if prior == CallState.WAITING and call.wait_token:
            pool.leave(call.wait_token)
        if prior == CallState.MATCHED:
            jobs.RESCUE_PARTNER.enqueue(call.id, call.room)
        if call.mode == CallMode.FUSING:
            jobs.GUEST_LEFT.enqueue(call.id)
        jobs.AFTER_CALL.enqueue(call.id)
    except Exception:  # noqa: BLE001 - Redis down must not lose the status callback
        log.exception("follow-up work for an ended call could not be queued")
