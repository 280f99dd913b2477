"""The twin's records (calls, conferences, participants, messages) and their REST JSON."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from .callee import Callee
from .util import API_VERSION, country_of, new_sid, rfc2822, utcnow

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# Message statuses that do not change again (Twilio's Message resource status values).
FINAL_MESSAGE_STATUSES = frozenset(
    {"delivered", "undelivered", "failed", "received", "read", "canceled"}
)


@dataclass
class TwinError:
    """An error Twilio would show in its debugger for a call or message."""

    code: int
    message: str
    url: str | None = None
    call_sid: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" ({self.url})" if self.url else "")


@dataclass
class CallUpdate:
    """A pending REST redirect of a live call."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None


@dataclass
class Call:
    """One call leg as Twilio tracks it."""

    account_sid: str
    from_: str
    to: str
    direction: str = "inbound"
    status: str = "queued"
    sid: str = field(default_factory=lambda: new_sid("CA"))
    phone_number_sid: str | None = None
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_mono: float | None = None
    ended_mono: float | None = None  # when the call reached a final status (time.monotonic)
    duration: int | None = None
    heard: list[str] = field(default_factory=list)
    errors: list[TwinError] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    listening: dict | None = None  # the <Gather> taking keys now: numDigits, timeout (real s), at
    conference_sid: str | None = None
    conference_name: str | None = None
    hangup_requested: bool = False
    update: CallUpdate | None = None
    deleted: bool = False
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    callback_seq: int = 0
    # Outbound calls: the far end, how long it may ring (Timeout), answering machine
    # detection asked for (MachineDetection) and its limit, and what it concluded.
    callee: Callee | None = None
    ring_timeout: int = 60
    machine_detection: str | None = None
    machine_detection_timeout: int = 30
    answered_by: str | None = None
    parent_call_sid: str | None = None
    pressed: bool = False  # the scripted far end has pressed its keys

    @property
    def ended(self) -> bool:
        """True once the call reached a final status."""
        return self.status in FINAL_CALL_STATUSES

    def touch(self) -> None:
        """Mark the record as updated now."""
        self.date_updated = utcnow()

    def uri(self) -> str:
        """The resource path relative to the API base."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def webhook_params(self, **extra: str) -> dict[str, str]:
        """The form fields Twilio sends with every voice request for this call."""
        frm, to = country_of(self.from_), country_of(self.to)
        params = {
            "CallSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
            "CallStatus": self.status,
            "Direction": self.direction,
            "ApiVersion": API_VERSION,
            "FromCountry": frm,
            "ToCountry": to,
            "CallerCountry": frm,
            "CalledCountry": to,
        }
        for who in ("From", "To", "Caller", "Called"):
            for part in ("City", "State", "Zip"):
                params[who + part] = ""
        params.update(extra)
        return params

    def to_json(self) -> dict:
        """Render the call as Twilio's REST API does."""
        base = self.uri()[: -len(".json")]
        subs = (
            "notifications",
            "recordings",
            "payments",
            "events",
            "siprec",
            "streams",
            "transcriptions",
            "user_defined_message_subscriptions",
            "user_defined_messages",
        )
        return {
            "sid": self.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "parent_call_sid": self.parent_call_sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": self.phone_number_sid,
            "status": self.status,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": None if self.duration is None else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "direction": self.direction,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": self.uri(),
            "subresource_uris": {name: f"{base}/{_camel(name)}.json" for name in subs},
        }


@dataclass
class Participant:
    """A call's membership in a conference."""

    call_sid: str
    conference_sid: str
    account_sid: str
    label: str | None = None
    muted: bool = False
    hold: bool = False
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    beep: str = "true"
    status: str = "connected"
    removed: str | None = None  # why the participant left: hangup, kicked, ended, ...
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)

    def uri(self) -> str:
        """The resource path relative to the API base."""
        return (
            f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/"
            f"{self.conference_sid}/Participants/{self.call_sid}.json"
        )

    def to_json(self) -> dict:
        """Render the participant as Twilio's REST API does."""
        return {
            "account_sid": self.account_sid,
            "call_sid": self.call_sid,
            "label": self.label,
            "call_sid_to_coach": None,
            "coaching": False,
            "conference_sid": self.conference_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "end_conference_on_exit": self.end_conference_on_exit,
            "muted": self.muted,
            "hold": self.hold,
            "start_conference_on_enter": self.start_conference_on_enter,
            "status": self.status,
            "queue_time": "0",
            "uri": self.uri(),
        }


@dataclass
class Conference:
    """A named conference room, created on first join."""

    account_sid: str
    friendly_name: str
    sid: str = field(default_factory=lambda: new_sid("CF"))
    status: str = "init"
    participants: dict[str, Participant] = field(default_factory=dict)
    max_participants: int = 250
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset()
    sequence: int = 0
    reason_ended: str | None = None
    call_sid_ending: str | None = None
    members_ever: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)

    def uri(self) -> str:
        """The resource path relative to the API base."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.sid}.json"

    def to_json(self) -> dict:
        """Render the conference as Twilio's REST API does."""
        base = self.uri()[: -len(".json")]
        return {
            "account_sid": self.account_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "api_version": API_VERSION,
            "friendly_name": self.friendly_name,
            "region": "us1",
            "sid": self.sid,
            "status": self.status,
            "uri": self.uri(),
            "subresource_uris": {
                "participants": f"{base}/Participants.json",
                "recordings": f"{base}/Recordings.json",
            },
            "reason_conference_ended": self.reason_ended,
            "call_sid_ending_conference": self.call_sid_ending,
        }


@dataclass
class Message:
    """An SMS, inbound to the app or sent by it."""

    account_sid: str
    from_: str
    to: str
    body: str
    direction: str = "outbound-api"
    status: str = "queued"
    sid: str = field(default_factory=lambda: new_sid("SM"))
    num_segments: int = 1
    status_callback: str | None = None
    messaging_service_sid: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    deleted: bool = False
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None
    final_mono: float | None = None  # when the status became final (time.monotonic)

    def set_status(self, status: str) -> None:
        """Move to a new status, noting when it became final (deletion waits on that)."""
        self.status = status
        self.date_updated = utcnow()
        if status in FINAL_MESSAGE_STATUSES and self.final_mono is None:
            self.final_mono = time.monotonic()

    def uri(self) -> str:
        """The resource path relative to the API base."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict:
        """Render the message as Twilio's REST API does."""
        base = self.uri()[: -len(".json")]
        return {
            "body": self.body,
            "num_segments": str(self.num_segments),
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "date_updated": rfc2822(self.date_updated),
            "price": None,
            "error_message": self.error_message,
            "uri": self.uri(),
            "account_sid": self.account_sid,
            "num_media": "0",
            "status": self.status,
            "messaging_service_sid": self.messaging_service_sid,
            "sid": self.sid,
            "date_sent": rfc2822(self.date_sent),
            "date_created": rfc2822(self.date_created),
            "error_code": self.error_code,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
        }


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
