"""Every Twilio-facing route checks the signature: a complete form, unsigned or forged, gets
exactly 403 and changes nothing; the same form signed right is served.

The routes come from the app's url_map, so a new webhook is covered as soon as it exists.
"""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from app import create_app
from app.telephony import signature
from app.telephony.signature import SignedForm
from tests.support import AUTH_TOKEN, PUBLIC, call_form, changes, sign, stored_state


def _twilio_routes() -> list[tuple[str, str]]:
    """(endpoint, path) of every POST route under /twilio."""
    app = create_app({"TESTING": True})
    return sorted(
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/twilio") and "POST" in rule.methods
    )


ROUTES = _twilio_routes()


def _complete_form(sid: str) -> dict[str, str]:
    """Every field any of the line's webhooks reads, well formed."""
    return call_form(
        "+15550100177",
        sid,
        CallStatus="in-progress",
        Digits="1",
        DialCallStatus="answered",
        SequenceNumber="1",
        StatusCallbackEvent="participant-join",
        FriendlyName="room-0123456789abcdef0123",
        ConferenceSid="CF" + "a" * 32,
        Timestamp="Tue, 01 Dec 2026 10:00:00 +0000",
        CallDuration="3",
        MessageSid="SM" + "b" * 32,
        MessageStatus="delivered",
        Body="JOIN",
        SmsStatus="received",
    )


def _forgeries(path: str, form: dict[str, str]) -> dict[str, dict[str, str]]:
    """Headers of requests Twilio did not sign, by how they are wrong."""
    tampered = {**form, "From": "+15550100178"}
    return {
        "unsigned": {},
        "garbage": {"X-Twilio-Signature": "not-a-signature"},
        "wrong token": {"X-Twilio-Signature": sign(PUBLIC + path, form, AUTH_TOKEN + "x")},
        "another host": {"X-Twilio-Signature": sign("https://elsewhere.test" + path, form)},
        "another form": {"X-Twilio-Signature": sign(PUBLIC + path, tampered)},
    }


def test_every_webhook_route_is_listed():
    endpoints = {endpoint for endpoint, _ in ROUTES}
    assert {"voice.incoming", "voice.after_choice", "fusing.back", "sms.incoming"} <= endpoints


@pytest.mark.parametrize(("endpoint", "path"), ROUTES, ids=[e for e, _ in ROUTES])
def test_a_forged_request_gets_403_and_changes_nothing(app, client, endpoint, path):
    sid = "CA" + "c" * 32
    form = _complete_form(sid)
    # The call is known, so that a route which skipped the check would have something to change.
    signed = {"X-Twilio-Signature": sign(PUBLIC + "/twilio/voice/wait", form)}
    assert client.post("/twilio/voice/wait", data=form, headers=signed).status_code == 200
    before = stored_state(app)
    for how, headers in _forgeries(path, form).items():
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 403, (endpoint, how, response.status_code)
    assert changes(before, stored_state(app)) == [], endpoint
    served = client.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)})
    assert served.status_code in (200, 204), (endpoint, served.status_code)


def test_a_signed_form_is_checked_as_werkzeugs_form_is(app):
    items = [("CallSid", "CA" + "2" * 32), ("From", "+15550100420"), ("Media", "b"), ("Media", "a")]
    url = PUBLIC + "/twilio/voice"
    signed, plain = SignedForm(items), MultiDict(items)
    assert signed.getall("Media") == ["b", "a"]
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.compute_signature(url, signed) == validator.compute_signature(url, plain)
    with app.app_context():
        good = sign(url, plain)
        assert signature.signs(good, url, signed) and signature.signs(good, url, plain)
        assert not signature.signs(good, url, SignedForm(items[:-1]))


def test_the_signed_url_from_an_environ_is_the_requests_own(app):
    with app.test_request_context("/twilio/voice/w%C3%A4it?lang=de&x=%2F", method="POST") as ctx:
        environ = {
            k: v for k, v in ctx.request.environ.items() if k not in ("RAW_URI", "REQUEST_URI")
        }
        ctx.request.environ.pop("RAW_URI", None)
        ctx.request.environ.pop("REQUEST_URI", None)
        in_request = signature.signed_url()
    with app.app_context():  # as app.voice.direct asks: no request context
        assert signature.signed_url(environ) == in_request
    assert in_request == PUBLIC + "/twilio/voice/w%C3%A4it?lang=de&x=%2F"
