"""Every status callback URL the line gives Twilio carries connection overrides for retries."""

from __future__ import annotations

import pytest

from app import urls
from app.db import db
from app.sms import subscribers
from app.sms.models import TextKind, TextMessage
from tests.support import PUBLIC, Twilio, call_form, sign, twiml
from twin.overrides import Failure, parse
from workers.sms import send_batch

CONFERENCE = PUBLIC + urls.CONFERENCE


def test_the_overrides_are_ones_twilio_accepts_and_ask_for_retries():
    overrides = parse(urls.RETRIES)  # the twin refuses what Twilio's ranges do not allow
    assert overrides.retries == 2
    assert {Failure.CONNECT, Failure.READ} <= overrides.policy
    # every attempt fits in Twilio's 15 s total, so none is cut short by it
    attempts = overrides.retries + 1
    assert attempts * (overrides.connect_ms + overrides.read_ms) <= overrides.total_ms + 3000


def test_a_room_sends_its_conference_events_to_a_url_with_retries(twilio):
    form = call_form()
    twilio.post("/twilio/voice", form)
    room = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))
    assert room.find("Dial/Conference").get("statusCallback") == f"{CONFERENCE}#{urls.RETRIES}"


def test_a_text_reports_its_delivery_to_a_url_with_retries(app, twin_api):
    with app.app_context():
        subscriber = subscribers.subscribe("+15550100071", "i" * 64, "text", "Europe/Berlin")
        message = TextMessage(subscriber=subscriber, kind=TextKind.CONFIRMATION)
        db.session.add(message)
        db.session.commit()
        assert send_batch([message.id])["sent"] == 1
    sent = [r for r in twin_api.requests if r.method == "POST" and "Messages" in r.path]
    assert sent[-1].form["StatusCallback"] == f"{PUBLIC}{urls.SMS_STATUS}#{urls.RETRIES}"


def test_urls_prints_the_number_status_callback_with_retries(runner):
    output = runner.invoke(args=["urls"]).output
    assert f"{PUBLIC}{urls.STATUS}#{urls.RETRIES}\n" in output
    assert f"{PUBLIC}{urls.INCOMING}\n" in output  # TwiML is fetched as configured


CALLBACK = {"CallSid": "CA" + "7" * 32, "CallStatus": "completed", "SequenceNumber": "1"}


@pytest.mark.parametrize(
    "signed", [f"{PUBLIC}{urls.STATUS}", f"{PUBLIC}{urls.STATUS}#{urls.RETRIES}"]
)
def test_a_callback_signed_with_or_without_its_overrides_is_accepted(twilio, signed):
    answer = twilio.post(urls.STATUS, CALLBACK, signature=sign(signed, CALLBACK))
    assert answer.status_code == 204


def test_a_callback_signed_over_other_overrides_is_rejected(client):
    signature = sign(f"{PUBLIC}{urls.STATUS}#rc=5&rp=all", CALLBACK)
    assert Twilio(client).post(urls.STATUS, CALLBACK, signature=signature).status_code == 403
