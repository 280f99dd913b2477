"""Entitlement and membership state: the first conversation is free, then EUR 4 a month."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import identity_keys
from app.billing.models import Membership, MembershipStatus, PaymentEvent
from app.db import db, dialect_insert, utcnow
from app.line.models import Call, Conversation
from app.settings import settings

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    """What a provider's event says happened, as far as a membership is concerned."""

    PAID = "paid"  # a payment was made: the only kind that can start or restore a membership
    CHECKOUT_UNPAID = "checkout_unpaid"  # Checkout completed, its payment still to settle
    PAYMENT_FAILED = "payment_failed"
    CHANGED = "changed"  # the subscription changed (status, period)
    CANCELLED = "cancelled"


GRANTING = {EventKind.PAID}


@dataclass(frozen=True)
class BillingEvent:
    """A provider's event, reduced to what the line needs."""

    ref: str
    kind: EventKind
    identity: str | None
    source: str  # the provider's name, kept on the membership
    customer_ref: str | None = None
    subscription_ref: str | None = None


@dataclass(frozen=True)
class Subscription:
    """A subscription as the provider has it now (fetched when its event arrives)."""

    ref: str
    status: MembershipStatus
    identity: str | None = None
    customer_ref: str | None = None
    paid_until: datetime | None = None


def _row(identity: str) -> Membership:
    """The caller's membership row, created if missing: safe when two requests create it at once
    (the end of a room is reported by several callbacks, maybe at the same moment)."""
    forms = identity_keys.forms(identity)
    found = db.session.scalar(select(Membership).where(Membership.identity.in_(forms)))
    if found is not None:
        return found
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
    forms = identity_keys.forms(call.identity)
    found = db.session.scalar(select(Membership).where(Membership.identity.in_(forms)))
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


def apply(event: BillingEvent, now: Subscription | None) -> bool:
    """Apply a provider event once; a replayed event changes nothing and returns False.

    The membership follows the subscription as the provider has it now (`now`), not what
    the event says, since events arrive in no promised order: a late `paid` after the
    cancellation finds the subscription cancelled. Only an event that reports a payment
    can make a membership active.
    """
    db.session.add(PaymentEvent(event_ref=event.ref, kind=event.kind))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    row = _find(event, now)
    if row is None:
        log.warning("payment event %s for an unknown member ignored", event.kind)
    elif now is not None and _follows(row, event, now):
        row.source = event.source
        row.customer_ref = event.customer_ref or now.customer_ref or row.customer_ref
        row.subscription_ref = now.ref
        row.paid_until = now.paid_until or row.paid_until
        row.status = _status(row, event, now)
    db.session.commit()
    return True


def _follows(row: Membership, event: BillingEvent, now: Subscription) -> bool:
    """Whether this subscription is the one the membership follows (or may take over)."""
    if row.subscription_ref in (None, now.ref):
        return True
    # Another subscription of the same caller (a second checkout) takes over only by paying.
    return event.kind in GRANTING and now.status == MembershipStatus.ACTIVE


def _status(row: Membership, event: BillingEvent, now: Subscription) -> MembershipStatus:
    if now.status == MembershipStatus.ACTIVE and event.kind not in GRANTING:
        # Active without a reported payment: a delayed payment still processing, or a
        # change event overtaking the payment's. Keep what the line has until it is paid.
        return row.status
    return now.status


def _find(event: BillingEvent, now: Subscription | None) -> Membership | None:
    identity = event.identity or (now.identity if now else None)
    if identity:
        return _row(identity)
    ref = event.subscription_ref or (now.ref if now else None)
    if ref:
        return db.session.scalar(select(Membership).where(Membership.subscription_ref == ref))
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
