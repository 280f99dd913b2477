"""The waiting pool in Redis: atomic match-or-wait and leave, so exactly one side wins.

Each language has a pool of its own (`pool:de`, `fusing:7:pool:en`): a caller is only ever
matched with a caller of the same language, and never looks through anyone else's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app import i18n
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


def pool_key(pool_name: str = "pool", language: str | None = None) -> str:
    """The Redis key of one language's pool (the line's default language if None)."""
    return redis.key(pool_name, language or i18n.default())


def _all_keys(pool_name: str) -> list[str]:
    """The pools of every language the line knows (one no longer offered may still hold some)."""
    return [pool_key(pool_name, code) for code in i18n.LANGUAGES]


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
    language: str | None = None,
) -> Placement:
    """Take the oldest compatible waiting caller of `language`, or join its pool waiting in
    `room`.

    Entries older than `stale_after` seconds (default: the wait timeout and a minute) are
    dropped as left behind by a call that is gone.
    """
    key = pool_key(pool_name, language)
    found = _match(key, stale_after, excluded, [token, identity, room, call_id, "1"])
    return found or Placement(False, room, None)


def take(
    identity: str,
    excluded: set[str] = frozenset(),
    pool_name: str = "pool",
    language: str | None = None,
) -> Placement | None:
    """Take the oldest compatible waiting caller of `language`, if any, without joining."""
    return _match(pool_key(pool_name, language), None, excluded, ["", identity, "", 0, "0"])


def _match(key: str, stale_after: int | None, excluded: set[str], caller: list) -> Placement | None:
    """Run MATCH_OR_WAIT for `caller` (token, identity, room, call_id, wait flag)."""
    stale_seconds = stale_after or settings.WAIT_TIMEOUT_SECONDS + 60
    now = _now_ms()
    match, _ = _scripts()
    result = match(
        keys=[key],
        args=[
            redis.key(),
            now,
            int(now - stale_seconds * 1000),
            *caller,
            *sorted(excluded),
        ],
    )
    kind, _token, found_room, found_call = (x.decode() for x in result)
    if kind == "paired":
        return Placement(True, found_room, int(found_call))
    return None


def leave(token: str, pool_name: str = "pool") -> bool:
    """Remove a waiting caller (whatever their language); True only for the one caller of
    this that removed it."""
    _, leave_script = _scripts()
    return bool(leave_script(keys=_all_keys(pool_name), args=[redis.key(), token]))


def clear(pool_name: str) -> None:
    """Empty a pool, every language's (everyone in it was placed some other way)."""
    conn = redis.connection()
    keys = _all_keys(pool_name)
    tokens = [token for key in keys for token in conn.zrange(key, 0, -1)]
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(*keys)
        for token in tokens:
            pipe.delete(redis.key("wait", token.decode()))
        pipe.execute()


def restore(
    token: str, identity: str, room: str, call_id: int, since_ms: int, language: str | None = None
) -> None:
    """Re-add a waiting caller with their original arrival time (after a Redis restart)."""
    conn = redis.connection()
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(
            redis.key("wait", token),
            mapping={"identity": identity, "room": room, "call_id": call_id, "since": since_ms},
        )
        pipe.zadd(pool_key("pool", language), {token: since_ms})
        pipe.execute()


def waiting_by_language() -> dict[str, int]:
    """How many callers of each language are waiting in the pool now."""
    with redis.connection().pipeline(transaction=False) as pipe:
        for key in _all_keys("pool"):
            pipe.zcard(key)
        counts = pipe.execute()
    return dict(zip(i18n.LANGUAGES, (int(c) for c in counts), strict=True))


def waiting_count() -> int:
    """How many callers are waiting in the pool now, of every language."""
    return sum(waiting_by_language().values())


def settled_tokens(before_ms: int) -> set[str]:
    """The tokens in the pool (of every language) that have waited since before `before_ms`."""
    with redis.connection().pipeline(transaction=False) as pipe:
        for key in _all_keys("pool"):
            pipe.zrangebyscore(key, "-inf", before_ms)
        return {token.decode() for found in pipe.execute() for token in found}


def is_waiting(token: str) -> bool:
    """Whether a token is in the pool (of any language)."""
    with redis.connection().pipeline(transaction=False) as pipe:
        for key in _all_keys("pool"):
            pipe.zscore(key, token)
        return any(score is not None for score in pipe.execute())
