"""Helpers for the twin's own tests: a throwaway webhook app and TwiML documents."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from twin.server import ServerThread

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "token-for-twin-tests"
LINE = "+15550100000"

Handler = Callable[[dict], "str | tuple[int, str]"]


class FakeApp:
    """A tiny webhook app: fixed TwiML per path, every request's signature checked."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: list[tuple[str, dict]] = []
        self.bad_signatures: list[str] = []
        self.signatures: list[tuple[str, str]] = []  # (URL requested, X-Twilio-Signature)
        # Fragments the app gave in its URLs: a signature over the URL with one is good too.
        self.fragments: list[str] = []
        self.lock = threading.Lock()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.flask = Flask("fake_app")
        self.flask.add_url_rule("/<path:path>", "any", self._serve, methods=["GET", "POST"])
        self.server = ServerThread(self.flask)
        self.base = f"http://127.0.0.1:{self.server.port}"

    def _serve(self, path: str) -> Response:
        params = request.form.to_dict() if request.method == "POST" else {}
        signature = request.headers.get("X-Twilio-Signature", "")
        with self.lock:
            self.signatures.append((request.url, signature))
        urls = [request.url] + [f"{request.url}#{f}" for f in self.fragments]
        if not any(self.validator.validate(url, params, signature) for url in urls):
            with self.lock:
                self.bad_signatures.append(request.url)
            return Response("bad signature", status=403)
        form = {**request.args.to_dict(), **request.form.to_dict()}
        with self.lock:
            self.hits.append(("/" + path, form))
        handler = self.routes.get("/" + path)
        if handler is None:
            return Response("", status=204)
        result = handler(form)
        status, body = result if isinstance(result, tuple) else (200, result)
        return Response(body, status=status, mimetype="text/xml")

    def url(self, path: str) -> str:
        """Absolute URL of a path on this app."""
        return self.base + path

    def on(self, path: str, response: str | Handler) -> None:
        """Answer requests to path with fixed TwiML or a handler(form) -> TwiML."""
        self.routes[path] = response if callable(response) else (lambda form: response)

    def hits_for(self, path: str) -> list[dict]:
        """Forms of the requests made to path, oldest first."""
        with self.lock:
            return [form for hit_path, form in self.hits if hit_path == path]


def twiml(body: str) -> str:
    """Wrap verbs in a VoiceResponse/MessagingResponse document."""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'
