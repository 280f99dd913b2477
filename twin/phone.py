"""A simulated phone on one call: what tests and the control API hold to listen and press."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import CallRunner
    from .models import Call, TwinError
    from .ports import TwinState


class Caller:
    """A simulated phone on one call: listen, press keys, hang up, wait for things."""

    def __init__(self, twin: TwinState, call: Call, runner: CallRunner) -> None:
        self.twin, self.call, self.runner = twin, call, runner
        self.sid = call.sid
        self.number = call.from_ if call.direction == "inbound" else call.to

    def _read(self, fn: Callable[[], object]):
        with self.twin.cond:
            return fn()

    @property
    def heard(self) -> list[str]:
        """Everything said or played to this phone so far."""
        return self._read(lambda: list(self.call.heard))

    @property
    def status(self) -> str:
        """Twilio call status: ringing, in-progress, completed, ..."""
        return self.call.status

    @property
    def errors(self) -> list[TwinError]:
        """Application errors Twilio recorded on this call."""
        return self._read(lambda: list(self.call.errors))

    @property
    def listening(self) -> dict | None:
        """The key window open now (a <Gather>: num_digits, timeout in real seconds), or None."""
        return self._read(lambda: self.call.listening)

    @property
    def conference(self) -> str | None:
        """Name of the conference the call is in now, else None."""
        return self.call.conference_name

    @property
    def conference_sid(self) -> str | None:
        """Sid of the conference the call is in now, else None."""
        return self.call.conference_sid

    @property
    def ended(self) -> bool:
        """True once the call has a final status."""
        return self.call.ended

    def mark(self) -> int:
        """A bookmark into `heard`, for `wait_until_heard(..., since=mark)`."""
        return len(self.call.heard)

    def press(self, digits: str) -> None:
        """Press keys on the phone (DTMF)."""
        with self.twin.cond:
            self.call.digits.extend(digits)
            self.twin.wake(self.sid)

    def hang_up(self) -> None:
        """Hang up the phone."""
        with self.twin.cond:
            self.call.hangup_requested = True
            self.twin.wake(self.sid)

    def wait_for(self, pred: Callable[[], object], timeout: float = 5.0, what: str = "") -> object:
        """Wait until pred() is truthy (checked under the twin's lock); return its value."""
        deadline = time.monotonic() + timeout
        with self.twin.cond:
            while True:
                value = pred()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"call {self.sid}: gave up waiting for {what or pred}; "
                        f"status={self.call.status} heard={self.call.heard} "
                        f"errors={[str(e) for e in self.call.errors]}"
                    )
                self.twin.cond.wait(left)

    def wait_until_heard(self, text: str, timeout: float = 5.0, since: int = 0) -> str:
        """Wait until something heard (after index `since`) contains text, case-insensitive."""
        needle = text.lower()

        def found() -> str | None:
            return next((h for h in self.call.heard[since:] if needle in h.lower()), None)

        return self.wait_for(found, timeout, f"hearing {text!r}")  # type: ignore[return-value]

    def wait_until_in_conference(self, timeout: float = 5.0, name: str | None = None) -> str:
        """Wait until the call is in a conference (optionally a given one); return its name."""

        def inside() -> str | None:
            current = self.call.conference_name
            return current if current and (name is None or current == name) else None

        return self.wait_for(inside, timeout, "joining a conference")  # type: ignore[return-value]

    def wait_until_not_in_conference(self, timeout: float = 5.0) -> None:
        """Wait until the call has left its conference."""
        self.wait_for(lambda: self.call.conference_sid is None, timeout, "leaving the conference")

    def wait_until_ended(self, timeout: float = 5.0) -> str:
        """Wait until the call ended; return its final status."""
        self.wait_for(lambda: self.call.ended, timeout, "the call to end")
        return self.call.status

    def __repr__(self) -> str:
        return f"<Caller {self.number} {self.sid} {self.call.status}>"
