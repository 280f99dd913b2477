"""The SMS webhook: keywords, consent, encrypted numbers, and delivery status."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from app.db import db
from app.identity import identify
from app.sms import crypto
from app.sms.models import Subscriber, TextMessage, UnknownTextReply
from tests.support import dump_database, sign

NUMBER = "+447700900501"


def _text(twilio, body: str, number: str = NUMBER, **extra):
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15550100000",
        "Body": body,
        "NumSegments": "1",
        **extra,
    }
    return twilio.post("/twilio/sms", form)


def _reply(response) -> str:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def _subscriber(app, number: str = NUMBER) -> Subscriber | None:
    with app.app_context():
        identity = identify(number, app.config["NUMBER_HASH_KEY"], "x").identity
        found = db.session.scalar(select(Subscriber).where(Subscriber.identity == identity))
        db.session.expunge_all()
        return found


@pytest.mark.parametrize("word", ["JOIN", "remind", " Join! "])
def test_join_by_text_keeps_only_an_encrypted_number(twilio, app, word):
    reply = _reply(_text(twilio, word))
    assert "reminder 24 hours and 15 minutes before" in reply and "Reply STOP" in reply
    subscriber = _subscriber(app)
    assert subscriber.status == "active" and subscriber.source == "text"
    assert subscriber.masked_number == "+44 ••• •••• 01"
    assert subscriber.timezone == "Europe/London"
    with app.app_context():
        assert crypto.decrypt(subscriber.number_encrypted) == NUMBER
    stored = dump_database(app)
    assert "7700900501" not in stored and "07700 900501" not in stored


@pytest.mark.parametrize(
    "word", ["STOP", "stopall", "UNSUBSCRIBE", "cancel", "END", "QUIT", "REVOKE", "OPTOUT"]
)
def test_every_stop_word_unsubscribes_and_forgets_the_number(twilio, app, word):
    _text(twilio, "JOIN")
    assert "no more texts" in _reply(_text(twilio, word))
    subscriber = _subscriber(app)
    assert subscriber.status == "stopped" and subscriber.number_encrypted is None


@pytest.mark.parametrize("word", ["START", "unstop", "YES"])
def test_start_words_subscribe_again(twilio, app, word):
    _text(twilio, "JOIN")
    _text(twilio, "STOP")
    assert "reminder" in _reply(_text(twilio, word))
    subscriber = _subscriber(app)
    assert subscriber.status == "active" and subscriber.number_encrypted is not None


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_says_what_the_line_is(twilio, word):
    reply = _reply(_text(twilio, word))
    assert "connects you with another real person" in reply and "STOP" in reply


def test_unknown_texts_get_a_helpful_answer_once_a_day(twilio, app):
    assert "reply JOIN" in _reply(_text(twilio, "hello?"))
    assert "<Message>" not in _reply(_text(twilio, "anyone there?"))
    assert "reply JOIN" in _reply(_text(twilio, "hi", number="+447700900502"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UnknownTextReply)) == 2


def test_advanced_opt_out_is_recorded_without_a_second_reply(twilio, app):
    _text(twilio, "JOIN")
    reply = _reply(_text(twilio, "Stop please", OptOutType="STOP"))
    assert "<Message>" not in reply
    assert _subscriber(app).status == "stopped"


def test_withheld_senders_cannot_subscribe(twilio, app):
    assert "withheld" in _reply(_text(twilio, "JOIN", number="anonymous"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_forged_sms_webhook_is_rejected_and_changes_nothing(client, app):
    form = {"MessageSid": "SM1", "From": NUMBER, "To": "+15550100000", "Body": "JOIN"}
    assert client.post("/twilio/sms", data=form).status_code == 403
    forged = sign("http://line.test/twilio/sms", {**form, "Body": "STOP"})
    response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_delivery_status_is_recorded_and_not_overwritten_by_a_late_one(twilio, app):
    _text(twilio, "JOIN")
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        db.session.add(
            TextMessage(
                subscriber_id=subscriber.id, kind="reminder", sid="SM" + "5" * 32, status="sent"
            )
        )
        db.session.commit()
    for state in ("delivered", "sent"):
        form = {"MessageSid": "SM" + "5" * 32, "MessageStatus": state, "AccountSid": "AC1"}
        assert twilio.post("/twilio/sms/status", form).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(TextMessage.status)) == "delivered"


def test_keys_rotate_and_old_tokens_still_decrypt(app):
    old, new = app.config["NUMBER_ENCRYPTION_KEY"], Fernet.generate_key().decode()
    with app.app_context():
        token = crypto.encrypt(NUMBER)
    app.config["NUMBER_ENCRYPTION_KEY"] = f"{new},{old}"
    app.extensions.pop(crypto.EXTENSION, None)
    with app.app_context():
        assert crypto.decrypt(token) == NUMBER
        rotated = crypto.rotate(token)
        app.config["NUMBER_ENCRYPTION_KEY"] = new
        app.extensions.pop(crypto.EXTENSION, None)
        assert crypto.decrypt(rotated) == NUMBER
        with pytest.raises(ValueError):
            crypto.decrypt(token)


def test_rotate_keys_command_re_encrypts_every_number(twilio, app, runner):
    _text(twilio, "JOIN")
    old, new = app.config["NUMBER_ENCRYPTION_KEY"], Fernet.generate_key().decode()
    app.config["NUMBER_ENCRYPTION_KEY"] = f"{new},{old}"
    app.extensions.pop(crypto.EXTENSION, None)
    result = runner.invoke(args=["sms", "rotate-keys"])
    assert "Re-encrypted 1 numbers" in result.output
    app.config["NUMBER_ENCRYPTION_KEY"] = new  # the old key can now be retired
    app.extensions.pop(crypto.EXTENSION, None)
    with app.app_context():
        assert crypto.decrypt(db.session.scalar(select(Subscriber.number_encrypted))) == NUMBER
    assert runner.invoke(args=["sms", "count"]).output.strip() == "1"
