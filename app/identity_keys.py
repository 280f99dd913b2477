"""Re-keying the caller identity without losing anyone.

An identity is HMAC(NUMBER_HASH_KEY, E.164). To replace a key that may have leaked, a new
key is appended to NUMBER_HASH_REKEYS on every process and `mindfuse rekey` is run: it
wraps every stored identity in one more HMAC under the new key (app.identity.current), so
blocks, reports, memberships and subscribers stay attached to the same callers although no
number is stored. From then on the old key alone recovers nothing.

Until the command has run, identities in hand (a call's row, a payment's metadata) keep the
generation the database is at, and look-ups match that form and the newest alike: both are
computable from it. The generation the stored rows are at is kept in the `identity_key`
table (one row per applied re-key) and cached per process like the other small tables.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import Integer, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from app.db import UTCDateTime, db, utcnow
from app.identity import Caller, current, generation, hash_keys, identify
from app.infra import table_cache
from app.settings import this_app

log = logging.getLogger(__name__)
APPLIED = "mindfuse.identity_keys.applied"
_columns: list[InstrumentedAttribute] = []


class IdentityKey(db.Model):
    """A re-key applied to every stored identity (generation 1 is the first re-key)."""

    generation: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(16))  # tells which key, not the key
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


table_cache.watch("identity_keys", IdentityKey)


def rekeyed(*columns: InstrumentedAttribute) -> None:
    """Declare columns that hold caller identities: `mindfuse rekey` re-keys them."""
    _columns.extend(columns)


def fingerprint(key: str) -> str:
    """A short public tag of a key, to tell keys apart in the table and in messages."""
    return hmac.new(key.encode(), b"mindfuse identity key", hashlib.sha256).hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _tag(key: str) -> str:
    return fingerprint(key)[:8]


def newest_tag() -> str:
    """A short tag of the newest key: Redis names that hold identities carry it, so adding a
    key starts them afresh (they are rebuilt from the database) instead of mixing forms."""
    return _tag(hash_keys()[-1])


def applied() -> int:
    """The generation every stored identity has been re-keyed to (0: never re-keyed).

    Once every configured key is applied nothing can move it, and no request asks again.
    """
    known = this_app().extensions.get(APPLIED)
    if known is not None and known >= len(hash_keys()) - 1:
        return known
    found = table_cache.cached("identity_keys", _applied)
    current_app.extensions[APPLIED] = found
    return found


def _applied() -> int:
    return db.session.scalar(select(func.coalesce(func.max(IdentityKey.generation), 0))) or 0


def caller(raw: str | None, call_sid: str) -> Caller:
    """Identify a caller with the configured keys, in the stored rows' generation."""
    keys = hash_keys()
    found = identify(raw, keys, call_sid)
    at = min(applied(), len(keys) - 1)
    return Caller(found.forms[at], found.withheld, found.forms, found.number)


def in_hand(identity: str) -> str:
    """An identity in hand brought to the stored rows' generation (as it is if it is there)."""
    keys = hash_keys()
    return current(identity, keys[: min(applied(), len(keys) - 1) + 1])


def newest(identity: str) -> str:
    """The identity under every configured key: what in-memory comparisons use."""
    return current(identity, hash_keys())


def forms(identity: str) -> tuple[str, ...]:
    """What a stored row of this identity may hold now: its form in hand, then newer ones."""
    keys = hash_keys()
    found = [identity]
    for step in range(generation(identity) + 1, len(keys)):
        found.append(current(found[-1], keys[: step + 1]))
    return tuple(dict.fromkeys(found))


def rekey() -> dict[str, int]:
    """Re-key every declared column to the newest key; record it. Returns rows per column.

    Safe to run again (a row already re-keyed is left alone) and while the line runs.
    """
    keys = hash_keys()
    target = len(keys) - 1
    counts = {_name(column): _rekey(column, keys) for column in _columns}
    known = set(db.session.scalars(select(IdentityKey.generation)))
    for step in range(1, target + 1):
        if step not in known:
            db.session.add(IdentityKey(generation=step, fingerprint=fingerprint(keys[step])))
    db.session.commit()
    # Rows written meanwhile by a request that read the generation before it moved.
    for column in _columns:
        counts[_name(column)] += _rekey(column, keys)
    return counts


def mismatched() -> list[str]:
    """Applied re-keys whose key is not the one configured at that place (or is missing)."""
    keys = hash_keys()
    problems = []
    for row in db.session.scalars(select(IdentityKey).order_by(IdentityKey.generation)):
        if row.generation >= len(keys):
            problems.append(f"re-key {row.generation} was applied but is not configured")
        elif fingerprint(keys[row.generation]) != row.fingerprint:
            problems.append(f"re-key {row.generation} is not the key that was applied")
    return problems


def _name(column: InstrumentedAttribute) -> str:
    return f"{column.class_.__tablename__}.{column.key}"


def _rekey(column: InstrumentedAttribute, keys: tuple[str, ...]) -> int:
    """Re-key each identity of a column not yet at the newest key; rows it moved.

    One transaction per identity: the line runs meanwhile, and a transaction that held the
    rows of many identities, taken in no order a live request keeps (a pairing holds two
    callers' rows), could deadlock with it.
    """
    model, target = column.class_, len(keys) - 1
    stored = db.session.scalars(select(column).where(column.is_not(None)).distinct()).all()
    stale = [identity for identity in stored if generation(identity) < target]
    done = 0
    for identity in stale:
        try:
            done += db.session.execute(
                update(model)
                .where(column == identity)
                .values({column.key: current(identity, keys)})
            ).rowcount
            db.session.commit()
        except IntegrityError:  # a row of the newer form exists (written meanwhile):
            db.session.rollback()
            log.warning("%s: a row under an older key is left beside its newer one", _name(column))
    return done
