"""SMS subscribers (the only place a number is kept, encrypted) and the texts sent to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import identity_keys
from app.db import UTCDateTime, db, utcnow


class SubscriberStatus(StrEnum):
    """Whether a subscriber gets reminders."""

    ACTIVE = "active"
    STOPPED = "stopped"  # by a word only the line took for STOP: texts still reach them
    OPTED_OUT = "opted_out"  # Twilio refuses texts to them (21610) until they send START


class TextKind(StrEnum):
    """What a text is for."""

    CONFIRMATION = "confirmation"  # what the subscriber signed up for, and how to stop
    REMINDER = "reminder"  # before a Fusing Hour
    PAYMENT_LINK = "payment_link"  # where to start a membership
    CALLBACK_MISSED = "callback_missed"  # a call-back rang and did not reach them


class TextStatus(StrEnum):
    """A text's delivery: the line's own steps, then the statuses Twilio reports."""

    QUEUED = "queued"  # planned, not yet claimed by a sender
    SENDING = "sending"  # claimed by a worker; Twilio may or may not have it
    CANCELLED = "cancelled"  # the subscriber stopped before it was sent
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"


# What a status callback may set: Twilio's earlier steps (accepted, queued, sending) would
# read as the line's own QUEUED and SENDING, and send the text again.
REPORTED_STATUSES = frozenset(
    {
        TextStatus.SENT,
        TextStatus.DELIVERED,
        TextStatus.UNDELIVERED,
        TextStatus.FAILED,
        TextStatus.READ,
    }
)


class Subscriber(db.Model):
    """Someone who asked for reminders: HMAC identity, and the number encrypted while active."""

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    masked_number: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SubscriberStatus.ACTIVE, index=True)
    source: Mapped[str] = mapped_column(String(16))  # "call" or "text"
    language: Mapped[str | None] = mapped_column(String(8))  # None: the line's default
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    texts: Mapped[list[TextMessage]] = relationship(back_populates="subscriber")


class TextMessage(db.Model):
    """A text sent to a subscriber: its kind and delivery, never its body."""

    __table_args__ = (
        UniqueConstraint("subscriber_id", "kind", "session_starts_at", "offset_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))  # a TextKind
    session_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offset_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=TextStatus.QUEUED, index=True)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber] = relationship(back_populates="texts")


class UnknownTextReply(db.Model):
    """The day a sender last got the answer to an unknown text (at most one a day)."""

    __table_args__ = (UniqueConstraint("identity", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)


identity_keys.rekeyed(Subscriber.identity, UnknownTextReply.identity)
