"""Validate X-Twilio-Signature against the URL Twilio actually signed."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Mapping
from urllib.parse import quote

from flask import abort, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.wrappers import Request

from app.settings import settings
from app.urls import RETRIES

log = logging.getLogger(__name__)


class SignedForm(ImmutableMultiDict):
    """A webhook's form as werkzeug holds it, with the `getall` Twilio's validator asks for
    first: without it the validator catches an AttributeError for every parameter, which
    cost a greeting's check 10 us of its 25."""

    def getall(self, key: str) -> list[str]:
        return self.getlist(key)


def signed_url(environ: dict | None = None) -> str:
    """The public URL of this request (or of the WSGI `environ`), as Twilio saw it, with the
    query string left raw.

    Always under PUBLIC_BASE_URL, the address configured at Twilio: never the Host or
    X-Forwarded-Host a request names, which would let a request signed for another line
    (another host, the same auth token) through.
    """
    wsgi = request.environ if environ is None else environ
    # request.url un-escapes the query string; Twilio signs the bytes it sent.
    path = wsgi.get("RAW_URI") or wsgi.get("REQUEST_URI")
    if not path:  # a server that keeps neither: the path as werkzeug reads it
        asked = request if environ is None else Request(environ)
        path = quote(asked.script_root + asked.path)
        if asked.query_string:
            path += "?" + asked.query_string.decode("latin-1")
    return settings.PUBLIC_BASE_URL + path


def is_valid() -> bool:
    """Whether the current request carries a valid Twilio signature."""
    return signs(request.headers.get("X-Twilio-Signature", ""), signed_url(), request.form)


def signs(signature: str, url: str, form: Mapping[str, str]) -> bool:
    """Whether `signature` is Twilio's for a POST of `form` to `url`."""
    if not signature:
        return False
    validator = _validator(settings.TWILIO_AUTH_TOKEN)
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
