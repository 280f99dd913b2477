"""Typed models: the source of truth for calls and conversations. No raw phone numbers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, db, utcnow


class CallState(StrEnum):
    """Where a call stands on the line. Terminal: ENDED."""

    ARRIVED = "arrived"
    WAITING = "waiting"
    MATCHED = "matched"
    TIMED_OUT = "timed_out"  # the line is moving it out of its room to "nobody is free"
    MOVED = "moved"  # the line is moving it out of its room (its partner never came)
    AFTER = "after"  # its conversation or wait is over; it is at a menu
    ENDED = "ended"


class Outcome(StrEnum):
    """How a call ended up: the call log's and the charts' vocabulary."""

    PAIRED = "paired"
    TIMED_OUT = "timed_out"
    HUNG_UP_WAITING = "hung_up_waiting"
    HUNG_UP_MENU = "hung_up_menu"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    NOT_MEMBER = "not_member"
    CALLBACK_ASKED = "callback_asked"  # left at a menu asking to be called back


class Step(StrEnum):
    """A step on a call's timeline. Turn-aways are recorded under their Outcome, and Twilio's
    progress statuses (ringing, in-progress) under their own name."""

    ARRIVED = "arrived"  # not stored: the call's row itself says when it arrived
    MENU = "menu"
    INFO_MENU = "info_menu"
    TIMEOUT_MENU = "timeout_menu"
    AFTER_MENU = "after_menu"
    JOIN_MENU = "join_menu"
    WAITING = "waiting"
    MATCHED = "matched"
    JOINED = "joined"
    LEFT_ROOM = "left_room"
    LEFT = "left"
    TIMED_OUT = "timed_out"
    TIMEOUT_REDIRECT = "timeout_redirect"
    RESCUED = "rescued"
    REDIRECT_FAILED = "redirect_failed"
    PARTNER_GONE = "partner_gone"
    FUSING_LOBBY = "fusing_lobby"
    FUSING_ROOM = "fusing_room"
    SMS_SIGNUP = "sms_signup"
    CALLBACK_CLAIMED = "callback_claimed"  # a waiting caller for whom a requester is rung
    CALLBACK = "callback"  # this call is a call-back, answered with 1
    URGENT_HELP = "urgent_help"  # asked for urgent help (detail: which menu)
    URGENT_DIALLED = "urgent_dialled"  # connected to the crisis service
    ENDED = "ended"
    MASKED = "masked"
    PURGED = "purged"
    PURGE_FAILED = "purge_failed"


class CallMode(StrEnum):
    """What the caller came for: a one-to-one pairing or the Fusing Hour."""

    PAIRING = "pairing"
    FUSING = "fusing"


class Conversation(db.Model):
    """A private conference room for two callers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(64), unique=True)
    conference_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_participants: Mapped[int] = mapped_column(Integer, default=0)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_to_leave: Mapped[int | None] = mapped_column(Integer)  # a call id

    participants: Mapped[list[Participant]] = relationship(
        back_populates="conversation", order_by="Participant.id"
    )
    events: Mapped[list[ConferenceEvent]] = relationship(
        back_populates="conversation", order_by="ConferenceEvent.sequence"
    )

    @property
    def duration_seconds(self) -> int | None:
        """Seconds both callers were together, once the conversation ended."""
        if self.started_at and self.ended_at:
            return int((self.ended_at - self.started_at).total_seconds())
        return None


class Call(db.Model):
    """One phone call to the line, identified by the caller's HMAC identity."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    identity: Mapped[str] = mapped_column(String(64), index=True)
    withheld: Mapped[bool] = mapped_column(default=False)
    masked_number: Mapped[str] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    mode: Mapped[str] = mapped_column(String(16), default=CallMode.PAIRING)
    state: Mapped[str] = mapped_column(String(16), default=CallState.ARRIVED, index=True)
    outcome: Mapped[str | None] = mapped_column(String(24), index=True)
    menu_choice: Mapped[str | None] = mapped_column(String(8))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    wait_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_token: Mapped[str | None] = mapped_column(String(32), index=True)
    room: Mapped[str | None] = mapped_column(String(64), index=True)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    status_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    masked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participations: Mapped[list[Participant]] = relationship(
        back_populates="call", order_by="Participant.id"
    )
    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call",
        order_by="(CallEvent.at, CallEvent.id)",
        cascade="all, delete-orphan",
    )

    @property
    def wait_seconds(self) -> float | None:
        """How long the caller waited before a match, a timeout or hanging up."""
        if self.wait_started_at is None:
            return None
        end = self.matched_at or self.ended_at
        return (end - self.wait_started_at).total_seconds() if end else None


class Participant(db.Model):
    """A call's place in a conversation: matched, then joined and left the room."""

    __table_args__ = (UniqueConstraint("conversation_id", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")
    call: Mapped[Call] = relationship(back_populates="participations")


class CallEvent(db.Model):
    """One step on a call's timeline (arrival, menu choice, wait, match, end...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(String(120))

    call: Mapped[Call] = relationship(back_populates="events")


class ConferenceEvent(db.Model):
    """A conference status callback, kept once per (conference, SequenceNumber)."""

    __table_args__ = (UniqueConstraint("conversation_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="events")


class Report(db.Model):
    """One caller reporting the person they just talked to; the pair never meets again."""

    __table_args__ = (UniqueConstraint("reporter", "reported", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter: Mapped[str] = mapped_column(String(64), index=True)
    reported: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Block(db.Model):
    """A caller identity kept off the line until it expires or an admin lifts it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    masked_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DailyStats(db.Model):
    """What is kept of calls past the retention period: counts per day and outcome."""

    __table_args__ = (UniqueConstraint("day", "mode", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    mode: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    calls: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    call_seconds: Mapped[int] = mapped_column(Integer, default=0)


class RecordKind(StrEnum):
    """What a record left at Twilio is."""

    CALL = "call"
    MESSAGE = "message"  # a text the line sent, or a reply to a text it got
    INBOUND_TEXT = "inbound_text"  # a text to the line: its replies are found through it


class Purge(db.Model):
    """A record at Twilio the line has still to delete: its sid, never whose it is.

    Twilio refuses (20009) until a call or text is complete and for a while after, in rare
    cases for days, so each refusal sets when to ask again; the row goes once Twilio deleted it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # a RecordKind
    replies: Mapped[int] = mapped_column(Integer, default=0)  # an inbound text's replies
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_code: Mapped[int | None] = mapped_column(Integer)  # Twilio's last refusal
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
