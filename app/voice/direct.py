"""The greeting answered beside Flask's request dispatch: every call starts there.

Measured in-process, Flask's handling of a request (its request context, the session and
login hooks, the before and after hooks, werkzeug's form parsing, the context-local
lookups of every settings read) cost a greeting about as much as the greeting itself. This
WSGI layer, in front of the app, answers a plain greeting (POST to INCOMING with no query,
a form body within the bound, Twilio's signature valid) with `views.greeting` in an app
context of its own, the same function the Flask view calls, and sends the response with the
headers every response carries.

Everything else goes to Flask untouched, body included, and so does a greeting that
`views.greeting` fails to answer (it is run again there): a forged request gets Flask's 403,
a malformed one its 400, an oversized one its 413, and a Redis or database failure the
spoken apology of app.telephony.failures. Running a greeting twice is safe: the arrival is
counted by CallSid, and a row is written at most once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from flask import Flask, Response

from app.admin.headers import everywhere
from app.infra import request_limits, table_cache
from app.telephony import signature
from app.urls import INCOMING
from app.voice import views

log = logging.getLogger(__name__)
ENDPOINT = "voice.incoming"
FORM = "application/x-www-form-urlencoded"
SIGNATURE = "HTTP_X_TWILIO_SIGNATURE"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class DirectGreeting:
    """WSGI middleware: plain greetings answered here, every other request by `wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp):
        self.app, self.wsgi_app = app, wsgi_app
        self.headers = list(everywhere(app).items())

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == INCOMING
            and environ.get("REQUEST_METHOD") == "POST"
            and not environ.get("QUERY_STRING")
        ):
            response = self._greet(environ)
            if response is not None:
                # What werkzeug's Response.__call__ sends for a TwiML document, without it.
                start_response(response.status, [*response.headers.items(), *self.headers])
                return [response.get_data()]
        return self.wsgi_app(environ, start_response)

    def _greet(self, environ: dict) -> Response | None:
        form = read_form(environ, request_limits.bound_of(self.app, ENDPOINT))
        if form is None:
            return None
        with self.app.app_context():
            url = signature.signed_url(environ)
            if not signature.signs(environ.get(SIGNATURE, ""), url, form):
                return None  # refused (and logged) by the view's own check
            table_cache.serving_one_request()
            try:
                response = self.app.make_response(views.greeting(form))
            except Exception:  # noqa: BLE001 - the view answers it (its failure handler)
                log.debug("greeting handed to the view after a failure", exc_info=True)
                return None
        return response


def read_form(environ: dict, bound: int | None) -> signature.SignedForm | None:
    """The url-encoded form of the request, parsed as werkzeug parses it; None (the body
    left for Flask to read, as sent) when it is not such a form, has no length or exceeds
    `bound`."""
    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if mimetype != FORM:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0 or (bound is not None and length > bound):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # for Flask, if the request goes on there
    if len(body) != length:
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    items = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    return signature.SignedForm(items)


def install(app: Flask) -> None:
    """Answer plain greetings in front of the app."""
    app.wsgi_app = DirectGreeting(app, app.wsgi_app)  # type: ignore[method-assign]
