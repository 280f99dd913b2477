"""The greeting answered in front of Flask (app.voice.direct): the same answer as the view,
and every request it does not answer handed to Flask whole."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask import Flask, request, request_started

from app.db import db, utcnow
from app.line import calls
from app.line.models import Block
from app.voice import direct
from tests.support import AUTH_TOKEN, PUBLIC, Twilio, call_form, sign, spoken, twiml

DAY = timedelta(days=1)


@pytest.fixture
def dispatched(app):
    """The requests Flask itself dispatched (their paths)."""
    seen: list[str] = []

    def note(sender, **_extra):
        seen.append(request.path)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


def _through_flask(app: Flask) -> Twilio:
    """A client of the same app with nothing in front of Flask's own dispatch."""
    inner = app.wsgi_app
    while isinstance(inner, direct.DirectGreeting):
        inner = inner.wsgi_app
    flask_only = Flask.__new__(Flask)
    flask_only.__dict__.update(app.__dict__)
    flask_only.wsgi_app = inner
    return Twilio(flask_only.test_client())


def _same(response) -> tuple:
    """A greeting's response with its arrival stamp, the one part that moves, taken out."""
    body = re.sub(rb"arrived=\d+", b"arrived=T", response.data)
    # Flask adds "Vary: Cookie" once anything looked at the session: the greeting sets no
    # cookie and is no page to cache, so the direct answer leaves it out.
    headers = sorted(
        (k, v) for k, v in response.headers.items() if k not in ("Content-Length", "Vary")
    )
    assert int(response.headers["Content-Length"]) == len(response.data)
    return response.status_code, headers, body


def test_a_plain_greeting_is_answered_without_flask_dispatching_it(twilio, dispatched):
    root = twiml(twilio.post("/twilio/voice", call_form("+15550100410")))
    assert root.find("Gather") is not None
    assert dispatched == []


def test_the_direct_greeting_answers_as_the_view_does(app, twilio, within_one_hour):
    view = _through_flask(app)
    cases = [
        ("+15550100411", "+15550100412", {}),  # a first-time caller, in English
        ("+4915550000411", "+4915550000412", {}),  # a German number: the greeting in German
        ("anonymous", "anonymous", {}),  # withheld
    ]
    for first, second, extra in cases:
        direct_answer = twilio.post("/twilio/voice", call_form(first, **extra))
        view_answer = view.post("/twilio/voice", call_form(second, **extra))
        assert _same(direct_answer) == _same(view_answer), first
    # A returning caller: the short greeting, either way.
    for number, client in (("+15550100413", twilio), ("+15550100414", view)):
        client.post("/twilio/voice", call_form(number))
        form = call_form(number)
        client.post("/twilio/voice/menu", {**form, "Digits": "1"})
        client.post("/twilio/voice/status", {**form, "CallStatus": "completed"})
    again = [
        _same(client.post("/twilio/voice", call_form(number)))
        for number, client in (("+15550100413", twilio), ("+15550100414", view))
    ]
    assert again[0] == again[1]
    assert b"arrived=T" in again[0][2]


def test_a_blocked_caller_is_turned_away_directly_as_by_the_view(app, twilio, dispatched):
    with app.app_context():
        identity = calls.caller_of("CA" + "1" * 32, "+15550100415").identity
        db.session.add(Block(identity=identity, reason="test", expires_at=utcnow() + DAY))
        db.session.commit()
    root = twiml(twilio.post("/twilio/voice", call_form("+15550100415")))
    assert root[-1].tag == "Hangup"
    assert dispatched == []


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"signature": "forged"}, 403),
        ({"query": "?x=1"}, 200),
        ({"path": "/twilio/voice/"}, 404),
    ],
)
def test_what_the_direct_greeting_does_not_answer_flask_does(
    app, client, dispatched, change, status
):
    form = call_form("+15550100416")
    path = change.get("path", "/twilio/voice") + change.get("query", "")
    signature = change.get("signature") or sign(PUBLIC + path, form)
    response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == status
    assert dispatched == [path.split("?")[0]]
    if status == 200:
        assert twiml(response).find("Gather") is not None


def test_a_body_over_the_bound_is_refused_by_flask(app, client, dispatched):
    form = call_form("+15550100417", Padding="x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    signature = sign(PUBLIC + "/twilio/voice", form)
    response = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 413
    assert dispatched == ["/twilio/voice"]


def test_a_failed_direct_greeting_is_answered_by_the_views_handler_and_not_run_again(
    app, twilio, dispatched, monkeypatch, caplog
):
    arrivals: list[str] = []

    def down(sid, *_args, **_kwargs):
        arrivals.append(sid)
        raise ConnectionError("redis is down")

    monkeypatch.setattr("app.line.calls.count_arrival", down)
    response = twilio.post("/twilio/voice", call_form("+15550100418"))
    root = twiml(response)
    assert "sorry" in spoken(root).lower() and root[-1].tag == "Hangup"
    assert len(arrivals) == 1  # not greeted a second time by the view
    assert dispatched == []
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any("voice webhook voice.incoming failed" in r.getMessage() for r in caplog.records)


def test_a_malformed_call_sid_gets_the_views_400(app, client, dispatched):
    form = call_form("+15550100421", sid="not-a-call-sid")
    signature = sign(PUBLIC + "/twilio/voice", form)
    response = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400
    assert dispatched == []


@pytest.mark.parametrize(
    ("environ", "parsed"),
    [
        ({"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "7"}, True),
        ({"CONTENT_TYPE": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}, True),
        ({"CONTENT_TYPE": "multipart/form-data; boundary=x"}, False),
        ({"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": ""}, False),
        ({"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "8"}, False),
        ({"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "-1"}, False),
    ],
)
def test_read_form_takes_only_a_whole_urlencoded_body_within_the_bound(environ, parsed):
    body = b"a=1&b=%"
    environ = {"CONTENT_LENGTH": str(len(body)), **environ, "wsgi.input": io.BytesIO(body)}
    form = direct.read_form(environ, bound=64)
    assert (form is not None) == parsed
    if parsed:
        assert form.to_dict() == {"a": "1", "b": "%"}
    if environ["CONTENT_LENGTH"] not in ("", "-1"):
        assert environ["wsgi.input"].read() == body  # left for Flask, whatever was read
    assert direct.read_form({**environ, "wsgi.input": io.BytesIO(body)}, bound=6) is None


def test_the_direct_greeting_checks_the_signature_with_the_lines_token(app, client, dispatched):
    form = call_form("+15550100419")
    signature = sign(PUBLIC + "/twilio/voice", form, token=AUTH_TOKEN[::-1])
    response = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert dispatched == ["/twilio/voice"]
