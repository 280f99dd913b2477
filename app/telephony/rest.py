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


class CallGone(TelephonyError):
    """The call no longer exists at Twilio (404): it ended or was deleted."""


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


def _call(action, sid: str, what: str):
    try:
        return action(client().calls(sid))
    except TwilioRestException as exc:
        if exc.status == 404:
            raise CallGone(f"{what}: call not found", 404) from exc
        raise TelephonyError(f"{what}: HTTP {exc.status} code {exc.code}", exc.status) from exc
    except OSError as exc:  # connection refused, timeouts
        raise TelephonyError(f"{what}: {type(exc).__name__}", None) from exc


def redirect_call(sid: str, url: str) -> None:
    """Move a live call to new TwiML fetched from `url`."""
    _call(lambda call: call.update(url=url, method="POST"), sid, "redirect")


def hang_up_call(sid: str) -> None:
    """End a live call."""
    _call(lambda call: call.update(status="completed"), sid, "hang up")


def delete_call_record(sid: str) -> None:
    """Delete a finished call's record at Twilio."""
    _call(lambda call: call.delete(), sid, "delete")
