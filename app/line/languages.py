"""Which language a caller is greeted in: the one they chose before, else the number's.

A choice is kept for the caller's identity (the HMAC, never a number) in the database and,
for the greeting, which sends no SQL, in one Redis hash read in the greeting's round trip.
If Redis loses the hash, `restore` (run by the reconciling job) writes it back.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import select

from app import i18n, identity_keys
from app.db import db, dialect_insert, utcnow
from app.infra import redis
from app.line.calls import LANGUAGES as HASH
from app.line.models import Call, CallerLanguage

log = logging.getLogger(__name__)

RESTORED = "languages:kept"  # set while the hash is known to hold every choice


def key() -> str:
    """The Redis hash of the callers' chosen languages."""
    return redis.key(HASH, identity_keys.newest_tag())


def greeting_language(remembered: bytes | str | None, called: str | None, withheld: bool) -> str:
    """The language of a greeting: the caller's earlier choice, else the called number's."""
    if not withheld and remembered:
        chosen = remembered.decode() if isinstance(remembered, bytes) else remembered
        if i18n.valid(chosen):
            return chosen
    return i18n.language_of_number(called)


def choose(call: Call, code: str) -> None:
    """The caller chose `code` at the greeting: this call speaks it, and so will the next
    (withheld callers have a per-call identity: nothing is kept for them)."""
    call.language = code
    if call.withheld:
        db.session.commit()
        return
    table = CallerLanguage.__table__
    values = {"identity": call.identity, "language": code, "chosen_at": utcnow()}
    statement = dialect_insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.identity],
        set_={"language": code, "chosen_at": values["chosen_at"]},
    )
    db.session.execute(statement)
    db.session.commit()
    try:
        redis.connection().hset(key(), identity_keys.newest(call.identity), code)
    except RedisError:  # kept in the database; this call goes on in the language chosen
        log.warning("a caller's language choice could not be noted in Redis")


def restore() -> int:
    """Write every kept choice back into Redis if the hash was lost (a Redis restart)."""
    conn = redis.connection()
    kept = redis.key(RESTORED, identity_keys.newest_tag())
    if conn.exists(kept):
        return 0
    rows = db.session.execute(select(CallerLanguage.identity, CallerLanguage.language)).all()
    with conn.pipeline(transaction=True) as pipe:
        if rows:
            pipe.hset(key(), mapping={identity_keys.newest(i): code for i, code in rows})
        pipe.set(kept, 1)
        pipe.execute()
    return len(rows)
