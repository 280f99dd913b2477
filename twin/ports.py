"""What the twin's parts need from the twin, as protocols the handle's Twin satisfies.

The call engine, the verbs, the rooms and the SMS center sit below the handle that builds
them, so they name the twin by these protocols instead of importing it back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .callee import Callee
    from .models import Call, Conference, Participant, TwinError
    from .webhooks import Dispatcher, WebhookClient


@dataclass
class JoinOptions:
    """The <Conference> attributes that matter when a call joins."""

    name: str
    muted: bool = False
    beep: str = "true"
    start_on_enter: bool = True
    end_on_exit: bool = False
    max_participants: int = 250
    status_callback: str | None = None
    status_callback_method: str = "POST"
    events: frozenset[str] = frozenset()
    label: str | None = None


class EventOrder(StrEnum):
    """How the twin delivers a conference's status callbacks."""

    FIRED = "fired"  # one after another, in the order the events fired
    SHUFFLED = "shuffled"  # each held back by its own random delay: they arrive in any order


@dataclass
class VoiceKnobs:
    """Twilio behaviours its documentation leaves open: the twin's default, and the other
    answers the line must also survive (docs/providers.md says where each comes from)."""

    # DialCallStatus of a conference <Dial> that ended other than by `*` (which is always
    # "answered") or by a redirect: "answered" (the docs' row for conferences) or "completed".
    conference_exit_status: str = "answered"
    # A REST redirect of a call inside a <Dial> also requests that Dial's action first
    # (measured: about 0.3 s after the redirect, DialCallStatus=completed); the answer is
    # discarded and the redirect's own URL plays. False: no action request at all.
    redirect_requests_action: bool = True
    redirect_action_delay: float = 0.3  # real seconds (network time), not scaled
    # Conference events are separate requests; the docs promise no order for them.
    conference_events: EventOrder = EventOrder.FIRED
    conference_event_jitter: float = 0.5  # real seconds: the longest hold-back when shuffled
    seed: int | None = None  # for the shuffled hold-backs (None: a fresh order every run)


class TwinState(Protocol):
    """The twin's shared state and services: the lock, the calls, webhooks, the error log."""

    account_sid: str
    phone_number: str
    sms_url: str | None
    sms_method: str
    time_scale: float
    say_seconds: float
    speech_wpm: float
    play_seconds: float
    knobs: VoiceKnobs
    lock: threading.RLock
    cond: threading.Condition
    calls: dict[str, Call]
    webhook_client: WebhookClient
    dispatcher: Dispatcher

    def wake(self, *sids: str) -> None:
        """Wake the runners of these calls and every observer (the lock is held)."""
        ...

    def record_error(self, error: TwinError, call: Call | None = None) -> None:
        """Remember an application error for the debugger views."""
        ...


class Conferencing(Protocol):
    """The rooms as a call in a <Dial><Conference> uses them."""

    def join(self, call_sid: str, opts: JoinOptions) -> tuple[Conference, Participant] | None:
        """Add a call to the named room; None when it is full."""
        ...

    def leave(self, call_sid: str, reason: str) -> None:
        """Take a call out of its room, if it is in one."""
        ...


class CallHost(TwinState, Protocol):
    """What a running call needs besides the shared state: rooms, progress events, its end."""

    @property
    def rooms(self) -> Conferencing:
        """The conference rooms of the account."""
        ...

    def call_event(self, call: Call, event: str) -> None:
        """Send a call progress status callback if the call asked for that event."""
        ...

    def finish_call(self, call: Call, status: str) -> None:
        """Mark a call ended and send its `completed` status callback."""
        ...

    def callee_for(self, number: str) -> Callee:
        """Who answers this number when the twin calls it."""
        ...
