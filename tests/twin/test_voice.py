"""Say, Gather, Redirect, Hangup, Pause, errors: single-caller flows through the twin."""

from __future__ import annotations

import math
import time

from tests.twin.support import LINE, twiml

CALLER = "+15550100001"


def test_say_and_hangup_sends_signed_fields_and_status_callback(twin, fake_app):
    fake_app.on("/voice", twiml("<Say>Welcome to the line.</Say><Hangup/><Say>never</Say>"))
    caller = twin.dial(CALLER)
    assert caller.wait_until_ended() == "completed"
    assert caller.heard == ["Welcome to the line."]
    first = fake_app.hits_for("/voice")[0]
    assert first["CallSid"] == caller.sid and caller.sid.startswith("CA") and len(caller.sid) == 34
    assert first["From"] == CALLER and first["To"] == LINE and first["Caller"] == CALLER
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["AccountSid"] == twin.account_sid and first["ApiVersion"] == "2010-04-01"
    assert twin.wait_idle()
    status = fake_app.hits_for("/status")
    assert len(status) == 1
    assert status[0]["CallStatus"] == "completed" and status[0]["CallSid"] == caller.sid
    assert status[0]["CallDuration"].isdigit() and "Timestamp" in status[0]
    assert status[0]["SequenceNumber"] == "0"


def test_call_duration_is_the_calls_wall_clock_length_not_simulated_seconds(twin, fake_app):
    # Twilio's CallDuration is the length of the call, as its start and end times say; the
    # twin's time scale speeds pauses up, but a call that lasted under a second (here a
    # 10-second pause at 0.02) is 1 second long, not 10.
    fake_app.on("/voice", twiml('<Say>Hold on.</Say><Pause length="10"/><Hangup/>'))
    began = time.monotonic()
    caller = twin.dial(CALLER)
    assert caller.wait_until_ended() == "completed"
    lasted = time.monotonic() - began
    assert twin.wait_idle()
    reported = int(fake_app.hits_for("/status")[0]["CallDuration"])
    assert 1 <= reported <= math.ceil(lasted)
    record = twin.client().calls(caller.sid).fetch()
    assert record.duration == str(reported)
    span = (record.end_time - record.start_time).total_seconds()
    assert reported - 1 <= span <= reported + 1


def test_gather_digits_go_to_action_and_redirect_is_followed(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml(
            '<Gather numDigits="1" action="/menu" timeout="50"><Say>Press 1 to talk.</Say></Gather>'
            "<Say>No input.</Say>"
        ),
    )
    fake_app.on(
        "/menu",
        lambda form: twiml(f"<Say>You chose {form['Digits']}.</Say><Redirect>/next</Redirect>"),
    )
    fake_app.on("/next", twiml("<Say>Goodbye.</Say>"))
    caller = twin.dial(CALLER)
    caller.wait_until_heard("press 1")
    caller.press("1")
    assert caller.wait_until_ended() == "completed"
    assert caller.heard == ["Press 1 to talk.", "You chose 1.", "Goodbye."]
    menu = fake_app.hits_for("/menu")
    assert menu[0]["Digits"] == "1" and menu[0]["CallStatus"] == "in-progress"
    assert len(fake_app.hits_for("/next")) == 1


def test_gather_without_input_falls_through_after_scaled_timeout(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml(
            '<Gather numDigits="1" action="/menu" timeout="5"><Say>Press 1.</Say></Gather>'
            '<Pause length="10"/><Say>Nothing pressed.</Say>'
        ),
    )
    caller = twin.dial(CALLER)
    caller.wait_until_heard("nothing pressed", timeout=3)  # 15 simulated s at scale 0.02
    assert caller.wait_until_ended() == "completed"
    assert fake_app.hits_for("/menu") == []


def test_gather_collects_until_finish_key_and_keeps_early_digits(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml(
            "<Say>Hello.</Say>"
            '<Gather action="/pin" finishOnKey="#" timeout="100"><Say>Enter a code.</Say></Gather>'
        ),
    )
    fake_app.on("/pin", twiml("<Hangup/>"))
    caller = twin.dial(CALLER)
    caller.press("12")  # typed ahead: kept for the Gather, and it cuts the prompt short
    caller.wait_until_heard("hello")
    caller.press("3#")
    caller.wait_until_ended()
    assert fake_app.hits_for("/pin")[0]["Digits"] == "123"
    assert fake_app.hits_for("/pin")[0]["FinishedOnKey"] == "#"


def test_invalid_twiml_ends_call_with_12100(twin, fake_app):
    fake_app.on("/voice", twiml("<Say>Hi</Say><Dance/>"))
    caller = twin.dial(CALLER)
    assert caller.wait_until_ended() == "completed"
    assert [e.code for e in caller.errors] == [12100]
    assert "application error" in caller.heard[-1]
    assert twin.errors[0].call_sid == caller.sid


def test_unparseable_xml_and_http_error_are_recorded(twin, fake_app):
    fake_app.on("/voice", "<Response><Say>oops</Response>")
    broken = twin.dial(CALLER)
    broken.wait_until_ended()
    assert broken.errors[0].code == 12100
    fake_app.on("/voice", lambda form: (500, "boom"))
    failing = twin.dial("+15550100002")
    failing.wait_until_ended()
    assert failing.errors[0].code == 11200 and "500" in failing.errors[0].message
    assert {e.code for e in twin.errors} == {12100, 11200}


def test_caller_hangs_up_during_gather(twin, fake_app):
    fake_app.on("/voice", twiml('<Gather timeout="1000" action="/x"><Say>Hold on.</Say></Gather>'))
    caller = twin.dial(CALLER)
    caller.wait_until_heard("hold on")
    caller.hang_up()
    assert caller.wait_until_ended() == "completed"
    twin.wait_idle()
    assert fake_app.hits_for("/status")[0]["CallStatus"] == "completed"
    assert fake_app.hits_for("/x") == []


def test_reject_before_answer_is_busy(twin, fake_app):
    fake_app.on("/voice", twiml('<Reject reason="busy"/>'))
    caller = twin.dial(CALLER)
    assert caller.wait_until_ended() == "busy"
    assert caller.heard == []


def test_get_method_redirect_is_signed_with_query_string(twin, fake_app):
    fake_app.on("/voice", twiml('<Redirect method="GET">/menu?step=2</Redirect>'))
    fake_app.on("/menu", lambda form: twiml(f"<Say>Step {form['step']} for {form['From']}</Say>"))
    caller = twin.dial(CALLER)
    caller.wait_until_ended()
    assert caller.heard == [f"Step 2 for {CALLER}"]
    assert fake_app.bad_signatures == []


def test_rest_redirect_while_the_first_webhook_is_in_flight(twin, fake_app):
    import threading

    release = threading.Event()

    def slow(form):
        release.wait(5)
        return twiml("<Say>Original.</Say>")

    fake_app.on("/voice", slow)
    caller = twin.dial(CALLER)
    twin.wait_for(lambda: fake_app.hits_for("/voice"))
    twin.client().calls(caller.sid).update(twiml="<Response><Say>Replaced.</Say></Response>")
    release.set()
    assert caller.wait_until_ended() == "completed"
    assert caller.heard == ["Replaced."]


def test_a_say_lasts_its_words_at_the_speech_rate(twin_with, fake_app):
    tw = twin_with(speech_wpm=60)  # a word a simulated second: 50 words, 1 s at scale 0.02
    fake_app.on("/voice", twiml(f"<Say>{' '.join(['word'] * 50)}</Say><Hangup/>"))
    began = time.monotonic()
    caller = tw.dial(CALLER)
    assert caller.wait_until_ended() == "completed"
    assert time.monotonic() - began >= 50 * 0.02


def test_say_seconds_and_loops(twin, fake_app):
    fake_app.on(
        "/voice", twiml('<Say loop="2">Hi.</Say><Play>http://x/a.mp3</Play><Play digits="1w2"/>')
    )
    caller = twin.dial(CALLER)
    caller.wait_until_ended()
    assert caller.heard == ["Hi.", "Hi.", "[play http://x/a.mp3]", "[digits 1w2]"]
