"""A call-back request: the number kept encrypted, only while the request is open."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app import identity_keys
from app.db import UTCDateTime, db, utcnow


class CallbackState(StrEnum):
    """Where a call-back request stands. OPEN and CALLING hold the number; the rest do not."""

    OPEN = "open"  # waiting for someone to start waiting
    CALLING = "calling"  # claimed for a waiting caller or a free listener: the requester rings
    CONNECTED = "connected"  # the requester pressed 1: the call-back happened
    DROPPED = "dropped"  # no answer, busy, a machine, no key, or the call could not be placed
    EXPIRED = "expired"  # the window ended with nobody free
    CANCELLED = "cancelled"  # the requester called the line again themself


class DropReason(StrEnum):
    """Why a call-back was dropped."""

    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"
    NO_KEY = "no-key"
    UNREACHABLE = "unreachable"  # Twilio refused to place the call
    LOST = "lost"  # no word from Twilio about the call long after it was placed


OPEN_STATES = frozenset({CallbackState.OPEN, CallbackState.CALLING})


class CallbackRequest(db.Model):
    """Someone asking to be called back: their identity, and their number while open.

    `open_for` holds the identity while the request is open or calling, and is NULL after:
    its unique index makes one open request per caller a rule of the database.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), index=True)
    open_for: Mapped[str | None] = mapped_column(String(64), unique=True)
    number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    masked_number: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=CallbackState.OPEN, index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    asked_on_call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"))
    waiting_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed because a listener was free with nobody waiting: on 1 the requester waits,
    # and a listener is rung for them at once.
    for_listener: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drop_reason: Mapped[str | None] = mapped_column(String(16))
    # The asking call's language: spoken to them, and shared with whoever they are rung for.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


identity_keys.rekeyed(CallbackRequest.identity, CallbackRequest.open_for)
