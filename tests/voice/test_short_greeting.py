"""A returning caller (one who waited to talk before) hears the short greeting; a first-time
caller the whole one. Every key works at both; star says the whole menu."""

from __future__ import annotations

from datetime import timedelta

from app import identity_keys
from app.db import utcnow
from app.infra import redis
from app.line import calls
from tests.support import PUBLIC, call_form, spoken, twiml

NUMBER = "+15550100171"
WHOLE = "Welcome to Mindfuse. Press 1 or stay on the line"
SHORT = "Welcome back. Press 1 or hold on to talk, 0 for urgent help, star for more."


def _greet(twilio, number: str = NUMBER, **extra):
    form = call_form(number, **extra)
    return form, twiml(twilio.post("/twilio/voice", form))


def _press(twilio, form: dict, root, digits: str):
    action = root.find("Gather").get("action").removeprefix(PUBLIC)
    return twiml(twilio.post(action, {**form, "Digits": digits}))


def _waits(twilio, number: str = NUMBER) -> None:
    """A call that goes on to wait for someone (pressing nothing at the greeting)."""
    form, root = _greet(twilio, number)
    wait = root.find("Redirect").text.removeprefix(PUBLIC)
    assert twiml(twilio.post(wait, form)).find("Dial/Conference") is not None


def test_a_first_time_caller_hears_the_whole_greeting_and_every_language(twilio):
    _, root = _greet(twilio)
    said = [say.text for say in root.iter("Say")]
    assert said[0].startswith(WHOLE) and "0 for urgent help" in said[0]
    assert said[1] == "Für Deutsch drücken Sie die 9."
    assert root.find("Gather").get("timeout") == "3"


def test_after_waiting_once_the_next_call_hears_the_short_greeting(twilio):
    _waits(twilio)
    form, root = _greet(twilio)
    assert [say.text for say in root.iter("Say")] == [SHORT]
    gather = root.find("Gather")
    assert gather.get("timeout") == "2" and "arrived=" in gather.get("action")
    assert "/twilio/voice/wait?arrived=" in root.find("Redirect").text
    # Star: the whole menu, with the other language's key; 0 is urgent help as everywhere.
    whole = _press(twilio, form, root, "*")
    assert spoken(whole).startswith(WHOLE) and "Für Deutsch" in spoken(whole)
    urgent = spoken(_press(twilio, form, root, "0"))
    assert "day and night" in urgent or "emergency number" in urgent


def test_only_a_wait_makes_a_caller_returning_not_a_greeting_alone(twilio):
    _greet(twilio)  # heard the greeting and hung up
    _, root = _greet(twilio)
    assert spoken(root).startswith(WHOLE)
    _waits(twilio, "+15550100172")  # another caller's wait changes nothing for this one
    assert spoken(_greet(twilio)[1]).startswith(WHOLE)


def test_a_withheld_caller_is_never_taken_for_a_returning_one(twilio, app):
    _waits(twilio, "anonymous")
    assert spoken(_greet(twilio, "anonymous")[1]).startswith(WHOLE)
    with app.app_context():
        assert redis.connection().zcard(redis.key(calls.KNOWN, identity_keys.newest_tag())) == 0


def test_a_wait_longer_ago_than_the_retention_counts_no_more_and_is_trimmed(twilio, app):
    _waits(twilio)
    with app.app_context():
        known = redis.key(calls.KNOWN, identity_keys.newest_tag())
        conn = redis.connection()
        (member,) = conn.zrange(known, 0, -1)
        assert NUMBER.encode() not in member and b"0100171" not in member  # the HMAC only
        old = utcnow() - timedelta(days=app.config["RETENTION_DAYS"], minutes=1)
        conn.zadd(known, {member: old.timestamp()})
    assert spoken(_greet(twilio)[1]).startswith(WHOLE)
    _waits(twilio, "+15550100173")  # a wait trims what is past the retention
    with app.app_context():
        assert conn.zscore(known, member) is None and conn.zcard(known) == 1


def test_the_short_greeting_in_german(twilio, app):
    app.config["NUMBER_LANGUAGES"] = {"+4915550000001": "de"}
    _waits(twilio)
    _, root = _greet(twilio, To="+4915550000001")
    (said,) = root.iter("Say")
    assert said.get("language") == "de-DE" and said.text.startswith("Willkommen zurück.")
    assert "die 0" in said.text and "Stern" in said.text
