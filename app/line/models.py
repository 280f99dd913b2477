"""Typed models: the source of truth for calls and conversations. No raw phone numbers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import identity_keys
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
    NOT_MEMBER = "not_member"  # heard the membership offer and left it there
    PAYMENT_LINK = "payment_link"  # not a member: the payment link was sent by text
    REMINDERS = "reminders"  # asked for Fusing Hour reminders by text, then hung up
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
    PAYMENT_LINK = "payment_link"  # the payment link is on its way by text
    CALLBACK_CLAIMED = "callback_claimed"  # a waiting caller for whom a requester is rung
    CALLBACK = "callback"  # this call is a call-back, answered with 1
    LISTENER_CLAIMED = "listener_claimed"  # a waiting caller for whom a listener is rung
    LISTENER_JOINED = "listener_joined"  # a volunteer listener took this waiting caller
    LISTENER = "listener"  # this call is a volunteer listener's, answered with 1
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
    LISTENER = "listener"  # a volunteer listener's call, placed by the line, answered with 1


def waited(started: datetime | None, ended: datetime | None, earlier: float | None) -> float | None:
    """A call's seconds of waiting: the waits before the latest, and the latest once it ended."""
    if started is None or ended is None:
        return None
    return (earlier or 0) + max((ended - started).total_seconds(), 0)


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
    wait_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest wait
    wait_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None while it lasts
    earlier_wait_seconds: Mapped[float | None] = mapped_column(Float)  # the waits before it
    wait_token: Mapped[str | None] = mapped_column(String(32), index=True)
    room: Mapped[str | None] = mapped_column(String(64), index=True)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    status_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    masked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en", index=True)

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
        """How long the caller waited in all, each wait until a match, a timeout, leaving the
        room or hanging up; None before a first wait ended."""
        return waited(self.wait_started_at, self.wait_ended_at, self.earlier_wait_seconds)

    def next_wait(self, at: datetime, ended: bool = False) -> dict:
        """The columns of a new wait beginning `at` (and ending there too, for a caller
        paired at once): the waits before it are kept as their sum."""
        earlier = self.earlier_wait_seconds
        if self.wait_started_at is not None and self.wait_ended_at is not None:
            latest = (self.wait_ended_at - self.wait_started_at).total_seconds()
            earlier = (earlier or 0) + max(latest, 0)
        ends = at if ended else None
        return {"wait_started_at": at, "wait_ended_at": ends, "earlier_wait_seconds": earlier}

    def start_wait(self, at: datetime) -> None:
        """A new wait begins `at`."""
        for name, value in self.next_wait(at).items():
            setattr(self, name, value)

    def end_wait(self, at: datetime) -> None:
        """The wait under way (if any) ends `at`."""
        if self.wait_started_at is not None and self.wait_ended_at is None:
            self.wait_ended_at = max(at, self.wait_started_at)


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


class CallerLanguage(db.Model):
    """The language a caller chose at the greeting, kept for their identity (the HMAC)."""

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


identity_keys.rekeyed(Call.identity, Report.reporter, Report.reported, Block.identity)
identity_keys.rekeyed(CallerLanguage.identity)
