"""Drive a twin running in another process (`python -m twin`) through its control API."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests


class RemoteCaller:
    """A simulated phone on a remote twin; mirrors the useful parts of Caller."""

    def __init__(self, twin: RemoteTwin, state: dict) -> None:
        self.twin, self.state = twin, state
        self.sid: str = state["sid"]

    def refresh(self) -> dict:
        """Fetch the call's current state."""
        self.state = self.twin.get(f"/_twin/calls/{self.sid}")
        return self.state

    @property
    def heard(self) -> list[str]:
        """Everything said or played to this phone so far."""
        return self.refresh()["heard"]

    @property
    def status(self) -> str:
        """Twilio call status."""
        return self.refresh()["status"]

    @property
    def conference(self) -> str | None:
        """Name of the conference the call is in now, else None."""
        return self.refresh()["conference"]

    def press(self, digits: str) -> None:
        """Press keys on the phone."""
        self.state = self.twin.post(f"/_twin/calls/{self.sid}/digits", {"digits": digits})

    def hang_up(self) -> None:
        """Hang up the phone."""
        self.state = self.twin.post(f"/_twin/calls/{self.sid}/hangup", {})

    def wait_for(
        self, pred: Callable[[dict], object], timeout: float = 5.0, what: str = ""
    ) -> object:
        """Poll until pred(state) is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = pred(self.refresh())
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"call {self.sid}: gave up waiting for {what}: {self.state}")
            time.sleep(self.twin.poll)

    def wait_until_heard(self, text: str, timeout: float = 5.0, since: int = 0) -> str:
        """Wait until something heard (after index since) contains text, case-insensitive."""
        needle = text.lower()
        return self.wait_for(
            lambda s: next((h for h in s["heard"][since:] if needle in h.lower()), None),
            timeout,
            repr(text),
        )

    def wait_until_in_conference(self, timeout: float = 5.0) -> str:
        """Wait until the call is in a conference; return its name."""
        return self.wait_for(lambda s: s["conference"], timeout, "a conference")

    def wait_until_ended(self, timeout: float = 5.0) -> str:
        """Wait until the call ended; return its final status."""
        final = {"completed", "busy", "failed", "no-answer", "canceled"}
        return self.wait_for(
            lambda s: s["status"] if s["status"] in final else None, timeout, "the end of the call"
        )


class RemoteTwin:
    """A client for the control API at e.g. http://127.0.0.1:8700/_twin, with its token."""

    def __init__(self, base_url: str, token: str, poll: float = 0.05) -> None:
        self.base = base_url.rstrip("/")
        self.poll = poll
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str):
        """GET a control API path and return its JSON."""
        resp = self.http.get(self.base + path, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def post(self, path: str, data: dict):
        """POST JSON to a control API path and return its JSON."""
        resp = self.http.post(self.base + path, json=data, timeout=20)
        resp.raise_for_status()
        return resp.json()

    def dial(self, from_number: str, to: str | None = None) -> RemoteCaller:
        """A phone calls the line."""
        return RemoteCaller(self, self.post("/_twin/calls", {"from": from_number, "to": to}))

    def send_sms(self, from_number: str, body: str, to: str | None = None) -> dict:
        """A phone texts the line; returns {sid, status, replies, error}."""
        return self.post("/_twin/sms", {"from": from_number, "body": body, "to": to})

    def inbox(self, number: str) -> list[str]:
        """Texts delivered to a phone."""
        return self.get(f"/_twin/inbox/{number}")

    def delivered_texts(self) -> list[dict]:
        """Every text delivered to a phone so far, oldest first: to, from, body, sent."""
        return self.get("/_twin/texts")

    def conferences(self) -> dict[str, list[str]]:
        """Live conferences: name -> call sids."""
        return self.get("/_twin/conferences")

    def errors(self) -> list[dict]:
        """Application errors recorded so far."""
        return self.get("/_twin/errors")

    def pace(self) -> dict:
        """The REST pace knob's settings and counts (max_in_flight, refused)."""
        return self.get("/_twin/pace")

    def reset_pace(self) -> dict:
        """Start counting the REST pace afresh."""
        return self.post("/_twin/pace", {"reset": True})
