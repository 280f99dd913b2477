"""Texts in the subscriber's language: the reply to a text, the confirmation, the reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app import i18n
from app.fusing.schedule import Occurrence
from app.sms import waves
from app.sms.models import TextKind
from tests.sms.support import replies, subscriber, text
from tests.support import PUBLIC, call_form, twiml
from workers import sms as sms_jobs

DE_LINE = "+4915550000001"
CALLER = "+4915550000042"


def test_a_text_to_the_german_number_is_answered_in_german_and_kept_so(twilio, app):
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    assert replies(text(twilio, "JOIN", CALLER, To=DE_LINE)) == [
        "Mindfuse: Sie bekommen 24 Stunden und 15 Minuten vor jeder Fusing Hour eine Erinnerung. "
        "Antworten Sie jederzeit STOP zum Abbestellen, HELP für Hilfe."
    ]
    assert subscriber(app, CALLER).language == "de"
    # a subscriber keeps their language whichever number they text
    assert replies(text(twilio, "Stop!", CALLER))[0].startswith("Mindfuse: Sie bekommen keine SMS")


def test_a_german_caller_who_signs_up_gets_the_confirmation_in_german(twilio, app):
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    form = call_form(CALLER, To=DE_LINE)
    action = twiml(twilio.post("/twilio/voice", form)).find("Gather").get("action")
    info = twiml(twilio.post(action.removeprefix(PUBLIC), {**form, "Digits": "2"}))
    info_action = info.find("Gather").get("action").removeprefix(PUBLIC)
    twiml(twilio.post(info_action, {**form, "Digits": "2"}))
    with app.test_request_context():
        from app.sms.subscribers import by_identity  # noqa: PLC0415

        row = by_identity(subscriber(app, CALLER).identity)
        assert row.language == "de"
        message = next(m for m in row.texts if m.kind == TextKind.CONFIRMATION)
        assert sms_jobs._body(message, None).startswith("Mindfuse: Sie bekommen 24 Stunden")
        assert i18n.current() == i18n.default()  # the text's language did not leak out


def test_a_reminder_names_the_day_and_hour_in_german(app):
    sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    occurrence = Occurrence(
        sunday, sunday + timedelta(hours=1), "Europe/Berlin", timedelta(minutes=10), timedelta(0)
    )
    with app.test_request_context(), i18n.speaking("de"):
        body = waves.reminder(occurrence, "Europe/Berlin", 15, sunday - timedelta(minutes=15))
    assert body.startswith("Mindfuse: Die Fusing Hour beginnt heute um 10 Uhr mitteleuropäischer")


def test_a_wave_is_planned_with_each_languages_own_reminder_length(app):
    sunday, zone = datetime(2026, 12, 6, 18, 30, tzinfo=UTC), "America/New_York"
    occurrence = Occurrence(
        sunday, sunday + timedelta(hours=1), zone, timedelta(minutes=10), timedelta(0)
    )
    with app.test_request_context():
        english = waves.plan(occurrence, {(zone, "en"): 100})
        german = waves.plan(occurrence, {(zone, "de"): 100})
    # the day-before reminder: one segment in English (128 characters), two in German (176)
    assert german[0].sending == 2 * english[0].sending
