"""Webhook delivery: once, retried only as the URL's connection overrides allow, never kinder."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from twilio.request_validator import RequestValidator

from tests.twin.support import AUTH_TOKEN, twiml
from twin.overrides import Failure, InvalidOverride, Overrides, parse
from twin.webhooks import WebhookClient

FORM = {"CallSid": "CA" + "5" * 32, "AccountSid": "AC" + "1" * 32}


def _closed_port_url(fragment: str = "") -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/status" + (f"#{fragment}" if fragment else "")


@pytest.fixture
def client() -> WebhookClient:
    return WebhookClient(AUTH_TOKEN)


def _attempts(client: WebhookClient) -> list[int]:
    return [record.attempt for record in client.snapshot()]


def test_without_overrides_twilios_defaults_apply():
    assert parse("") == Overrides(
        connect_ms=5_000,
        read_ms=15_000,
        total_ms=15_000,
        retries=1,
        policy=frozenset({Failure.CONNECT}),
    )


def test_overrides_are_read_from_the_fragment():
    found = parse("ct=1000&rt=3000&tt=9000&rc=3&rp=ct,rt,5xx&e=dublin")
    assert (found.connect_ms, found.read_ms, found.total_ms, found.retries) == (1000, 3000, 9000, 3)
    assert found.policy == {Failure.CONNECT, Failure.READ, Failure.SERVER}
    assert parse("rp=all").policy == set(Failure)


@pytest.mark.parametrize(
    ("fragment", "code"),
    [("rp=sometimes", 11243), ("rp=all,ct", 11243), ("rc=6", 11100), ("ct=50", 11100)],
)
def test_an_override_out_of_twilios_ranges_is_refused(fragment, code):
    with pytest.raises(InvalidOverride) as refused:
        parse(fragment)
    assert refused.value.code == code


def test_a_5xx_answer_is_not_retried(client, fake_app):
    fake_app.on("/status", lambda form: (503, ""))
    record = client.request(fake_app.url("/status"), "POST", FORM, "call-status")
    assert record.status == 503 and record.failure == Failure.SERVER
    assert len(fake_app.hits_for("/status")) == 1 and _attempts(client) == [1]


def test_a_refused_connection_is_tried_once_more_by_default(client):
    record = client.request(_closed_port_url(), "POST", FORM, "call-status")
    assert record.error and record.failure == Failure.CONNECT
    assert _attempts(client) == [1, 2]


@pytest.mark.parametrize(("fragment", "attempts"), [("rc=0", [1]), ("rc=3", [1, 2, 3, 4])])
def test_the_retry_count_comes_from_the_fragment(client, fragment, attempts):
    client.request(_closed_port_url(fragment), "POST", FORM, "call-status")
    assert _attempts(client) == attempts


def test_a_connection_failure_outside_the_policy_is_not_retried(client):
    client.request(_closed_port_url("rc=3&rp=rt"), "POST", FORM, "call-status")
    assert _attempts(client) == [1]


def _url(fake_app, fragment: str) -> str:
    """The app's /status with a fragment its signature check knows of."""
    fake_app.fragments.append(fragment)
    return fake_app.url(f"/status#{fragment}")


def _slow_first(fake_app, seconds: float) -> None:
    calls = []

    def answer(form):
        calls.append(form)
        if len(calls) == 1:
            threading.Event().wait(seconds)  # the app is slow to answer the first request
        return ""

    fake_app.on("/status", answer)


def test_a_read_timeout_is_retried_only_when_the_policy_names_it(client, fake_app):
    _slow_first(fake_app, 0.6)
    first = client.request(_url(fake_app, "rt=200"), "POST", FORM, "call-status")
    assert first.failure == Failure.READ and len(fake_app.hits_for("/status")) == 1
    _slow_first(fake_app, 0.6)
    again = client.request(_url(fake_app, "rt=200&rp=rt"), "POST", FORM, "call-status")
    assert again.ok and again.attempt == 2
    assert len(fake_app.hits_for("/status")) == 3  # the app got the retried request twice


def test_the_total_time_caps_every_attempt(client, fake_app):
    def slow(form):
        threading.Event().wait(0.5)  # every answer is later than the read timeout
        return ""

    fake_app.on("/status", slow)
    began = time.monotonic()
    url = _url(fake_app, "rt=200&tt=300&rc=5&rp=rt")
    record = client.request(url, "POST", FORM, "call-status")
    assert record.failure == Failure.READ and time.monotonic() - began < 1.0
    assert len(client.snapshot()) <= 2


@pytest.mark.parametrize(("status", "rp"), [(503, "5xx"), (404, "4xx"), (500, "all")])
def test_answers_are_retried_only_with_the_retry_answers_knob(client, fake_app, status, rp):
    fake_app.on("/status", lambda form: (status, ""))
    url = _url(fake_app, f"rc=2&rp={rp}")
    client.request(url, "POST", FORM, "call-status")
    assert len(fake_app.hits_for("/status")) == 1  # by default, never
    client.retry_answers = True
    client.request(url, "POST", FORM, "call-status")
    assert len(fake_app.hits_for("/status")) == 1 + 3


def test_an_invalid_retry_policy_sends_nothing(client, fake_app):
    record = client.request(fake_app.url("/status#rp=sometimes"), "POST", FORM, "call-status")
    assert record.error.startswith("11243") and fake_app.hits_for("/status") == []
    assert client.dropped == [record] and client.snapshot() == []


def test_the_fragment_is_not_sent_and_the_signature_covers_it_by_default(client, fake_app):
    fake_app.fragments.append("rc=2&rp=ct,rt")
    url = fake_app.url("/status#rc=2&rp=ct,rt")
    validator = RequestValidator(AUTH_TOKEN)
    assert client.request(url, "POST", FORM, "call-status").ok
    client.sign_fragment = False
    assert client.request(url, "POST", FORM, "call-status").ok
    requested = fake_app.url("/status")
    assert fake_app.signatures == [
        (requested, validator.compute_signature(url, FORM)),
        (requested, validator.compute_signature(requested, FORM)),
    ]
    assert fake_app.bad_signatures == []


def test_a_get_webhook_signs_its_query_before_the_fragment(client, fake_app):
    fake_app.fragments.append("rc=1")
    assert client.request(fake_app.url("/status?a=1#rc=1"), "GET", FORM, "call-status").ok
    requested, signature = fake_app.signatures[0]
    assert "#" not in requested and "CallSid=" in requested
    assert fake_app.bad_signatures == []


EVENTS = "start end join leave"


def test_a_dropped_kind_never_reaches_the_app(twin, fake_app):
    room = twiml(
        f'<Dial><Conference statusCallback="/events#rc=2&amp;rp=ct,rt" '
        f'statusCallbackEvent="{EVENTS}" endConferenceOnExit="true">r</Conference></Dial>'
    )
    fake_app.fragments.append("rc=2&rp=ct,rt")
    fake_app.on("/voice", room)
    twin.webhook_client.drop.add("conference-status")
    alice, bob = twin.dial("+15550100021"), twin.dial("+15550100022")
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    bob.hang_up()
    alice.wait_until_ended()
    twin.wait_idle()
    assert fake_app.hits_for("/events") == []
    lost = [r.params["StatusCallbackEvent"] for r in twin.webhook_client.dropped]
    assert sorted(lost) == sorted(e["StatusCallbackEvent"] for e in twin.conference("r").events)
    assert len(fake_app.hits_for("/status")) == 2  # the other kinds still arrive


def test_conference_events_carry_their_url_overrides_and_signature(twin, fake_app):
    room = twiml(
        f'<Dial><Conference statusCallback="/events#rc=2&amp;rp=ct,rt" '
        f'statusCallbackEvent="{EVENTS}" endConferenceOnExit="true">r</Conference></Dial>'
    )
    fake_app.fragments.append("rc=2&rp=ct,rt")
    fake_app.on("/voice", room)
    alice, bob = twin.dial("+15550100031"), twin.dial("+15550100032")
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    bob.hang_up()
    alice.wait_until_ended()
    twin.wait_idle()
    events = [hit["StatusCallbackEvent"] for hit in fake_app.hits_for("/events")]
    assert events[-1] == "conference-end" and len(events) == 6
    sent = [r for r in twin.webhooks if r.kind == "conference-status"]
    assert {r.url for r in sent} == {fake_app.url("/events#rc=2&rp=ct,rt")}
