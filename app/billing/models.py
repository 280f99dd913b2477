"""Membership state per caller identity, and the payment events already applied."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app import identity_keys
from app.db import UTCDateTime, db, utcnow


class MembershipStatus(StrEnum):
    """Where a caller's membership stands."""

    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    NONE = "none"


class Membership(db.Model):
    """What the line knows of a caller's membership: by HMAC identity, never by number."""

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.NONE, index=True)
    source: Mapped[str | None] = mapped_column(String(16))  # "stripe" or "manual"
    customer_ref: Mapped[str | None] = mapped_column(String(64))
    subscription_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    paid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    free_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PaymentEvent(db.Model):
    """A provider event already applied: a replayed event is recognised and ignored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_ref: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


identity_keys.rekeyed(Membership.identity)
