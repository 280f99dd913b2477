"""Every field the line stores from a webhook is bounded first: overlong or odd values, even
correctly signed, get an ordinary answer, never the apology (on PostgreSQL, which enforces
column lengths, as in CI)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app import prompts
from app.db import db
from app.line.models import Call, Conversation
from app.sms.models import Subscriber, TextMessage
from tests.support import call_form, spoken, twiml

HUGE = "9" * 400


@pytest.fixture
def failures(caplog):
    """The log records of webhooks that failed; each test expects none."""
    with caplog.at_level(logging.ERROR, logger="app.telephony.failures"):
        yield lambda: [r for r in caplog.records if r.name == "app.telephony.failures"]


def _waiting(twilio, number: str) -> dict:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    assert twilio.post("/twilio/voice/wait", form).status_code == 200
    return form


def _call(sid: str) -> Call:
    return db.session.scalar(select(Call).where(Call.sid == sid))


@pytest.mark.parametrize("digits", ["123456789", HUGE, "1; DROP", "ünï"])
def test_odd_keys_at_the_menu_are_an_unknown_key(twilio, app, failures, digits):
    form = call_form("+15550100201")
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": digits}))
    assert str(prompts.UNKNOWN_KEY) in spoken(root) and failures() == []
    with app.app_context():
        assert _call(form["CallSid"]).menu_choice == "?"


def test_odd_status_callback_values_are_bounded(twilio, app, failures):
    form = _waiting(twilio, "+15550100202")
    odd = {**form, "CallStatus": "x" * 300, "SequenceNumber": "1", "Timestamp": "x" * 300}
    assert twilio.post("/twilio/voice/status", odd).status_code == 204
    done = {**form, "CallStatus": "completed", "SequenceNumber": HUGE, "CallDuration": HUGE}
    assert twilio.post("/twilio/voice/status", done).status_code == 204
    assert failures() == []
    with app.app_context():
        call = _call(form["CallSid"])
        assert call.state == "ended" and call.duration_seconds == 2**31 - 1
        assert "unknown" in [e.kind for e in call.events]


def test_odd_conference_callback_values_are_bounded(twilio, app, failures):
    form = _waiting(twilio, "+15550100203")
    with app.app_context():
        room = _call(form["CallSid"]).room
    event = {
        "StatusCallbackEvent": "participant-join",
        "FriendlyName": room,
        "SequenceNumber": HUGE,
        "CallSid": "CA" + "0" * 300,
        "ConferenceSid": "CF" * 100,
        "Timestamp": HUGE,
    }
    assert twilio.post("/twilio/voice/conference", event).status_code == 204
    other = {**event, "FriendlyName": "room-" + "x" * 300, "SequenceNumber": "3"}
    assert twilio.post("/twilio/voice/conference", other).status_code == 204
    assert failures() == []
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
        assert [e.call_sid for e in conversation.events] == [None]
        assert conversation.conference_sid is None


def test_an_odd_dial_status_is_an_ordinary_goodbye_or_menu(twilio, app, failures):
    form = _waiting(twilio, "+15550100204")
    root = twiml(twilio.post("/twilio/voice/after", {**form, "DialCallStatus": "x" * 500}))
    assert str(prompts.APOLOGY) not in spoken(root) and failures() == []


def test_an_odd_fusing_room_name_is_no_room(twilio, app, failures):
    form = _waiting(twilio, "+15550100205")
    root = twiml(twilio.post("/twilio/fusing/room?room=" + "r" * 300, form))
    assert str(prompts.APOLOGY) not in spoken(root) and failures() == []


def test_odd_message_status_values_are_bounded(twilio, app, failures):
    with app.app_context():
        subscriber = Subscriber(identity="s" * 64, masked_number="+1 ••• •••• 06", timezone="UTC")
        subscriber.source = "text"
        message = TextMessage(subscriber=subscriber, kind="confirmation", sid="SM" + "5" * 32)
        db.session.add_all([subscriber, message])
        db.session.commit()
    status = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "x" * 300, "ErrorCode": HUGE}
    assert twilio.post("/twilio/sms/status", status).status_code == 204
    assert failures() == []
    with app.app_context():
        message = db.session.scalar(select(TextMessage))
        assert message.status == "queued" and message.error_code is None  # nothing kept
