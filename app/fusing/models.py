"""Fusing Hour records: the weekly rule, its exceptions, and each session's rounds and rooms."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import identity_keys
from app.db import UTCDateTime, db, utcnow


class DateKind(StrEnum):
    """What a dated exception to the weekly rule does."""

    EXTRA = "extra"  # a one-off session
    CANCELLED = "cancelled"  # the rule's session on that date does not happen


class GuestState(StrEnum):
    """Where a Fusing Hour guest is."""

    LOBBY = "lobby"
    ROOM = "room"
    GONE = "gone"


class FusingRule(db.Model):
    """The weekly rule (one row): weekday and local time in an IANA zone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, default=6)  # 0 Monday ... 6 Sunday
    start_time: Mapped[time] = mapped_column(Time, default=time(10, 0))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    duration_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    round_seconds: Mapped[int] = mapped_column(Integer, default=720)
    gap_seconds: Mapped[int] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FusingDate(db.Model):
    """A one-off session or a cancelled rule date (DateKind)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)


class FusingSession(db.Model):
    """One Fusing Hour as it happened (or is happening)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, unique=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    round_seconds: Mapped[int] = mapped_column(Integer)
    gap_seconds: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rounds: Mapped[list[FusingRound]] = relationship(
        back_populates="session", order_by="FusingRound.number"
    )


class FusingRound(db.Model):
    """A rotation: everyone present placed into new rooms at a round boundary."""

    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("fusing_session.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    guests: Mapped[int] = mapped_column(Integer, default=0)
    rest_calls: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column()

    session: Mapped[FusingSession] = relationship(back_populates="rounds")


class FusingGuest(db.Model):
    """A call's presence in a session: in the lobby, in a room, or gone."""

    __table_args__ = (UniqueConstraint("session_id", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("fusing_session.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    identity: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=GuestState.LOBBY, index=True)
    room: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FusingRoom(db.Model):
    """A room of two (or three) guests, made at a rotation or for late joiners."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("fusing_session.id", ondelete="CASCADE"), index=True
    )
    round_number: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    seats: Mapped[list[FusingSeat]] = relationship(back_populates="room_row")


class FusingSeat(db.Model):
    """Who (by identity) was placed in a room."""

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("fusing_room.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(64))

    room_row: Mapped[FusingRoom] = relationship(back_populates="seats")


identity_keys.rekeyed(FusingGuest.identity, FusingSeat.identity)
