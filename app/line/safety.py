"""Reports and blocks: a reported pair never meets again; repeated reports block a caller."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import identity_keys
from app.db import db, utcnow
from app.infra import table_cache
from app.line.models import Block, Call, Conversation, Report
from app.settings import settings

log = logging.getLogger(__name__)
REPORT_WINDOW = timedelta(days=30)


def active_block(identity: str) -> Block | None:
    """The block keeping this identity off the line now, if any."""
    now = utcnow()
    return db.session.scalar(
        select(Block).where(
            Block.identity.in_(identity_keys.forms(identity)),
            Block.lifted_at.is_(None),
            Block.expires_at > now,
        )
    )


def is_blocked(identity: str) -> bool:
    """Whether a block keeps this identity off the line now (from the per-process cache)."""
    expires = table_cache.cached("blocks", _active_blocks).get(identity_keys.newest(identity))
    return expires is not None and expires > utcnow()


def _active_blocks() -> dict[str, datetime]:
    rows = db.session.execute(
        select(Block.identity, Block.expires_at).where(
            Block.lifted_at.is_(None), Block.expires_at > utcnow()
        )
    )
    found: dict[str, datetime] = {}
    for stored, expires in rows:  # by the newest form: rows may be re-keyed or not yet
        identity = identity_keys.newest(stored)
        found[identity] = max(expires, found.get(identity, expires))
    return found


table_cache.watch("blocks", Block)


def excluded_partners(identity: str) -> set[str]:
    """Identities this caller must never be paired with: reported by them, or reporting them.

    In their newest form (identity_keys.newest), as the waiting pool holds them, and as
    stored (what a table not yet re-keyed holds). From the per-process cache of reports,
    kept by the newest form, which a re-key does not move.
    """
    newest = identity_keys.newest(identity)
    return {identity, newest} | table_cache.cached("reports", _reported_pairs).get(newest, set())


def _reported_pairs() -> dict[str, set[str]]:
    """Every reported pair, each side under its newest form: both sides, stored and newest."""
    found: dict[str, set[str]] = {}
    for pair in db.session.execute(select(Report.reporter, Report.reported)):
        both = {*pair, *(identity_keys.newest(one) for one in pair)}
        for one in pair:
            found.setdefault(identity_keys.newest(one), set()).update(both)
    return found


table_cache.watch("reports", Report)


def report(reporter: Call, reported: Call, conversation: Conversation | None) -> bool:
    """Record a report; block the reported caller once enough distinct people reported them."""
    db.session.add(
        Report(
            reporter=reporter.identity,
            reported=reported.identity,
            conversation_id=conversation.id if conversation else None,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same report, sent twice
        db.session.rollback()
        return False
    _block_if_reported_enough(reported)
    return True


def _block_if_reported_enough(reported: Call) -> None:
    since = utcnow() - REPORT_WINDOW
    reporters = db.session.scalar(
        select(func.count(func.distinct(Report.reporter))).where(
            Report.reported == reported.identity, Report.created_at > since
        )
    )
    if reporters < settings.REPORTS_TO_BLOCK or active_block(reported.identity):
        return
    days = settings.BLOCK_DAYS
    db.session.add(
        Block(
            identity=reported.identity,
            reason=f"reported by {reporters} people",
            masked_number=reported.masked_number,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    db.session.commit()
    log.info("a caller was blocked for %d days after %d reports", days, reporters)


def lift(block_id: int) -> bool:
    """Lift a block before it expires (an admin's decision)."""
    block = db.session.get(Block, block_id)
    if block is None or block.lifted_at is not None:
        return False
    block.lifted_at = utcnow()
    db.session.commit()
    return True
