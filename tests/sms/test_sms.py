"""The SMS webhook: sign-up, consent, encrypted numbers, and delivery status."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from app.db import db
from app.line.models import Purge, RecordKind
from app.sms import crypto, outbox
from app.sms.models import Subscriber, TextMessage, UnknownTextReply
from tests.sms import support
from tests.sms.support import NUMBER
from tests.support import dump_database, sign


@pytest.mark.parametrize("word", ["JOIN", "remind", " Join! "])
def test_join_by_text_keeps_only_an_encrypted_number(twilio, app, word):
    reply = support.reply(support.text(twilio, word))
    assert "reminder 24 hours and 15 minutes before" in reply and "Reply STOP" in reply
    subscriber = support.subscriber(app)
    assert subscriber.status == "active" and subscriber.source == "text"
    assert subscriber.masked_number == "+44 ••• •••• 01"
    assert subscriber.timezone == "Europe/London"
    with app.app_context():
        assert crypto.decrypt(subscriber.number_encrypted) == NUMBER
    stored = dump_database(app)
    assert "7700900501" not in stored and "07700 900501" not in stored


def test_unknown_texts_get_a_helpful_answer_once_a_day(twilio, app):
    assert "reply JOIN" in support.reply(support.text(twilio, "hello?"))
    assert "<Message>" not in support.reply(support.text(twilio, "anyone there?"))
    assert "reply JOIN" in support.reply(support.text(twilio, "hi", number="+447700900502"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UnknownTextReply)) == 2


def test_withheld_senders_cannot_subscribe(twilio, app):
    assert "withheld" in support.reply(support.text(twilio, "JOIN", number="anonymous"))
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
    support.text(twilio, "JOIN")
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


def _reminder_row(app, sid: str | None, status: str = "queued") -> int:
    with app.app_context():
        subscriber = db.session.scalar(select(Subscriber))
        row = TextMessage(subscriber_id=subscriber.id, kind="reminder", sid=sid, status=status)
        db.session.add(row)
        db.session.commit()
        return row.id


def _status(twilio, sid: str, state: str, **extra):
    form = {"MessageSid": sid, "MessageStatus": state, "AccountSid": "AC1", **extra}
    assert twilio.post("/twilio/sms/status", form).status_code == 204


@pytest.mark.parametrize("step", ["accepted", "queued", "sending", "scheduled"])
def test_twilios_earlier_steps_do_not_read_as_the_lines_own(twilio, app, step):
    support.text(twilio, "JOIN")
    _reminder_row(app, "SM" + "6" * 32, status="sent")
    _status(twilio, "SM" + "6" * 32, step)  # 'queued' would be sent again by the planner
    with app.app_context():
        assert db.session.scalar(select(TextMessage.status)) == "sent"


def test_a_report_that_comes_before_the_sender_noted_the_sid_is_applied(twilio, app):
    support.text(twilio, "JOIN")
    sid = "SM" + "7" * 32
    message_id = _reminder_row(app, None, status="sending")
    _status(twilio, sid, "sent")
    _status(twilio, sid, "failed", ErrorCode="30036")  # before the REST answer was recorded
    with app.app_context():
        outbox.handed_over(db.session.get(TextMessage, message_id), sid)
        found = db.session.get(TextMessage, message_id)
        assert (found.sid, found.status, found.error_code) == (sid, "failed", 30036)
        noted = db.session.scalar(select(Purge.kind).where(Purge.sid == sid))
        assert noted == RecordKind.MESSAGE  # to be deleted at Twilio


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
    support.text(twilio, "JOIN")
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
