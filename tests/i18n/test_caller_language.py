"""The caller's language: the number's, then their choice at the greeting, remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app import i18n, prompts
from app.db import db
from app.fusing.schedule import Occurrence, spoken_when
from app.infra import redis
from app.line import languages
from app.line.models import Call, CallerLanguage
from tests.support import PUBLIC, call_form, spoken, twiml

DE_LINE = "+4915550000001"  # the line's German number (fictional)
CALLER = "+4915550000042"


def _german_line(app):
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}


def _says(root):
    return [(s.get("language"), s.get("voice"), s.text) for s in root.iter("Say")]


def test_a_german_number_greets_in_german_and_offers_english_in_english(twilio, app):
    _german_line(app)
    root = twiml(twilio.post("/twilio/voice", call_form(CALLER, To=DE_LINE)))
    said = _says(root)
    assert said[0][:2] == ("de-DE", "Polly.Vicki-Neural")
    assert said[0][2].startswith("Willkommen bei Mindfuse") and "Drücken Sie die 1" in said[0][2]
    assert said[1] == ("en-US", "Polly.Joanna-Neural", "For English, press 9.")
    gather = root.find("Gather")
    assert gather.get("language") == "de-DE"
    assert "lang=de" in gather.get("action") and "arrived=" in gather.get("action")


def test_the_default_number_greets_in_english_and_offers_german_in_german(twilio, app):
    root = twiml(twilio.post("/twilio/voice", call_form(CALLER)))
    said = _says(root)
    assert said[0][:2] == ("en-US", "Polly.Joanna-Neural") and "Welcome" in said[0][2]
    assert said[1] == ("de-DE", "Polly.Vicki-Neural", "Für Deutsch drücken Sie die 9.")


def test_greetings_in_turn_each_offer_the_other_language_in_its_own_words(twilio, app):
    # The offers are built once per process and language: a German greeting after an
    # English one (and back) must not reuse the other's.
    _german_line(app)
    offers = []
    for to in (None, DE_LINE, None, DE_LINE):
        form = call_form(CALLER, **({"To": to} if to else {}))
        offers.append(_says(twiml(twilio.post("/twilio/voice", form)))[1])
    english = ("de-DE", "Polly.Vicki-Neural", "Für Deutsch drücken Sie die 9.")
    german = ("en-US", "Polly.Joanna-Neural", "For English, press 9.")
    assert offers == [english, german, english, german]


def test_a_line_offering_one_language_offers_no_other(twilio, app):
    app.config["LANGUAGES"] = ["en"]
    assert len(_says(twiml(twilio.post("/twilio/voice", call_form(CALLER))))) == 1


def test_a_configured_voice_is_the_one_spoken(twilio, app):
    app.config["VOICES"] = {"de": "Polly.Daniel-Neural"}
    said = _says(twiml(twilio.post("/twilio/voice", call_form(CALLER))))
    assert said[1][1] == "Polly.Daniel-Neural"


def test_pressing_9_switches_and_the_next_call_starts_in_that_language(twilio, app):
    _german_line(app)
    form = call_form(CALLER, To=DE_LINE)
    action = twiml(twilio.post("/twilio/voice", form)).find("Gather").get("action")
    root = twiml(twilio.post(action.removeprefix(PUBLIC), {**form, "Digits": "9"}))
    assert _says(root)[0][0] == "en-US" and "Welcome to Mindfuse" in spoken(root)
    assert _says(root)[1] == ("de-DE", "Polly.Vicki-Neural", "Für Deutsch drücken Sie die 9.")
    with app.app_context():
        call = db.session.scalar(select(Call))
        assert call.language == "en"
        kept = db.session.scalar(select(CallerLanguage))
        assert kept.identity == call.identity and kept.language == "en"
        assert CALLER not in repr(vars(kept))
    again = twiml(twilio.post("/twilio/voice", call_form(CALLER, To=DE_LINE)))
    assert _says(again)[0][0] == "en-US"  # remembered, though the number speaks German


def test_a_withheld_caller_gets_the_numbers_language_and_nothing_is_kept(twilio, app):
    _german_line(app)
    form = call_form("anonymous", To=DE_LINE)
    root = twiml(twilio.post("/twilio/voice", form))
    assert _says(root)[0][0] == "de-DE"
    action = root.find("Gather").get("action").removeprefix(PUBLIC)
    assert _says(twiml(twilio.post(action, {**form, "Digits": "9"})))[0][0] == "en-US"
    with app.app_context():
        assert db.session.scalars(select(CallerLanguage)).all() == []
        assert redis.connection().hlen(languages.key()) == 0
    assert (
        _says(twiml(twilio.post("/twilio/voice", call_form("anonymous", To=DE_LINE))))[0][0]
        == "de-DE"
    )


def test_a_german_caller_waits_in_german_through_every_document(twilio, app):
    _german_line(app)
    form = call_form(CALLER, To=DE_LINE)
    action = twiml(twilio.post("/twilio/voice", form)).find("Gather").get("action")
    root = twiml(twilio.post(action.removeprefix(PUBLIC), {**form, "Digits": "1"}))
    assert "Wir suchen jemanden für Sie" in spoken(root)
    conference = root.find("Dial/Conference")
    hold = conference.get("waitUrl").removeprefix(PUBLIC)
    assert hold.endswith("?lang=de")
    assert "Danke für Ihre Geduld" in spoken(twiml(twilio.post(hold, form)))


def test_lost_choices_are_written_back_to_redis(app):
    with app.test_request_context():
        db.session.add(CallerLanguage(identity="i" * 64, language="de"))
        db.session.commit()
        assert languages.restore() == 1
        assert redis.connection().hget(languages.key(), "i" * 64) == b"de"
        assert languages.restore() == 0  # kept: nothing to do until Redis loses it again


def test_times_are_said_the_way_each_language_says_them(app):
    sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    occurrence = Occurrence(
        starts_at=sunday,
        ends_at=sunday + timedelta(hours=1),
        tz="Europe/Berlin",
        round_length=timedelta(minutes=10),
        gap=timedelta(0),
    )
    thursday = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        i18n.use("de")
        assert spoken_when(occurrence, thursday) == "am Sonntag um 10 Uhr mitteleuropäischer Zeit"
        assert spoken_when(occurrence, sunday - timedelta(hours=2)).startswith("heute um 10 Uhr")
        later = spoken_when(occurrence, thursday - timedelta(days=14))
        assert later == "am Sonntag, dem 6. Dezember, um 10 Uhr mitteleuropäischer Zeit"
        i18n.use("en")
        assert spoken_when(occurrence, thursday).startswith("this Sunday at 10 in the morning")


def test_an_unknown_or_forged_language_in_a_url_is_the_default(twilio, app):
    for odd in ("zz", "de-DE", "<script>", ""):
        root = twiml(twilio.post(f"/twilio/voice/hold?lang={odd}", call_form(CALLER)))
        assert _says(root)[0][:2] == ("en-US", "Polly.Joanna-Neural"), odd
    forged = twilio.post("/twilio/voice/hold?lang=de", call_form(CALLER), signature="forged")
    assert forged.status_code == 403


def test_a_choice_redis_cannot_take_is_still_kept_and_spoken(twilio, app, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown  # noqa: PLC0415

    _german_line(app)
    form = call_form(CALLER, To=DE_LINE)
    action = twiml(twilio.post("/twilio/voice", form)).find("Gather").get("action")

    def down(*_args, **_kwargs):
        raise RedisDown("down")

    monkeypatch.setattr("redis.Redis.hset", down)
    root = twiml(twilio.post(action.removeprefix(PUBLIC), {**form, "Digits": "9"}))
    assert _says(root)[0][0] == "en-US"
    with app.app_context():
        assert db.session.scalar(select(CallerLanguage)).language == "en"


def test_the_call_back_window_is_said_in_the_callers_language(app):
    with app.test_request_context():
        i18n.use("de")
        assert prompts.window(120) == "2 Stunden" and prompts.window(90) == "90 Minuten"
        assert prompts.window(60) == "1 Stunde"
        i18n.use("en")
        assert prompts.window(120) == "2 hours" and prompts.window(1) == "1 minute"
        # A window in fractions of a minute (a compressed clock) is said as at least one.
        assert prompts.window(0.5) == "1 minute" and prompts.window(120.0) == "2 hours"
