"""The waiting pool in Redis: atomic match-or-wait and leave, so exactly one side wins."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.infra import redis
from app.line.pool_scripts import LEAVE, MATCH_OR_WAIT
from app.settings import settings

SCRIPTS = "mindfuse.pool.scripts"


@dataclass(frozen=True)
class Placement:
    """Where match-or-wait put a caller: paired into someone's room, or waiting in a new one."""

    paired: bool
    room: str
    partner_call_id: int | None


def _scripts():
    return redis.scripts(SCRIPTS, MATCH_OR_WAIT, LEAVE)


def _now_ms() -> int:
    return int(time.time() * 1000)


def match_or_wait(
    token: str,
    identity: str,
    room: str,
    call_id: int,
    excluded: set[str] = frozenset(),
    pool_name: str = "pool",
    stale_after: int | None = None,
) -> Placement:
    """Take the oldest compatible waiting caller, or join the pool waiting in `room`.

    Entries older than `stale_after` seconds (default: the wait timeout and a minute) are
    dropped as left behind by a call that is gone.
    """
    found = _match(pool_name, stale_after, excluded, [token, identity, room, call_id, "1"])
    return found or Placement(False, room, None)


def take(
    identity: str, excluded: set[str] = frozenset(), pool_name: str = "pool"
) -> Placement | None:
    """Take the oldest compatible waiting caller, if any, without joining the pool."""
    return _match(pool_name, None, excluded, ["", identity, "", 0, "0"])


def _match(
    pool_name: str, stale_after: int | None, excluded: set[str], caller: list
) -> Placement | None:
    """Run MATCH_OR_WAIT for `caller` (token, identity, room, call_id, wait flag)."""
    stale_seconds = stale_after or settings.WAIT_TIMEOUT_SECONDS + 60
    now = _now_ms()
    match, _ = _scripts()
    result = match(
        keys=[redis.key(pool_name)],
        args=[
            redis.key(),
            now,
            now - stale_seconds * 1000,
            *caller,
            *sorted(excluded),
        ],
    )
    kind, _token, found_room, found_call = (x.decode() for x in result)
    if kind == "paired":
        return Placement(True, found_room, int(found_call))
    return None


def leave(token: str, pool_name: str = "pool") -> bool:
    """Remove a waiting caller; True only for the one caller of this that removed it."""
    _, leave_script = _scripts()
    return bool(leave_script(keys=[redis.key(pool_name)], args=[redis.key(), token]))


def clear(pool_name: str) -> None:
    """Empty a pool (everyone in it was placed some other way)."""
    conn = redis.connection()
    tokens = conn.zrange(redis.key(pool_name), 0, -1)
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(redis.key(pool_name))
        for token in tokens:
            pipe.delete(redis.key("wait", token.decode()))
        pipe.execute()


def restore(token: str, identity: str, room: str, call_id: int, since_ms: int) -> None:
    """Re-add a waiting caller with their original arrival time (after a Redis restart)."""
    conn = redis.connection()
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(
            redis.key("wait", token),
            mapping={"identity": identity, "room": room, "call_id": call_id, "since": since_ms},
        )
        pipe.zadd(redis.key("pool"), {token: since_ms})
        pipe.execute()


def waiting_count() -> int:
    """How many callers are waiting in the pool now."""
    return int(redis.connection().zcard(redis.key("pool")))


def is_waiting(token: str) -> bool:
    """Whether a token is in the pool."""
    return redis.connection().zscore(redis.key("pool"), token) is not None
