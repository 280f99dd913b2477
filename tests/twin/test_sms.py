"""Phones texting the line: signed webhook, MessagingResponse replies, STOP handling."""

from __future__ import annotations

from tests.twin.support import LINE, twiml

PHONE = "+447700900031"


def test_incoming_sms_reaches_app_and_replies_are_delivered(twin, fake_app):
    fake_app.on("/sms", lambda form: twiml(f"<Message>Got: {form['Body']}</Message>"))
    result = twin.send_sms(PHONE, "REMIND ME")
    assert result.status == 200 and result.replies == ["Got: REMIND ME"]
    hit = fake_app.hits_for("/sms")[0]
    assert hit["MessageSid"] == result.sid and result.sid.startswith("SM")
    assert (hit["From"], hit["To"], hit["Body"]) == (PHONE, LINE, "REMIND ME")
    assert hit["NumSegments"] == "1" and hit["SmsStatus"] == "received"
    assert hit["AccountSid"] == twin.account_sid and hit["ApiVersion"] == "2010-04-01"
    twin.wait_for(lambda: twin.inbox(PHONE))
    assert twin.inbox(PHONE) == ["Got: REMIND ME"]
    directions = [(m.direction, m.from_, m.to) for m in twin.messages]
    assert directions == [("inbound", PHONE, LINE), ("outbound-reply", LINE, PHONE)]


def test_stop_opts_out_and_start_opts_back_in(twin, fake_app):
    fake_app.on("/sms", twiml(""))
    twin.send_sms(PHONE, "stop")
    assert PHONE in twin.sms.opted_out
    twin.send_sms(PHONE, "START")
    assert PHONE not in twin.sms.opted_out
    assert len(fake_app.hits_for("/sms")) == 2  # Twilio still forwards the keywords


def test_bad_sms_twiml_is_an_error(twin, fake_app):
    fake_app.on("/sms", twiml("<Say>not for sms</Say>"))
    result = twin.send_sms(PHONE, "hello")
    assert result.error is not None and result.error.code == 12100
    assert result.replies == []
