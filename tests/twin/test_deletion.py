"""Deleting records and updating what is over, as Twilio answers: 20009 until a call or text
is complete and for a while after, 21220 for redirecting a call that ended, and the knob for
updating a conference that ended."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.support import eventually
from tests.twin.support import LINE, twiml
from twin import Twin
from twin.models import Message

PHONE = "+15550100061"
TEXTER = "+447700900061"


def _deletes(delete) -> bool:
    """Try a deletion: True once accepted, False while Twilio answers 20009."""
    try:
        delete()
    except TwilioRestException as refused:
        assert (refused.status, refused.code) == (400, 20009)
        return False
    return True


def _live_call(twin, fake_app):
    fake_app.on("/voice", twiml('<Say>Hello.</Say><Pause length="1000"/>'))
    caller = twin.dial(PHONE)
    caller.wait_until_heard("hello")
    return caller


def test_a_call_is_deleted_only_once_complete_and_settled(twin, fake_app):
    assert Twin().delete_settle_seconds == 60  # Twilio: wait at least a minute after the end
    twin.delete_settle_seconds = 10  # simulated: 0.2 s at this twin's time scale of 0.02
    client = twin.client()
    caller = _live_call(twin, fake_app)
    assert not _deletes(client.calls(caller.sid).delete)  # in progress
    caller.hang_up()
    caller.wait_until_ended()
    ended = twin.calls[caller.sid].ended_mono
    assert not _deletes(client.calls(caller.sid).delete)  # complete, not settled yet
    eventually(lambda: _deletes(client.calls(caller.sid).delete), timeout=5)
    assert time.monotonic() - ended >= 10 * twin.time_scale
    with pytest.raises(TwilioRestException) as gone:
        client.calls(caller.sid).delete()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    assert caller.sid not in [c.sid for c in client.calls.list()]


def test_redirecting_a_call_that_ended_is_21220(twin, fake_app):
    caller = _live_call(twin, fake_app)
    caller.hang_up()
    caller.wait_until_ended()
    with pytest.raises(TwilioRestException) as over:
        twin.client().calls(caller.sid).update(url=fake_app.url("/voice"))
    assert (over.value.status, over.value.code) == (400, 21220)
    assert "not in-progress" in over.value.msg


def test_a_text_is_deleted_only_once_its_status_is_final(twin):
    twin.delete_settle_seconds = 0
    stuck = Message(twin.account_sid, LINE, PHONE, "Fusing Hour soon.", status="sent")
    with twin.cond:
        twin.sms.messages[stuck.sid] = stuck  # a carrier that never reports delivery
    client = twin.client()
    assert not _deletes(client.messages(stuck.sid).delete)
    with twin.cond:
        stuck.set_status("undelivered")
    assert _deletes(client.messages(stuck.sid).delete)


def test_inbound_texts_and_replies_are_records_listed_and_deleted_like_sent_ones(twin, fake_app):
    twin.delete_settle_seconds = 10
    fake_app.on("/sms", twiml("<Message>Thanks, noted.</Message>"))
    inbound = twin.send_sms(TEXTER, "REMIND")
    twin.wait_for(lambda: twin.inbox(TEXTER))
    client = twin.client()
    fetched = client.messages(inbound.sid).fetch()
    assert (fetched.direction, fetched.status, fetched.from_) == ("inbound", "received", TEXTER)
    assert fetched.body == "REMIND"
    today = datetime.now(UTC).date()
    replies = client.messages.list(to=TEXTER, from_=LINE, date_sent_after=today)
    assert [(r.direction, r.body) for r in replies] == [("outbound-reply", "Thanks, noted.")]
    assert [m.sid for m in client.messages.list(to=TEXTER, date_sent=today)] == [replies[0].sid]
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    assert client.messages.list(from_=TEXTER, date_sent_before=long_ago) == []
    assert not _deletes(client.messages(inbound.sid).delete)  # received just now
    eventually(lambda: _deletes(client.messages(inbound.sid).delete), timeout=5)
    eventually(lambda: _deletes(client.messages(replies[0].sid).delete), timeout=5)
    assert client.messages.list(to=TEXTER) == client.messages.list(from_=TEXTER) == []
    assert twin.inbox(TEXTER) == ["Thanks, noted."]  # deleted at Twilio, kept by the phone


@pytest.mark.parametrize(
    ("answer", "refusal"), [("refuse", (400, 16022)), ("not-found", (404, 20404)), ("accept", None)]
)
def test_updating_a_conference_that_ended_follows_the_knob(twin, fake_app, answer, refusal):
    twin.ended_conference_update = answer
    fake_app.on("/voice", twiml('<Dial><Conference beep="false">room-9</Conference></Dial>'))
    caller = twin.dial(PHONE)
    caller.wait_until_in_conference()
    client = twin.client()
    sid = twin.conference("room-9").sid
    client.conferences(sid).update(status="completed")
    caller.wait_until_ended()
    for change in ({"status": "completed"}, {"announce_url": fake_app.url("/voice")}):
        if refusal is None:
            assert client.conferences(sid).update(**change).status == "completed"
            continue
        with pytest.raises(TwilioRestException) as refused:
            client.conferences(sid).update(**change)
        assert (refused.value.status, refused.value.code) == refusal
    assert twin.conference("room-9").events[-1]["StatusCallbackEvent"] == "conference-end"
