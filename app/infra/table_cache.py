"""Per-process caches of small, rarely changed tables, kept until a commit changes them.

Every incoming call asks whether a Fusing Hour is on and whether the caller is blocked;
reading those rows each time costs queries on the hot path. Instead each cache has a
version number in Redis, bumped after any commit that touches its tables, and a process
reloads only when the version moves (or, as a safety net, after a minute). A request reads
all the versions at once, and can do so in a round trip it makes anyway (`version_keys`).
"""

from __future__ import annotations

import logging
import time
from itertools import chain

from flask import g, has_request_context
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.infra import redis
from app.settings import app_context, this_app

log = logging.getLogger(__name__)
MAX_AGE = 60.0
CHANGED = "mindfuse.changed_caches"
MEMO = "mindfuse_cache_versions"
_watched: dict[str, tuple[type, ...]] = {}


def _version_key(name: str) -> str:
    return redis.key("version", name)


ONE_REQUEST = "mindfuse_one_request"


def serving_one_request() -> None:
    """Mark the current app context as one request's own, though Flask dispatched no request
    in it (app.voice.direct): the versions it reads are kept for it as in a request."""
    setattr(g, ONE_REQUEST, True)


def _in_request() -> bool:
    """Whether versions read now are kept for the rest of the request (read without the
    proxy: every greeting asks several times; False outside an app context)."""
    if has_request_context():
        return True
    context = app_context()
    return context is not None and context.g.get(ONE_REQUEST, False)


def _remember(versions: dict) -> dict:
    if _in_request():
        setattr(g, MEMO, versions)
    return versions


def _versions() -> dict:
    """Every cache's version: one MGET per request (per call outside a request)."""
    known = app_context().g.get(MEMO) if _in_request() else None
    if known is None or len(known) != len(_watched):
        names, keys = version_keys()
        known = remember(names, redis.connection().mget(keys))
    return known


_KEYS: dict[tuple[str, int], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def version_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every cache's name and the Redis key of its version, for a caller that reads them
    itself (then hands the values to `remember`); built once per key prefix (every greeting
    asks)."""
    prefix = redis.key()
    found = _KEYS.get((prefix, len(_watched)))
    if found is None:
        names = tuple(sorted(_watched))
        found = _KEYS[(prefix, len(_watched))] = (names, tuple(map(_version_key, names)))
    return found


def remember(names: tuple[str, ...], values: list) -> dict:
    """The versions read for `names`, kept for the rest of the request."""
    return _remember(dict(zip(names, values, strict=True)))


def cached(name: str, load):
    """The named value from this process's cache, or from `load()` when it has changed."""
    try:
        version = _versions()[name]
    except RedisError:
        return load()
    extensions = this_app().extensions
    found = extensions.get(f"mindfuse.cache.{name}")
    now = time.monotonic()
    if found and found[0] == version and now - found[1] < MAX_AGE:
        return found[2]
    value = load()
    extensions[f"mindfuse.cache.{name}"] = (version, now, value)
    return value


def watch(name: str, *models: type) -> None:
    """Move the named version after any commit that added, changed or removed these rows."""
    _watched[name] = models


@event.listens_for(Session, "after_flush")
def _note(session, _context) -> None:
    touched = list(chain(session.new, session.dirty, session.deleted))
    for name, models in _watched.items():
        if any(isinstance(row, models) for row in touched):
            session.info.setdefault(CHANGED, set()).add(name)


@event.listens_for(Session, "after_commit")
def _bump(session) -> None:
    changed = session.info.pop(CHANGED, ())
    if changed and _in_request():
        g.pop(MEMO, None)  # read the versions again, this request's own change included
    for name in changed:
        try:
            redis.connection().incr(_version_key(name))
        except RedisError:
            log.warning("%s changed but its version could not be moved", name)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(CHANGED, None)
