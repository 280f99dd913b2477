"""Hostile input over every Twilio webhook: never a 500, never a change without a signature.

The routes come from the app's url_map, so a new webhook is covered as soon as it exists.
"""

from __future__ import annotations

import logging
import string
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlparse, urlunparse

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app import create_app, prompts
from tests.support import AUTH_TOKEN, PUBLIC, call_form, changes, sign, stored_state

FIELDS = (
    "CallSid",
    "AccountSid",
    "From",
    "To",
    "CallStatus",
    "Digits",
    "SequenceNumber",
    "StatusCallbackEvent",
    "FriendlyName",
    "ConferenceSid",
    "Timestamp",
    "CallDuration",
    "DialCallStatus",
    "Body",
    "MessageSid",
    "MessageStatus",
)
ODD_VALUES = (
    "",
    " ",
    "-1",
    "0",
    "NaN",
    "1e309",
    "99999999999999999999999999",
    "+15550100001",
    "+447700900123",
    "+4915550123456",
    "anonymous",
    "restricted",
    "+266696687",
    "completed",
    "participant-join",
    "participant-leave",
    "conference-end",
    "*",
    "1",
    "2",
    "<Response><Hangup/></Response>",
    "'; DROP TABLE call; --",
    "\x00",
    "%00",
    "Tue, 31 Feb 2099 25:61:61 +9999",
    "ünïcødé ☎ 電話 🙂",
)
ODD_QUERIES = ("", "?", "?%", "?%zz=1", "?a=b=c", "?&&&", "?room=%3Cx%3E", "?session=-1")


def _sid(prefix: str) -> st.SearchStrategy[str]:
    return st.text(string.hexdigits.lower(), min_size=32, max_size=32).map(lambda h: prefix + h)


def _huge(size: int) -> str:
    return "9" * size


values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from((10_000, 300_000, 700_000)).map(_huge),
    _sid("CA"),
    _sid("CF"),
)
keys = st.one_of(
    st.sampled_from(FIELDS), st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
)
forms = st.lists(st.tuples(keys, values), max_size=12).map(MultiDict)
query_pairs = st.lists(
    st.tuples(
        st.sampled_from(("room", "session", "late", "x")), values.filter(lambda v: len(v) < 200)
    ),
    max_size=3,
).map(
    lambda pairs: (
        "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs) if pairs else ""
    )
)
queries = st.one_of(st.sampled_from(ODD_QUERIES), query_pairs)
KNOWN_SIDS = tuple("CA" + digit * 32 for digit in "0123")


def _served(base: dict[str, str], changes: list[tuple[str, str]], dropped: list[str]) -> MultiDict:
    form = {**base, **dict(changes)}
    return MultiDict([(k, v) for k, v in form.items() if k not in dropped])


# Forms Twilio could send, for one of a few calls the line knows, with a few fields made odd
# or left out: most of them reach the handler that serves the call.
served_forms = st.builds(
    _served,
    st.sampled_from(KNOWN_SIDS).map(
        lambda sid: call_form(
            "+15550100" + sid[-3:],
            sid,
            Digits="1",
            CallStatus="in-progress",
            DialCallStatus="completed",
            SequenceNumber="1",
            StatusCallbackEvent="participant-join",
            FriendlyName="room-" + sid[-20:],
            MessageSid="SM" + sid[2:],
            MessageStatus="delivered",
            Body="HELP",
        )
    ),
    st.lists(st.tuples(st.sampled_from(FIELDS[1:]), values), max_size=3),
    st.lists(st.sampled_from(FIELDS[1:]), max_size=2),
)


def _round_trips(query: str) -> bool:
    # twilio-python's validator rebuilds the URL with urlunparse, which drops a bare "?": a URL
    # it cannot rebuild can never validate. The line builds no such URL for Twilio to call.
    url = "http://line.test/p" + query
    return urlunparse(urlparse(url)) == url


signed_queries = queries.filter(_round_trips)
served_queries = st.one_of(st.just(""), st.just(""), signed_queries)
bad_signatures = st.one_of(
    st.none(),
    st.just(""),
    st.text(string.ascii_letters + string.digits + "+/=", max_size=60),
    st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=30),
)


def webhook_paths() -> list[str]:
    """Every POST route under /twilio in the app, arguments filled with a dummy value."""
    app = create_app({"TESTING": True})
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/twilio") and "POST" in rule.methods:
            paths.append(rule.build(dict.fromkeys(rule.arguments, "x"), append_unknown=False)[1])
    return sorted(paths)


PATHS = webhook_paths()
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _post(client, path: str, form: MultiDict, signature: str | None):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    # As gunicorn and werkzeug's server do: the request line as sent, a bare "?" included.
    raw = {"RAW_URI": path}
    return client.post(path, data=form, headers=headers, environ_overrides=raw)


def test_every_twilio_webhook_is_covered():
    assert "/twilio/voice" in PATHS and "/twilio/voice/status" in PATHS
    assert any(path.startswith("/twilio/fusing/") for path in PATHS)


@FUZZ
@given(path=st.sampled_from(PATHS), query=queries, form=forms, signature=bad_signatures)
def test_unsigned_or_forged_requests_change_nothing(app, client, path, query, form, signature):
    before = stored_state(app)
    response = _post(client, path + query, form, signature)
    assert response.status_code in (403, 413), response.status_code
    assert changes(before, stored_state(app)) == []


@FUZZ
@given(path=st.sampled_from(PATHS), query=queries, form=forms)
def test_signed_for_another_url_or_token_changes_nothing(app, client, path, query, form):
    before = stored_state(app)
    elsewhere = sign("http://elsewhere.test" + path + query, form)
    wrong_token = sign(PUBLIC + path + query, form, token=AUTH_TOKEN + "x")
    for signature in (elsewhere, wrong_token):
        assert _post(client, path + query, form, signature).status_code in (403, 413)
    assert changes(before, stored_state(app)) == []


def _check_answer(response, failures=None) -> None:
    """A signed request gets a real answer: no 5xx, no 403, no apology, no failure logged."""
    assert response.status_code < 500, (response.status_code, response.data[:300])
    assert response.status_code != 403, "a correctly signed request was refused"
    assert prompts.APOLOGY.encode() not in response.data, response.data[:300]
    if failures is not None:
        assert failures() == [], [r.getMessage() for r in failures()]
    if not response.data.strip():
        assert 200 <= response.status_code < 500
        return
    if response.status_code >= 400:
        return  # werkzeug's own error pages (400, 413) are HTML; Twilio only reads the status
    assert response.mimetype in ("text/xml", "application/xml"), response.mimetype
    assert ET.fromstring(response.data).tag == "Response"


@pytest.fixture
def failures(caplog):
    """Log records of webhooks that failed (the apology or a 503 went out)."""
    with caplog.at_level(logging.ERROR, logger="app.telephony.failures"):
        yield lambda: [r for r in caplog.records if r.name == "app.telephony.failures"]


@FUZZ
@given(path=st.sampled_from(PATHS), query=signed_queries, form=forms)
@example(path="/twilio/fusing/countdown", query="?session=", form=MultiDict())
@example(path="/twilio/voice/status", query="", form=MultiDict({"SequenceNumber": "abc"}))
@example(path="/twilio/fusing/back", query="", form=MultiDict({"CallSid": "CA" + "0" * 80}))
def test_signed_hostile_requests_never_fail(app, client, failures, path, query, form):
    signature = sign(PUBLIC + path + query, form)
    _check_answer(_post(client, path + query, form, signature), failures)


def test_signed_odd_requests_about_known_calls_are_served(app, client, failures):
    """Most examples reach a handler that serves a call, and each gets a real answer."""
    for sid in KNOWN_SIDS:  # the calls the examples are about, known to the line
        form = call_form("+15550100" + sid[-3:], sid)
        _post(
            client, "/twilio/voice/wait", MultiDict(form), sign(PUBLIC + "/twilio/voice/wait", form)
        )
    reached: list[bool] = []

    known = call_form("+15550100000", KNOWN_SIDS[0])
    overlong = {"Digits": "123456789", "DialCallStatus": "x" * 200, "CallStatus": "y" * 200}

    @FUZZ
    @given(path=st.sampled_from(PATHS), query=served_queries, form=served_forms)
    @example(path="/twilio/voice/menu", query="", form=MultiDict({**known, **overlong}))
    @example(path="/twilio/voice/after", query="", form=MultiDict({**known, **overlong}))
    @example(path="/twilio/voice/status", query="", form=MultiDict({**known, **overlong}))
    def probe(path, query, form):
        response = _post(client, path + query, form, sign(PUBLIC + path + query, form))
        _check_answer(response, failures)
        reached.append(response.status_code != 400)

    probe()
    share = sum(reached) / len(reached)
    print(f"signed examples that reached a handler: {sum(reached)} of {len(reached)}")
    assert share > 0.5, share


@pytest.mark.parametrize("path", PATHS)
def test_repeated_keys_and_missing_fields_are_answered(app, client, failures, path):
    form = MultiDict([("CallSid", "CA" + "1" * 32), ("CallSid", "CA" + "2" * 32), ("Digits", "1")])
    for data in (form, MultiDict()):
        _check_answer(_post(client, path, data, sign(PUBLIC + path, data)), failures)
