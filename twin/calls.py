"""Call lifecycle shared by the REST API and the test handle: create, update, finish."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Protocol

from .callee import Callee
from .dial import run_dial
from .engine import CallRunner
from .faults import RestError
from .gather import run_gather
from .models import Call, CallUpdate, TwinError
from .phone import Caller
from .ports import CallHost
from .util import is_e164, rfc2822, utcnow

EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}
# The verbs the engine leaves to modules built on it: they hold the call and come back.
VERBS = {"Gather": run_gather, "Dial": run_dial}
MACHINE_DETECTION = frozenset({"Enable", "DetectMessageEnd"})


class Host(CallHost, Protocol):
    """The Twin these methods are mixed into, as far as they use it."""

    callers: dict[str, Caller]
    error_log: list[TwinError]

    def callee_for(self, number: str) -> Callee:
        """Who answers this number when the twin calls it."""
        ...

    def start_call(
        self, call: Call, url: str | None, method: str = "POST", twiml: str | None = None
    ) -> Caller:
        """Register a call and start its thread."""
        ...


def _whole(form: Mapping, name: str, default: int, low: int, high: int, code: int) -> int:
    text = form.get(name)
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise RestError(400, code, f"Invalid {name}: {text}")
    return value


def _ringing_options(form: Mapping) -> tuple[int, str | None, int]:
    """Timeout (default 60, at most 600), MachineDetection (Enable or DetectMessageEnd) and
    MachineDetectionTimeout (3-59, default 30), as Twilio's Calls API takes them."""
    ring = _whole(form, "Timeout", 60, 1, 600, 21208)
    detection = form.get("MachineDetection") or None
    if detection is not None and detection not in MACHINE_DETECTION:
        raise RestError(400, 21200, f"Invalid MachineDetection: {detection}")
    return ring, detection, _whole(form, "MachineDetectionTimeout", 30, 3, 59, 21200)


class CallsMixin:
    """Methods of Twin that create, redirect and end calls."""

    def start_call(
        self: Host, call: Call, url: str | None, method: str = "POST", twiml: str | None = None
    ) -> Caller:
        """Register a call and start its thread; returns the handle for the phone."""
        runner = CallRunner(self, call, url, method, twiml, VERBS)
        caller = Caller(self, call, runner)
        with self.cond:
            self.calls[call.sid] = call
            self.callers[call.sid] = caller
        runner.thread.start()
        return caller

    def create_call(self: Host, form: Mapping) -> tuple[Call, dict]:
        """Handle REST Calls.json POST; returns the call and its JSON at creation (queued)."""
        to, from_ = form.get("To", ""), form.get("From", "")
        if not to:
            raise RestError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise RestError(400, 21213, "No 'From' number is specified")
        if not is_e164(to):
            raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        url, twiml = form.get("Url"), form.get("Twiml")
        if not url and not twiml:
            raise RestError(400, 21205, "Url parameter is required.")
        getlist = getattr(form, "getlist", lambda key: [form[key]] if key in form else [])
        events = [e for item in getlist("StatusCallbackEvent") for e in item.split()]
        ring_timeout, detection, detection_timeout = _ringing_options(form)
        call = Call(
            self.account_sid,
            from_,
            to,
            direction="outbound-api",
            status_callback=form.get("StatusCallback"),
            status_callback_method=form.get("StatusCallbackMethod", "POST"),
            status_callback_events=frozenset(events or ["completed"]),
            callee=self.callee_for(to),
            ring_timeout=ring_timeout,
            machine_detection=detection,
            machine_detection_timeout=detection_timeout,
        )
        created = call.to_json()
        self.start_call(call, url, form.get("Method", "POST"), twiml)
        return call, created

    def update_call(self: Host, call: Call, form: Mapping) -> None:
        """Handle REST Calls/{sid}.json POST: redirect (Url/Twiml) or end (Status) a call."""
        status = form.get("Status")
        with self.cond:
            if status in ("completed", "canceled"):
                if not call.ended and (status == "completed" or call.answered_mono is None):
                    call.hangup_requested = True
            elif status:
                raise RestError(400, 21218, f"Invalid value for Status: {status}")
            elif form.get("Url") or form.get("Twiml"):
                if call.ended:
                    raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
                call.update = CallUpdate(
                    form.get("Url"), form.get("Method", "POST"), form.get("Twiml")
                )
            if form.get("StatusCallback"):
                call.status_callback = form["StatusCallback"]
            call.touch()
            self.wake(call.sid)

    def finish_call(self: Host, call: Call, status: str) -> None:
        """Mark a call ended and send its `completed` status callback."""
        with self.cond:  # queue the callback before waiters can see the call ended
            if call.ended:
                return
            call.status = status
            call.end_time = utcnow()
            call.ended_mono = time.monotonic()
            # Twilio's length of the call, as its start and end times say: wall-clock
            # seconds, whatever the time scale that runs Gather timeouts and pauses.
            call.duration = 0
            if call.answered_mono is not None:
                call.duration = math.ceil(call.ended_mono - call.answered_mono)
            call.touch()
            self.call_event(call, "completed")
            self.wake(call.sid)

    def call_event(self: Host, call: Call, event: str) -> None:
        """Send a call progress status callback if the call asked for that event."""
        with self.cond:
            if not call.status_callback or event not in call.status_callback_events:
                return
            extra = {
                "Timestamp": rfc2822(utcnow()) or "",
                "SequenceNumber": str(call.callback_seq),
                "CallbackSource": "call-progress-events",
            }
            call.callback_seq += 1
            if event == "completed":
                extra["CallDuration"] = str(call.duration or 0)
            else:
                extra["CallStatus"] = EVENT_STATUS[event]
            params = call.webhook_params(**extra)
            url, method = call.status_callback, call.status_callback_method
        self.dispatcher.submit(
            call.sid, lambda: self.webhook_client.request(url, method, params, "call-status")
        )

    def record_error(self: Host, error: TwinError, call: Call | None = None) -> None:
        """Remember an error for the debugger views (twin.errors, caller.errors)."""
        with self.cond:
            self.error_log.append(error)
            if call is not None:
                call.errors.append(error)
            self.cond.notify_all()
