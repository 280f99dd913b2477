"""The REST API through the stock twilio.rest.Client and raw HTTP: auth, errors, faults."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.twin.support import LINE, twiml
from twin.faults import RestPace

PHONE = "+15550100021"


def test_client_creates_updates_and_deletes_a_call(twin, fake_app):
    fake_app.on("/outbound", twiml('<Say>This is the line calling.</Say><Pause length="1000"/>'))
    fake_app.on("/cb", "")
    client = twin.client()
    call = client.calls.create(
        to=PHONE,
        from_=LINE,
        url=fake_app.url("/outbound"),
        status_callback=fake_app.url("/cb"),
        status_callback_event=["initiated", "answered", "completed"],
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert call.direction == "outbound-api"
    phone = twin.caller(call.sid)
    assert phone.number == PHONE
    phone.wait_until_heard("the line calling")
    assert client.calls(call.sid).fetch().status == "in-progress"
    assert call.sid in [c.sid for c in client.calls.list(to=PHONE)]
    client.calls(call.sid).update(twiml="<Response><Say>Changed.</Say><Pause/></Response>")
    phone.wait_until_heard("changed")
    with pytest.raises(TwilioRestException) as busy:
        client.calls(call.sid).delete()
    assert busy.value.status == 400 and busy.value.code == 20009
    client.calls(call.sid).update(status="completed")
    assert phone.wait_until_ended() == "completed"
    fetched = client.calls(call.sid).fetch()
    assert fetched.status == "completed" and fetched.duration is not None
    twin.delete_settle_seconds = 0  # the wait after the end is pinned in test_deletion
    assert client.calls(call.sid).delete() is True
    with pytest.raises(TwilioRestException) as gone:
        client.calls(call.sid).fetch()
    assert gone.value.status == 404 and gone.value.code == 20404
    assert call.sid not in [c.sid for c in client.calls.list()]
    twin.wait_idle()
    events = [(h["CallStatus"], h["SequenceNumber"]) for h in fake_app.hits_for("/cb")]
    assert events == [("initiated", "0"), ("in-progress", "1"), ("completed", "2")]
    assert fake_app.hits_for("/outbound")[0]["Direction"] == "outbound-api"


def test_client_sends_lists_and_deletes_a_message(twin, fake_app):
    client = twin.client()
    msg = client.messages.create(
        to=PHONE,
        from_=LINE,
        body="Fusing Hour starts soon.",
        status_callback=fake_app.url("/sms-status"),
    )
    assert msg.sid.startswith("SM") and msg.status == "queued"
    twin.wait_for(lambda: twin.inbox(PHONE))
    assert twin.inbox(PHONE) == ["Fusing Hour starts soon."]
    twin.wait_idle()
    statuses = [h["MessageStatus"] for h in fake_app.hits_for("/sms-status")]
    assert statuses == ["sent", "delivered"]
    assert client.messages(msg.sid).fetch().status == "delivered"
    assert [m.sid for m in client.messages.list(to=PHONE)] == [msg.sid]
    twin.delete_settle_seconds = 0  # the wait after delivery is pinned in test_deletion
    assert client.messages(msg.sid).delete() is True
    assert client.messages.list(to=PHONE) == []


def test_opted_out_number_gets_21610(twin):
    twin.opt_out(PHONE)
    with pytest.raises(TwilioRestException) as exc:
        twin.client().messages.create(to=PHONE, from_=LINE, body="hi")
    assert exc.value.status == 400 and exc.value.code == 21610
    assert twin.inbox(PHONE) == []


def test_bad_auth_is_401_with_twilio_error_json(twin):
    url = f"{twin.api_base}/2010-04-01/Accounts/{twin.account_sid}/Calls.json"
    resp = requests.get(url, auth=(twin.account_sid, "wrong"), timeout=5)
    assert resp.status_code == 401
    assert resp.json()["code"] == 20003 and resp.json()["status"] == 401
    assert requests.get(url, timeout=5).status_code == 401
    wrong = Client(twin.account_sid, "wrong")
    wrong.api.base_url = twin.api_base
    with pytest.raises(TwilioRestException) as exc:
        wrong.messages.create(to=PHONE, from_=LINE, body="hi")
    assert exc.value.status == 401 and exc.value.code == 20003
    assert twin.messages == []


def test_unknown_sid_is_404_json(twin):
    url = f"{twin.api_base}/2010-04-01/Accounts/{twin.account_sid}/Calls/CA{'f' * 32}.json"
    resp = requests.get(url, auth=(twin.account_sid, twin.auth_token), timeout=5)
    body = resp.json()
    assert resp.status_code == 404
    assert body["code"] == 20404 and body["status"] == 404 and "more_info" in body
    assert "message" in body


def test_fault_knob_and_request_log(twin, fake_app):
    fake_app.on("/outbound", twiml("<Hangup/>"))
    client = twin.client()
    twin.rest_faults.add(status=500, times=2, method="POST", path_contains="/Calls")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as exc:
            client.calls.create(to=PHONE, from_=LINE, url=fake_app.url("/outbound"))
        assert exc.value.status == 500
    call = client.calls.create(to=PHONE, from_=LINE, url=fake_app.url("/outbound"))
    twin.rest_faults.add(status=429, times=None, path_contains="/Messages")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as limited:
            client.messages.create(to=PHONE, from_=LINE, body="hi")
        assert limited.value.status == 429 and limited.value.code == 20429
    twin.rest_faults.clear()
    assert client.messages.create(to=PHONE, from_=LINE, body="hi").status == "queued"
    posts = [r for r in twin.requests if r.method == "POST" and r.path.endswith("/Calls.json")]
    assert [r.status for r in posts] == [500, 500, 201]
    assert posts[-1].form["To"] == PHONE and posts[-1].form["Url"] == fake_app.url("/outbound")
    twin.caller(call.sid).wait_until_ended()


def test_create_call_validates_like_twilio(twin):
    with pytest.raises(TwilioRestException) as exc:
        twin.client().calls.create(to=PHONE, from_=LINE)
    assert exc.value.code == 21205


def _fetch_a_call(client: Client) -> int:
    """The status of a fetch of a call that does not exist: 404, or 429 when refused."""
    try:
        client.calls("CA" + "0" * 32).fetch()
    except TwilioRestException as exc:
        return exc.status
    return 200


def test_the_pace_knob_delays_answers_and_refuses_beyond_the_concurrency_limit(twin):
    twin.rest_pace = RestPace(latency_ms=400, concurrency=2)
    clients = [twin.client() for _ in range(6)]
    began = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(_fetch_a_call, clients))
    assert time.monotonic() - began >= 0.4  # nobody was answered before the latency
    pace = twin.rest_pace
    assert pace.max_in_flight >= 3 and pace.in_flight == 0  # counted at the twin, all answered
    assert statuses.count(429) == pace.refused >= pace.max_in_flight - 2
    assert statuses.count(404) == 6 - pace.refused >= 2
    refused = [r for r in twin.requests if r.status == 429]
    assert len(refused) == pace.refused


def test_the_pace_knob_refuses_a_share_at_random(twin):
    client = twin.client()
    twin.rest_pace = RestPace(rate_429=1.0)
    with pytest.raises(TwilioRestException) as limited:
        client.calls("CA" + "0" * 32).fetch()
    assert limited.value.status == 429 and limited.value.code == 20429
    twin.rest_pace = RestPace(rate_429=0.5, seed=7)
    statuses = [_fetch_a_call(client) for _ in range(40)]
    assert 5 < statuses.count(429) < 35 and statuses.count(429) + statuses.count(404) == 40
