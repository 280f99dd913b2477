"""Phones texting the line: signed webhook, MessagingResponse replies, opt-out keywords as
Twilio answers them (default handling, or a Messaging Service's Advanced Opt-Out)."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.twin.support import LINE, twiml
from twin import MessagingService
from twin.opt_out import DEFAULT_REPLIES, Keyword

PHONE = "+447700900031"
STOP_REPLY, START_REPLY = DEFAULT_REPLIES[Keyword.STOP], DEFAULT_REPLIES[Keyword.START]
HELP_REPLY = DEFAULT_REPLIES[Keyword.HELP]


def _settled(twin) -> None:
    assert twin.wait_idle(), "messages still queued or callbacks pending"


def test_incoming_sms_reaches_app_and_replies_are_delivered(twin, fake_app):
    fake_app.on("/sms", lambda form: twiml(f"<Message>Got: {form['Body']}</Message>"))
    result = twin.send_sms(PHONE, "REMIND ME")
    assert result.status == 200 and result.replies == ["Got: REMIND ME"]
    assert result.auto_reply is None
    hit = fake_app.hits_for("/sms")[0]
    assert hit["MessageSid"] == result.sid and result.sid.startswith("SM")
    assert (hit["From"], hit["To"], hit["Body"]) == (PHONE, LINE, "REMIND ME")
    assert hit["NumSegments"] == "1" and hit["SmsStatus"] == "received"
    assert hit["AccountSid"] == twin.account_sid and hit["ApiVersion"] == "2010-04-01"
    assert "OptOutType" not in hit and "MessagingServiceSid" not in hit
    twin.wait_for(lambda: twin.inbox(PHONE))
    assert twin.inbox(PHONE) == ["Got: REMIND ME"]
    directions = [(m.direction, m.from_, m.to) for m in twin.messages]
    assert directions == [("inbound", PHONE, LINE), ("outbound-reply", LINE, PHONE)]


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "cancel", "REVOKE", "optout"])
def test_stop_is_answered_by_twilio_forwarded_and_every_later_text_refused(twin, fake_app, word):
    fake_app.on("/sms", twiml("<Message>Sorry to see you go.</Message>"))
    result = twin.send_sms(PHONE, word)
    assert result.auto_reply == STOP_REPLY and PHONE in twin.sms.opted_out
    hit = fake_app.hits_for("/sms")[0]  # forwarded, and without OptOutType on a plain number
    assert hit["Body"] == word and "OptOutType" not in hit
    _settled(twin)
    assert twin.inbox(PHONE) == [STOP_REPLY]  # the app's own reply was refused
    assert [e.code for e in twin.errors] == [21610]
    with pytest.raises(TwilioRestException) as refused:
        twin.client().messages.create(to=PHONE, from_=LINE, body="Reminder")
    assert (refused.value.status, refused.value.code) == (400, 21610)


def test_start_lifts_the_opt_out_and_both_twilio_and_the_app_answer(twin, fake_app):
    fake_app.on("/sms", twiml("<Message>Welcome back.</Message>"))
    twin.send_sms(PHONE, "STOP")
    result = twin.send_sms(PHONE, "Start")
    assert result.auto_reply == START_REPLY and PHONE not in twin.sms.opted_out
    assert [h["Body"] for h in fake_app.hits_for("/sms")] == ["STOP", "Start"]
    _settled(twin)
    assert twin.inbox(PHONE) == [STOP_REPLY, START_REPLY, "Welcome back."]  # two answers


def test_help_is_answered_by_twilio_and_forwarded_by_default(twin, fake_app):
    fake_app.on("/sms", twiml(""))
    result = twin.send_sms(PHONE, "info")
    assert result.auto_reply == HELP_REPLY and result.status == 200
    assert fake_app.hits_for("/sms")[0]["Body"] == "info"
    _settled(twin)
    assert twin.inbox(PHONE) == [HELP_REPLY]


def test_help_can_be_kept_from_the_webhook(twin_with, fake_app):
    quiet = twin_with(forward_help=False)
    result = quiet.send_sms(PHONE, "HELP")
    assert result.auto_reply == HELP_REPLY and result.status == 0
    assert fake_app.hits_for("/sms") == []


@pytest.mark.parametrize("body", ["stop please", "STOP.", "please cancel", "helpme"])
def test_only_a_whole_message_is_a_keyword(twin, fake_app, body):
    fake_app.on("/sms", twiml(""))
    result = twin.send_sms(PHONE, body)
    assert result.auto_reply is None and PHONE not in twin.sms.opted_out


def test_advanced_opt_out_answers_with_its_replies_and_names_the_keyword(twin_with, fake_app):
    service = MessagingService(replies={**DEFAULT_REPLIES, Keyword.STOP: "Mindfuse: stopped."})
    tw = twin_with(messaging_service=service)
    fake_app.on("/sms", twiml(""))
    assert tw.send_sms(PHONE, "stop").auto_reply == "Mindfuse: stopped."
    tw.send_sms(PHONE, "HELP")
    tw.send_sms(PHONE, "hello")
    hits = fake_app.hits_for("/sms")
    assert [h.get("OptOutType") for h in hits] == ["STOP", "HELP", None]
    assert {h["MessagingServiceSid"] for h in hits} == {service.sid}
    _settled(tw)
    assert tw.inbox(PHONE) == ["Mindfuse: stopped."]  # no HELP answer once opted out


def test_a_messaging_service_without_advanced_opt_out_keeps_default_handling(twin_with, fake_app):
    tw = twin_with(messaging_service=MessagingService(advanced_opt_out=False))
    fake_app.on("/sms", twiml(""))
    assert tw.send_sms(PHONE, "STOP").auto_reply == STOP_REPLY
    assert "OptOutType" not in fake_app.hits_for("/sms")[0]


def test_bad_sms_twiml_is_an_error(twin, fake_app):
    fake_app.on("/sms", twiml("<Say>not for sms</Say>"))
    result = twin.send_sms(PHONE, "hello")
    assert result.error is not None and result.error.code == 12100
    assert result.replies == []
