"""Opt-out keywords: exactly one answer to each, whether Twilio's default handling on a plain
number or a Messaging Service's Advanced Opt-Out answered it; nothing for a number Twilio will
not text; STOP and START recorded either way."""

from __future__ import annotations

import pytest

from app.sms import texts
from app.telephony.webhooks import DEFAULT_OPT_OUT_WORDS, OptOut
from tests.sms.support import NUMBER, replies, subscriber, text

# How each setup tells the line that Twilio answered a keyword: not at all on a plain number
# (the body is the keyword), OptOutType with Advanced Opt-Out.
PLAIN = {}
ADVANCED = {"MessagingServiceSid": "MG" + "0" * 32}


def _keyword(setup: dict, kind: OptOut) -> dict:
    return {**setup, "OptOutType": kind.upper()} if setup is ADVANCED else dict(setup)


SETUPS = pytest.mark.parametrize("setup", [PLAIN, ADVANCED], ids=["plain number", "advanced"])


def test_the_line_reads_every_word_twilio_answers():
    assert DEFAULT_OPT_OUT_WORDS[OptOut.STOP] <= texts.STOP_WORDS
    assert DEFAULT_OPT_OUT_WORDS[OptOut.START] <= texts.START_WORDS
    assert DEFAULT_OPT_OUT_WORDS[OptOut.HELP] <= texts.HELP_WORDS


@SETUPS
@pytest.mark.parametrize("word", sorted(DEFAULT_OPT_OUT_WORDS[OptOut.STOP]) + [" stop "])
def test_stop_is_recorded_and_not_answered_again(twilio, app, setup, word):
    text(twilio, "JOIN")
    assert replies(text(twilio, word, **_keyword(setup, OptOut.STOP))) == []
    stopped = subscriber(app)
    assert stopped.status == "opted_out" and stopped.number_encrypted is None


@SETUPS
@pytest.mark.parametrize("word", sorted(DEFAULT_OPT_OUT_WORDS[OptOut.START]))
def test_start_signs_up_again_without_a_second_answer(twilio, app, setup, word):
    text(twilio, "JOIN")
    text(twilio, "STOP", **_keyword(setup, OptOut.STOP))
    assert replies(text(twilio, word, **_keyword(setup, OptOut.START))) == []
    again = subscriber(app)
    assert again.status == "active" and again.number_encrypted is not None


@SETUPS
@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_is_left_to_twilio(twilio, setup, word):
    assert replies(text(twilio, word, **_keyword(setup, OptOut.HELP))) == []


def test_advanced_opt_out_keywords_of_its_own_are_recorded(twilio, app):
    text(twilio, "JOIN")
    assert replies(text(twilio, "ARRET", OptOutType="STOP", **ADVANCED)) == []
    assert subscriber(app).status == "opted_out"
    assert replies(text(twilio, "ALLONS", OptOutType="START", **ADVANCED)) == []
    assert subscriber(app).status == "active"


@pytest.mark.parametrize("word", ["Stop!", "stop.", "Cancel!"])
def test_a_stop_only_the_line_understands_is_answered_by_the_line(twilio, app, word):
    text(twilio, "JOIN")
    assert replies(text(twilio, word)) == [texts.STOPPED]  # Twilio did not take it as STOP
    stopped = subscriber(app)
    assert stopped.status == "stopped" and stopped.number_encrypted is None
    assert "reminder" in replies(text(twilio, "JOIN"))[0]  # so Twilio still texts them


def test_help_only_the_line_understands_is_answered_by_the_line(twilio):
    assert "another real person" in replies(text(twilio, "Help!"))[0]


@SETUPS
def test_nothing_is_sent_to_a_number_twilio_opted_out(twilio, app, setup):
    text(twilio, "JOIN")
    text(twilio, "STOP", **_keyword(setup, OptOut.STOP))
    for body in ("JOIN", "remind", "hello?", "Help!", "Start!"):
        assert replies(text(twilio, body, **setup)) == [], body
    assert subscriber(app).status == "opted_out"  # only Twilio's START lifts it


def test_a_first_stop_from_a_stranger_keeps_the_line_from_texting_them(twilio, app):
    assert replies(text(twilio, "STOP", number="+447700900502")) == []
    kept = subscriber(app, "+447700900502")
    assert kept.status == "opted_out" and kept.number_encrypted is None
    assert kept.masked_number == "+44 ••• •••• 02"
    assert replies(text(twilio, "JOIN", number="+447700900502")) == []
    text(twilio, "START", number="+447700900502")
    assert subscriber(app, "+447700900502").status == "active"


def test_a_garbled_opt_out_type_falls_back_to_the_body(twilio, app):
    text(twilio, "JOIN")
    assert replies(text(twilio, "STOP", OptOutType="MAYBE")) == []
    assert subscriber(app, NUMBER).status == "opted_out"
