"""The Twilio REST client, built lazily from config, at TWILIO_API_BASE."""

from __future__ import annotations

import logging

from flask import current_app
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)
EXTENSION = "mindfuse.twilio"
RETRYABLE = {429, 500, 502, 503, 504}


class TelephonyError(RuntimeError):
    """Twilio's REST API refused or failed a request; `retryable` says if trying again may help."""

    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status
        self.retryable = status is None or status in RETRYABLE


class Gone(TelephonyError):
    """The call or conference no longer exists at Twilio (404): it ended or was deleted."""


def client() -> Client:
    """The app's Twilio REST client, pointed at the configured API base."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        config = current_app.config
        found = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=TwilioHttpClient(timeout=10),
        )
        found.api.base_url = config["TWILIO_API_BASE"]
        current_app.extensions[EXTENSION] = found
    return found


def _rest(what: str, action):
    try:
        return action(client())
    except TwilioRestException as exc:
        if exc.status == 404:
            raise Gone(f"{what}: not found", 404) from exc
        raise TelephonyError(f"{what}: HTTP {exc.status} code {exc.code}", exc.status) from exc
    except OSError as exc:  # connection refused, timeouts
        raise TelephonyError(f"{what}: {type(exc).__name__}", None) from exc


def redirect_call(sid: str, url: str) -> None:
    """Move a live call to new TwiML fetched from `url`."""
    _rest("redirect", lambda c: c.calls(sid).update(url=url, method="POST"))


def hang_up_call(sid: str) -> None:
    """End a live call."""
    _rest("hang up", lambda c: c.calls(sid).update(status="completed"))


def delete_call_record(sid: str) -> None:
    """Delete a finished call's record at Twilio."""
    _rest("delete", lambda c: c.calls(sid).delete())


def conference_sid(room: str) -> str:
    """The sid of the conference now running under this room name."""
    found = _rest(
        "find conference",
        lambda c: c.conferences.list(friendly_name=room, status="in-progress", limit=1),
    )
    if not found:
        raise Gone(f"no conference in progress for room {room}", 404)
    return found[0].sid


def announce_to_conference(sid: str, url: str) -> None:
    """Play the TwiML at `url` to everyone in a conference."""
    _rest("announce", lambda c: c.conferences(sid).update(announce_url=url, announce_method="POST"))


def end_conference(sid: str) -> None:
    """End a conference; everyone in it continues after their Dial."""
    _rest("end conference", lambda c: c.conferences(sid).update(status="completed"))
