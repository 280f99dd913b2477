"""Entitlement and membership state: the first conversation is free, then EUR 4 a month."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.billing.models import Membership, MembershipStatus, PaymentEvent
from app.db import db, dialect_insert, utcnow
from app.line.models import Call, Conversation
from app.settings import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillingEvent:
    """A provider's event, reduced to what the line needs."""

    ref: str
    kind: str  # started, renewed, payment_failed, cancelled
    identity: str | None
    source: str  # the provider's name, kept on the membership
    customer_ref: str | None = None
    subscription_ref: str | None = None
    paid_until: datetime | None = None


def _row(identity: str) -> Membership:
    """The caller's membership row, created if missing: safe when two requests create it at once
    (the end of a room is reported by several callbacks, maybe at the same moment)."""
    db.session.execute(
        dialect_insert(Membership)
        .values(identity=identity, status=MembershipStatus.NONE, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Membership.identity])
    )
    return db.session.scalar(select(Membership).where(Membership.identity == identity))


def entitled(call: Call) -> bool:
    """Whether this caller may be connected: free conversation left, or an active member."""
    if call.withheld:
        return True  # no lasting identity to count a free conversation against
    found = db.session.scalar(select(Membership).where(Membership.identity == call.identity))
    return found is None or found.free_used_at is None or found.status == MembershipStatus.ACTIVE


def conversation_ended(conversation: Conversation) -> None:
    """A conversation long enough to count uses up each caller's free conversation."""
    seconds = conversation.duration_seconds
    if seconds is None or seconds < settings.FREE_CONVERSATION_MIN_SECONDS:
        return
    identities = {p.call.identity for p in conversation.participants if not p.call.withheld}
    for identity in sorted(identities):  # one order for all: concurrent callbacks never deadlock
        row = _row(identity)
        row.free_used_at = row.free_used_at or conversation.ended_at
    db.session.commit()


def apply(event: BillingEvent) -> bool:
    """Apply a provider event once; a replayed event changes nothing and returns False."""
    db.session.add(PaymentEvent(event_ref=event.ref, kind=event.kind))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    row = _find(event)
    if row is None:
        log.warning("payment event %s for an unknown member ignored", event.kind)
        db.session.commit()
        return True
    row.source = event.source
    row.customer_ref = event.customer_ref or row.customer_ref
    row.subscription_ref = event.subscription_ref or row.subscription_ref
    row.status = {
        "started": MembershipStatus.ACTIVE,
        "renewed": MembershipStatus.ACTIVE,
        "payment_failed": MembershipStatus.PAST_DUE,
        "cancelled": MembershipStatus.CANCELLED,
    }[event.kind]
    if event.paid_until:
        row.paid_until = event.paid_until
    db.session.commit()
    return True


def _find(event: BillingEvent) -> Membership | None:
    if event.identity:
        return _row(event.identity)
    if event.subscription_ref:
        return db.session.scalar(
            select(Membership).where(Membership.subscription_ref == event.subscription_ref)
        )
    return None


def set_manual(identity: str, active: bool) -> Membership:
    """Make a membership active (or cancelled) by hand; the caller commits (with its audit)."""
    row = _row(identity)
    row.status = MembershipStatus.ACTIVE if active else MembershipStatus.CANCELLED
    row.source = "manual"
    db.session.flush()
    return row


def counts() -> dict[str, int]:
    """Memberships per status, every status listed (zero when none)."""
    rows = db.session.execute(select(Membership.status, func.count()).group_by(Membership.status))
    found = dict.fromkeys(MembershipStatus, 0)
    found.update(dict(rows.all()))
    return found
