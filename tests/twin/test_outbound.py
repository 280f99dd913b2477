"""Outbound calls: who answers (a person, a machine, nobody, a busy line), answering machine
detection, the scripted person's key press, and <Dial><Number> to a service."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.twin.support import LINE, twiml
from twin import Callee, Pickup

PHONE = "+15550100031"
SERVICE = "+15550100032"
PROMPT = '<Gather numDigits="1" action="/key" timeout="5"><Say>Press 1 to talk now.</Say></Gather>'


def _place(twin, fake_app, **options):
    fake_app.on("/cb", "")
    return twin.client().calls.create(
        to=PHONE,
        from_=LINE,
        url=fake_app.url("/answer"),
        status_callback=fake_app.url("/cb"),
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        **options,
    )


def _statuses(twin, fake_app) -> list[str]:
    assert twin.wait_idle()
    return [hit["CallStatus"] for hit in fake_app.hits_for("/cb")]


def test_a_person_answers_detection_says_human_and_they_press_on_the_prompt(twin, fake_app):
    twin.answer_as(PHONE, Callee(press="1", cue="press 1"))
    fake_app.on("/answer", twiml(PROMPT))
    fake_app.on("/key", twiml("<Say>Connecting.</Say><Hangup/>"))
    call = _place(twin, fake_app, machine_detection="Enable")
    phone = twin.caller(call.sid)
    assert phone.wait_until_ended() == "completed"
    answer = fake_app.hits_for("/answer")[0]
    assert answer["AnsweredBy"] == "human" and answer["Direction"] == "outbound-api"
    assert fake_app.hits_for("/key")[0]["Digits"] == "1"
    assert "AnsweredBy" not in fake_app.hits_for("/key")[0]  # only the first request has it
    assert twin.client().calls(call.sid).fetch().answered_by == "human"
    assert _statuses(twin, fake_app) == ["initiated", "ringing", "in-progress", "completed"]


def test_a_machine_is_detected_as_such_and_presses_nothing(twin, fake_app):
    twin.answer_as(PHONE, Callee(Pickup.MACHINE, press="1"))
    fake_app.on("/answer", twiml(PROMPT + "<Say>No key.</Say><Hangup/>"))
    call = _place(twin, fake_app, machine_detection="Enable")
    phone = twin.caller(call.sid)
    phone.wait_until_heard("no key")
    assert fake_app.hits_for("/answer")[0]["AnsweredBy"] == "machine_start"
    assert fake_app.hits_for("/key") == []


def test_detection_can_take_a_machine_for_a_person_and_says_unknown_past_its_timeout(
    twin, fake_app
):
    fake_app.on("/answer", twiml("<Hangup/>"))
    twin.answer_as(PHONE, Callee(Pickup.MACHINE, detected_as="human"))
    first = _place(twin, fake_app, machine_detection="Enable")
    twin.caller(first.sid).wait_until_ended()
    twin.answer_as(PHONE, Callee(detect_seconds=10))
    second = _place(twin, fake_app, machine_detection="Enable", machine_detection_timeout=5)
    twin.caller(second.sid).wait_until_ended()
    assert [h["AnsweredBy"] for h in fake_app.hits_for("/answer")] == ["human", "unknown"]


def test_without_detection_no_answered_by_is_sent(twin, fake_app):
    fake_app.on("/answer", twiml("<Hangup/>"))
    call = _place(twin, fake_app)
    twin.caller(call.sid).wait_until_ended()
    assert "AnsweredBy" not in fake_app.hits_for("/answer")[0]
    assert twin.client().calls(call.sid).fetch().answered_by is None


@pytest.mark.parametrize("pickup", [Pickup.NO_ANSWER, Pickup.BUSY, Pickup.FAILED])
def test_an_unanswered_call_never_requests_its_url_and_ends_with_that_status(
    twin, fake_app, pickup
):
    twin.answer_as(PHONE, Callee(pickup))
    fake_app.on("/answer", twiml("<Say>Hello.</Say>"))
    call = _place(twin, fake_app, timeout=10)
    assert twin.caller(call.sid).wait_until_ended() == str(pickup)
    assert fake_app.hits_for("/answer") == []
    statuses = _statuses(twin, fake_app)
    assert statuses[0] == "initiated" and statuses[-1] == str(pickup)
    assert "in-progress" not in statuses


def test_ringing_longer_than_the_timeout_is_no_answer(twin, fake_app):
    twin.answer_as(PHONE, Callee(ring_seconds=20))
    fake_app.on("/answer", twiml("<Say>Hello.</Say>"))
    call = _place(twin, fake_app, timeout=15)
    assert twin.caller(call.sid).wait_until_ended() == "no-answer"


def test_a_ringing_call_the_line_cancels_ends_canceled(twin, fake_app):
    twin.answer_as(PHONE, Callee(pickup=Pickup.NO_ANSWER))
    fake_app.on("/answer", twiml("<Say>Hello.</Say>"))
    call = _place(twin, fake_app, timeout=600)
    phone = twin.caller(call.sid)
    phone.wait_for(lambda: phone.call.status == "ringing", what="ringing")
    twin.client().calls(call.sid).update(status="canceled")
    assert phone.wait_until_ended() == "canceled"


@pytest.mark.parametrize(
    ("options", "code"),
    [({"timeout": 601}, 21208), ({"machine_detection": "Sometimes"}, 21200)],
)
def test_out_of_range_options_are_refused(twin, fake_app, options, code):
    with pytest.raises(TwilioRestException) as refused:
        _place(twin, fake_app, **options)
    assert refused.value.status == 400 and refused.value.code == code


def test_dial_number_connects_to_a_service_then_asks_the_action(twin, fake_app):
    twin.answer_as(SERVICE, Callee(hang_up_after=30))
    fake_app.on(
        "/voice", twiml(f'<Dial action="/dialled" timeout="20"><Number>{SERVICE}</Number></Dial>')
    )
    fake_app.on("/dialled", twiml("<Say>Back from the service.</Say><Hangup/>"))
    caller = twin.dial("+15550100033")
    caller.wait_until_heard(f"connected to {SERVICE}")
    caller.wait_until_heard("back from the service")
    action = fake_app.hits_for("/dialled")[0]
    # DialCallDuration is in wall-clock seconds, as a call's CallDuration is
    assert action["DialCallStatus"] == "completed" and int(action["DialCallDuration"]) >= 1
    leg = twin.client().calls(action["DialCallSid"]).fetch()
    assert leg.parent_call_sid == caller.sid and leg.to == SERVICE and leg.status == "completed"


@pytest.mark.parametrize("pickup", [Pickup.BUSY, Pickup.NO_ANSWER])
def test_dial_number_that_does_not_answer_reports_why(twin, fake_app, pickup):
    twin.answer_as(SERVICE, Callee(pickup))
    fake_app.on(
        "/voice", twiml(f'<Dial action="/dialled" timeout="5"><Number>{SERVICE}</Number></Dial>')
    )
    fake_app.on("/dialled", twiml("<Hangup/>"))
    caller = twin.dial("+15550100034")
    caller.wait_until_ended()
    assert fake_app.hits_for("/dialled")[0]["DialCallStatus"] == str(pickup)
    assert not any("connected" in h for h in caller.heard)


def test_a_caller_who_hangs_up_on_the_service_still_gets_the_action_asked(twin, fake_app):
    fake_app.on("/voice", twiml(f'<Dial action="/dialled"><Number>{SERVICE}</Number></Dial>'))
    fake_app.on("/dialled", twiml("<Hangup/>"))
    caller = twin.dial("+15550100035")
    caller.wait_until_heard("connected")
    caller.hang_up()
    caller.wait_until_ended()
    assert twin.wait_for(lambda: fake_app.hits_for("/dialled"))[0]["DialCallStatus"] == "completed"
