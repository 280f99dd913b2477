"""Validate X-Twilio-Signature against the URL Twilio actually signed."""

from __future__ import annotations

import functools
import hmac
import logging
from urllib.parse import quote

from flask import abort, request
from twilio.request_validator import RequestValidator

from app.settings import settings
from app.urls import RETRIES

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The public URL of this request, as Twilio saw it, with the query string left raw.

    Always under PUBLIC_BASE_URL, the address configured at Twilio: never the Host or
    X-Forwarded-Host a request names, which would let a request signed for another line
    (another host, the same auth token) through.
    """
    base = settings.PUBLIC_BASE_URL
    # request.url un-escapes the query string; Twilio signs the bytes it sent.
    path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not path:
        path = quote(request.script_root + request.path)
        if request.query_string:
            path += "?" + request.query_string.decode("latin-1")
    return base + path


def is_valid() -> bool:
    """Whether the current request carries a valid Twilio signature."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = _validator(settings.TWILIO_AUTH_TOKEN)
    url, form = signed_url(), request.form
    # The URL as requested first: one HMAC for nearly every request (`validate` always
    # computes two, with the port and without). Only a URL `validate` accepts passes here.
    expected = validator.compute_signature(url, form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    # Twilio's docs do not say whether it signs a callback URL with its connection
    # overrides (the fragment, which it never sends) or without: both are accepted.
    return validator.validate(url, form, signature) or validator.validate(
        f"{url}#{RETRIES}", form, signature
    )


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_request(view):
    """Reject (403) any request to a webhook that Twilio did not sign."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not is_valid():
            log.warning("rejected unsigned or forged request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
