"""Each process keeps the Fusing Hour schedule until it changes.

Every incoming call asks whether a Fusing Hour is on; reading the rule and its dates from
the database each time costs two queries. Instead a version number in Redis is bumped after
any commit that touches the schedule's tables, and a process reloads only when it moves.
"""

from __future__ import annotations

import logging
import time
from itertools import chain

from flask import current_app
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import live

log = logging.getLogger(__name__)
EXTENSION = "mindfuse.fusing.schedule"
MAX_AGE = 60.0  # seconds; a safety net should a version bump ever be lost
CHANGED = "mindfuse.schedule_changed"


def _version_key() -> str:
    return live.key("fusing", "schedule-version")


def cached(load):
    """The schedule from this process's cache, or from `load()` when it has changed."""
    try:
        version = live.connection().get(_version_key())
    except RedisError:
        return load()
    found = current_app.extensions.get(EXTENSION)
    now = time.monotonic()
    if found and found[0] == version and now - found[1] < MAX_AGE:
        return found[2]
    value = load()
    current_app.extensions[EXTENSION] = (version, now, value)
    return value


def watch(*models) -> None:
    """Bump the version after any commit that added, changed or removed one of these rows."""

    @event.listens_for(Session, "after_flush")
    def note(session, _context):
        touched = chain(session.new, session.dirty, session.deleted)
        if any(isinstance(row, models) for row in touched):
            session.info[CHANGED] = True

    @event.listens_for(Session, "after_commit")
    def bump(session):
        if session.info.pop(CHANGED, False):
            try:
                live.connection().incr(_version_key())
            except RedisError:
                log.warning("the schedule changed but its version could not be bumped")

    @event.listens_for(Session, "after_rollback")
    def forget(session):
        session.info.pop(CHANGED, None)
