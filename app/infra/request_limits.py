"""Request bodies are bounded before anything reads them: more than a route allows gets 413.

Without a bound, one url-encoded body of 10 MB grew a web worker by hundreds of megabytes
while werkzeug parsed it, before the signature check could refuse it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request

# Twilio's webhooks are small forms: a call's parameters, or a text of at most 1,600
# characters (https://www.twilio.com/docs/errors/14103) with up to ten media URLs
# (https://www.twilio.com/docs/messaging/guides/webhook-request). Even fully percent-encoded
# that is well under 64 KB; so are the admin's forms.
DEFAULT_MAX_BODY_BYTES = 64 * 1024

View = TypeVar("View", bound=Callable)


def max_body(limit: int) -> Callable[[View], View]:
    """Let one view accept bodies of up to `limit` bytes instead of the default."""

    def mark(view: View) -> View:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return mark


def bound_of(app: Flask, endpoint: str | None) -> int | None:
    """The most bytes a body sent to `endpoint` may have (None: no bound)."""
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "max_body_bytes", app.config["MAX_CONTENT_LENGTH"])


def _bound_body() -> None:
    request.max_content_length = allowed = bound_of(current_app, request.endpoint)
    if allowed is None:
        return
    if request.content_length is not None:
        if request.content_length > allowed:
            abort(413)  # refused on the declared length, before a byte is read
    elif request.headers.get("Transfer-Encoding") and "wsgi.input_terminated" in request.environ:
        _read_unannounced(allowed)


def _read_unannounced(allowed: int) -> None:
    """Read a body sent without a length (chunked) now, up to one byte past the bound.

    werkzeug would cut such a body off at the bound without a word, and the view would see
    a truncated form; here it is refused whole, or handed on with its length.
    """
    environ, body = request.environ, bytearray()
    while len(body) <= allowed:
        piece = environ["wsgi.input"].read(allowed + 1 - len(body))
        if not piece:
            break
        body += piece
    if len(body) > allowed:
        abort(413)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    del environ["wsgi.input_terminated"], environ["HTTP_TRANSFER_ENCODING"]  # as if sent so


def init_app(app: Flask) -> None:
    """Bound every request's body; registered before any hook that could parse a form."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's own default is no bound
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_BODY_BYTES
    app.before_request(_bound_body)
