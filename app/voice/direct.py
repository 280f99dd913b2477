"""The greeting answered beside Flask's request dispatch: every call starts there.

Measured in-process, Flask's handling of a request (its request context, the session and
login hooks, the before and after hooks, werkzeug's form parsing, the context-local
lookups of every settings read) cost a greeting about as much as the greeting itself. This
WSGI layer, in front of the app, answers a plain greeting (POST to INCOMING with no query,
a form body within the bound, Twilio's signature valid) with `views.greeting` in an app
context of its own, the same function the Flask view calls, and sends the response with the
headers every response carries.

Everything else goes to Flask untouched, body included: a forged request gets Flask's 403
(and its log line), an oversized one its 413, one with a query the view. A greeting that
fails on the way (a malformed CallSid, Redis or the database down) is answered by the view's
own error handlers, in a request context made for it then: its 400, or the spoken apology
of app.telephony.failures. It is not run again, so what it did before it failed (a text
queued for a caller who is not a member, a Fusing Hour guest paired) happens once.
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
            form = read_form(environ, request_limits.bound_of(self.app, ENDPOINT))
            if form is not None:
                with self.app.app_context():
                    try:
                        greeting = self._greet(environ, form)
                    except Exception as error:  # noqa: BLE001 - answered as the view's would be
                        return self._failed(environ, error)(environ, start_response)
                if greeting is not None:
                    # What werkzeug's Response.__call__ sends for a TwiML document, without it.
                    start_response(greeting.status, [*greeting.headers.items(), *self.headers])
                    return [greeting.get_data()]
        return self.wsgi_app(environ, start_response)

    def _greet(self, environ: dict, form: signature.SignedForm) -> Response | None:
        """The greeting, or None for a request the view's own check refuses (and logs)."""
        if not signature.signs(environ.get(SIGNATURE, ""), signature.signed_url(environ), form):
            return None
        table_cache.serving_one_request()
        return self.app.make_response(views.greeting(form))

    def _failed(self, environ: dict, error: Exception) -> Response:
        """A greeting that failed (Redis or the database down, a malformed form), answered by
        the view's error handlers in a request context made now, not run again: what it did
        before it failed (a text queued, a guest paired) must not happen twice."""
        with self.app.request_context(environ):
            return self.app.finalize_request(self.app.handle_user_exception(error))


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
    try:
        body = environ["wsgi.input"].read(length)
    except Exception:  # noqa: BLE001 - a client gone mid-body: Flask's own read answers it
        log.debug("greeting body unreadable, handed to Flask", exc_info=True)
        return None
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
