"""<Say> is spoken only in a voice that speaks its language, as Twilio's voice table says."""

from __future__ import annotations

from tests.twin.support import twiml

CALLER = "+15550100001"


def test_a_voice_speaking_its_language_is_heard(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml(
            '<Say voice="Polly.Vicki-Neural" language="de-DE">Willkommen.</Say>'
            '<Say voice="Polly.Joanna-Neural" language="en-US">For English, press 9.</Say>'
        ),
    )
    caller = twin.dial(CALLER)
    caller.wait_until_ended()
    assert caller.heard == ["Willkommen.", "For English, press 9."]
    assert twin.errors == []


def test_a_voice_in_a_language_it_does_not_speak_fails_the_say(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml(
            '<Say voice="Polly.Joanna-Neural" language="de-DE">Willkommen.</Say>'
            '<Say voice="Polly.Nobody-Neural">Hello.</Say><Say>Still here.</Say>'
        ),
    )
    caller = twin.dial(CALLER)
    caller.wait_until_ended()
    assert caller.heard == ["Still here."]
    assert [e.code for e in twin.errors] == [13511, 13511]


def test_a_gather_language_that_is_not_a_locale_is_warning_13512(twin, fake_app):
    fake_app.on(
        "/voice",
        twiml('<Gather numDigits="1" timeout="1" language="de"><Say>Hallo.</Say></Gather>'),
    )
    caller = twin.dial(CALLER)
    caller.wait_until_ended()
    assert caller.heard == ["Hallo."] and [e.code for e in twin.errors] == [13512]
