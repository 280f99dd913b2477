"""The volunteer listener roster, and each call the line placed to offer a listener a caller."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app import identity_keys
from app.db import UTCDateTime, db, utcnow


class OfferState(StrEnum):
    """Where a call offering a listener a waiting caller stands."""

    RINGING = "ringing"  # claimed for one waiting caller: the line is ringing the listener
    TAKEN = "taken"  # the listener pressed 1 and joined the caller's room
    DECLINED = "declined"  # answered, and pressed another key (or none)
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"
    UNREACHABLE = "unreachable"  # Twilio refused to place the call
    GONE = "gone"  # the caller stopped waiting before the listener pressed 1
    ELSEWHERE = "elsewhere"  # rung at once with another listener, who took the caller first
    LOST = "lost"  # no news of the listener's call came long past its ring time


class Listener(db.Model):
    """A volunteer on the roster: an alias, the number kept encrypted, languages and hours.

    `hours` is the weekly availability in the listener's own zone, as the admin typed it
    (e.g. "mon-fri 18:00-22:00, sun 09:00-12:00"); `identity` is the number's HMAC, so that
    reports and blocks apply to a listener as to any caller.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(60))
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    masked_number: Mapped[str] = mapped_column(String(32))
    languages: Mapped[str] = mapped_column(String(64))  # language codes, comma-separated
    time_zone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[str] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def language_codes(self) -> list[str]:
        """The languages this listener speaks."""
        return [code for code in self.languages.split(",") if code]


class ListenerOffer(db.Model):
    """One call to a listener for one waiting caller (the wait named by its token)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    listener_id: Mapped[int] = mapped_column(ForeignKey("listener.id", ondelete="CASCADE"))
    waiting_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call.id", ondelete="SET NULL"), index=True
    )
    wait_token: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16), default=OfferState.RINGING, index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


identity_keys.rekeyed(Listener.identity)
