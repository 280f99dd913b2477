"""Twilio's webhook forms as typed objects, and the words Twilio uses in them.

Each `from_form` reads a request's form (a werkzeug MultiDict or any mapping of strings).
A field the line cannot do without is read with `form[...]`: missing, werkzeug answers 400.
Every other field is read leniently, as Twilio may leave it out or send it empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from app.db import utcnow

CALL_SID = re.compile(r"CA[0-9a-f]{32}")
CONFERENCE_SID = re.compile(r"CF[0-9a-f]{32}")
KEYS = re.compile(r"[0-9*#]{1,8}")  # what a keypad sends; the line's menus take one key
ODD_KEYS = "?"  # anything else pressed: an unknown key, kept bounded
ROOM_NAME = re.compile(r"[\w-]{1,64}")  # the line names its rooms itself
MAX_INTEGER = 2**31 - 1  # the database's INTEGER: counters and durations stay below it
# Twilio's CallStatus and DialCallStatus values; anything else is kept as UNKNOWN.
CALL_STATUSES = frozenset(
    {
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    }
)
DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
# Twilio's MessageStatus values.
MESSAGE_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "receiving",
        "received",
        "canceled",
        "partially_delivered",
    }
)
UNKNOWN = "unknown"
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
# Call statuses after which the call is over (Twilio's CallStatus values).
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
HUNG_UP = "completed"  # the CallStatus a <Dial action> gets when the caller hung up
# Message statuses a text does not move on from (Twilio's MessageStatus values).
FINAL_MESSAGE_STATUSES = frozenset({"delivered", "undelivered", "failed", "read"})
# Conference StatusCallbackEvent values the line folds into a conversation.
CONFERENCE_START = "conference-start"
CONFERENCE_END = "conference-end"
PARTICIPANT_JOIN = "participant-join"
PARTICIPANT_LEAVE = "participant-leave"
CONFERENCE_STATUS_EVENTS = frozenset(
    {CONFERENCE_START, CONFERENCE_END, PARTICIPANT_JOIN, PARTICIPANT_LEAVE}
)

Form = Mapping[str, str]


def called_number(form: Form) -> str | None:
    """The line's number that was called (`To`), if Twilio sent it."""
    return form.get("To") or None


def is_call_sid(value: str) -> bool:
    """Whether `value` is shaped like a Twilio CallSid."""
    return CALL_SID.fullmatch(value) is not None


def is_message_sid(value: str) -> bool:
    """Whether `value` is shaped like a Twilio MessageSid (SMS or MMS)."""
    return MESSAGE_SID.fullmatch(value) is not None


def parse_timestamp(value: str | None) -> datetime:
    """Twilio's RFC 2822 callback timestamp, or now.

    `-0000` is UTC with no local zone said (RFC 2822, 3.3): Python reads it as a naive time.
    """
    if value:
        try:
            found = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return utcnow()
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found
    return utcnow()


def whole_number(value: object) -> int:
    """A counter or duration from a callback; anything that is not one counts as 0."""
    try:
        return min(max(0, int(value or 0)), MAX_INTEGER)
    except (TypeError, ValueError):
        return 0


def one_of(value: str | None, words: frozenset[str]) -> str:
    """A word of Twilio's vocabulary as sent, "" when none, else UNKNOWN (bounded)."""
    if not value:
        return ""
    return value if value in words else UNKNOWN


def keys_pressed(value: str | None) -> str:
    """The keys of a <Gather>: "" for none, ODD_KEYS for anything a keypad does not send."""
    if not value:
        return ""
    return value if KEYS.fullmatch(value) else ODD_KEYS


def room_name(value: str | None) -> str:
    """A room name as the line makes them, or "" (no room of the line's)."""
    return value if value and ROOM_NAME.fullmatch(value) else ""


def _matching(pattern: re.Pattern[str], value: str | None) -> str | None:
    """The value when it has the pattern's shape (or is empty), else None."""
    return value if not value or pattern.fullmatch(value) else None


@dataclass(frozen=True)
class CallRequest:
    """A voice webhook about one call: the incoming call, or TwiML fetched for it later."""

    call_sid: str
    from_number: str | None

    @classmethod
    def from_form(cls, form: Form) -> CallRequest:
        """Read CallSid (required) and From."""
        return cls(call_sid=form["CallSid"], from_number=form.get("From"))


@dataclass(frozen=True)
class GatherResult(CallRequest):
    """A <Gather> action: the keys pressed at a menu ("" when none)."""

    digits: str

    @classmethod
    def from_form(cls, form: Form) -> GatherResult:
        """Read CallSid (required), From and Digits."""
        return cls(form["CallSid"], form.get("From"), digits=keys_pressed(form.get("Digits")))


# AnsweredBy values that mean no person took the call (answering machine detection).
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


@dataclass(frozen=True)
class AnsweredCall(CallRequest):
    """The first request of a call the line placed: who it reached (To) and, with
    answering machine detection, what Twilio took the answerer for (AnsweredBy)."""

    to_number: str | None
    answered_by: str

    @classmethod
    def from_form(cls, form: Form) -> AnsweredCall:
        """Read CallSid (required), From, To and AnsweredBy."""
        return cls(
            form["CallSid"],
            form.get("From"),
            to_number=form.get("To"),
            answered_by=(form.get("AnsweredBy") or "")[:32],
        )

    @property
    def machine(self) -> bool:
        """Whether detection found a machine or a fax (`unknown` may still be a person)."""
        return self.answered_by in MACHINE_ANSWERS


@dataclass(frozen=True)
class DialResult(CallRequest):
    """A <Dial> action: how the dialled leg ended, and whether the caller is still there."""

    call_status: str
    dial_call_status: str

    @classmethod
    def from_form(cls, form: Form) -> DialResult:
        """Read CallSid (required), From, CallStatus and DialCallStatus."""
        return cls(
            form["CallSid"],
            form.get("From"),
            call_status=form.get("CallStatus", ""),
            # Without it, the Dial is taken to have completed.
            dial_call_status=one_of(form.get("DialCallStatus", "completed"), DIAL_STATUSES),
        )

    @property
    def hung_up(self) -> bool:
        """Whether the caller hung up (Twilio still requests the action then)."""
        return self.call_status == HUNG_UP


@dataclass(frozen=True)
class CallStatusCallback:
    """The number's call status callback: the call progressed or ended."""

    call_sid: str
    call_status: str
    from_number: str | None
    sequence: int
    duration: int
    at: datetime

    @classmethod
    def from_form(cls, form: Form) -> CallStatusCallback:
        """Read a status callback; nothing is required, garbled numbers count as 0."""
        return cls(
            call_sid=form.get("CallSid", ""),
            call_status=one_of(form.get("CallStatus"), CALL_STATUSES),
            from_number=form.get("From"),
            sequence=whole_number(form.get("SequenceNumber")),
            duration=whole_number(form.get("CallDuration")),
            at=parse_timestamp(form.get("Timestamp")),
        )

    @property
    def ended(self) -> bool:
        """Whether the call is over."""
        return self.call_status in TERMINAL_STATUSES


@dataclass(frozen=True)
class ConferenceStatusCallback:
    """A conference status callback for one of the line's rooms."""

    event: str
    room: str
    sequence: int
    at: datetime
    call_sid: str | None
    conference_sid: str | None

    @classmethod
    def from_form(cls, form: Form) -> ConferenceStatusCallback:
        """Read a conference callback; nothing is required, a garbled sequence counts as 0."""
        return cls(
            event=form.get("StatusCallbackEvent", ""),
            room=room_name(form.get("FriendlyName")),
            sequence=whole_number(form.get("SequenceNumber")),
            at=parse_timestamp(form.get("Timestamp")),
            call_sid=_matching(CALL_SID, form.get("CallSid")),
            conference_sid=_matching(CONFERENCE_SID, form.get("ConferenceSid")) or None,
        )

    @property
    def known(self) -> bool:
        """Whether the event is one the line folds into a conversation."""
        return self.event in CONFERENCE_STATUS_EVENTS

    @property
    def participant(self) -> str | None:
        """The CallSid of the participant who joined or left; None for the room's own events."""
        if self.call_sid and self.event.startswith("participant-"):
            return self.call_sid
        return None


class OptOut(StrEnum):
    """The keywords Twilio answers itself; the values are OptOutType's, lower-cased."""

    STOP = "stop"
    START = "start"
    HELP = "help"


# Default opt-out handling on a long code: a message that is exactly one of these words, in
# any case, is answered by Twilio (docs/providers.md, "Messaging").
DEFAULT_OPT_OUT_WORDS = {
    OptOut.STOP: frozenset(
        {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
    ),
    OptOut.START: frozenset({"START", "YES", "UNSTOP"}),
    OptOut.HELP: frozenset({"HELP", "INFO"}),
}


@dataclass(frozen=True)
class InboundText:
    """A text to the line, with the opt-out keyword Twilio already answered, if any."""

    message_sid: str
    from_number: str
    body: str
    opt_out: str  # Advanced Opt-Out's OptOutType, lower-cased ("stop", ...); "" when none

    @classmethod
    def from_form(cls, form: Form) -> InboundText:
        """Read From and MessageSid (both required), Body and OptOutType."""
        return cls(
            from_number=form["From"],
            message_sid=form["MessageSid"],
            body=form.get("Body", ""),
            opt_out=form.get("OptOutType", "").lower(),
        )

    @property
    def answered_by_twilio(self) -> OptOut | None:
        """The keyword Twilio has answered itself, None for any other text.

        Advanced Opt-Out names it (OptOutType); default handling answers a message that is
        exactly one of its words, and says nothing of it in the webhook.
        """
        if self.opt_out in set(OptOut):
            return OptOut(self.opt_out)
        word = self.body.strip().upper()
        return next((k for k, words in DEFAULT_OPT_OUT_WORDS.items() if word in words), None)


@dataclass(frozen=True)
class MessageStatusCallback:
    """Delivery status of a text the line sent."""

    message_sid: str
    status: str
    error_code: str  # as sent; "" when the message has none

    @classmethod
    def from_form(cls, form: Form) -> MessageStatusCallback:
        """Read a message status callback; nothing is required."""
        return cls(
            message_sid=form.get("MessageSid", ""),
            status=form.get("MessageStatus", "")
            and one_of(form.get("MessageStatus"), MESSAGE_STATUSES),
            error_code=form.get("ErrorCode", ""),
        )

    @property
    def final(self) -> bool:
        """Whether the text will not move on from this status."""
        return self.status in FINAL_MESSAGE_STATUSES

    def error_number(self) -> int | None:
        """The error code as a number; None when there is none or it is not one of Twilio's
        (five digits at most), so that the status still counts."""
        if self.error_code.isdigit() and len(self.error_code) <= 5:
            return int(self.error_code)
        return None
