"""Membership: the free first conversation, the non-member answer, and the provider's webhook."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app.billing import membership
from app.billing.models import Membership
from app.db import db, utcnow
from app.identity import identify
from app.infra import redis
from app.line.models import Call, Conversation, Participant
from tests.support import call_form, spoken, together, twiml
from twin.payments import signed_event

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
NUMBER = "+4915550100701"


def _identity(app, number: str = NUMBER) -> str:
    return identify(number, app.config["NUMBER_HASH_KEY"], "x").identity


def _event(app, name: str, identity: str) -> tuple[bytes, str]:
    event = json.loads((FIXTURES / f"{name}.json").read_text().replace("{identity}", identity))
    return signed_event(event, app.config["STRIPE_WEBHOOK_SECRET"])


def _post(client, payload: bytes, signature: str):
    return client.post(
        "/payments/webhook",
        data=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def _status(app, identity: str) -> Membership | None:
    with app.app_context():
        found = db.session.scalar(select(Membership).where(Membership.identity == identity))
        db.session.expunge_all()
        return found


def _talked(app, numbers: list[str], seconds: int, report: bool = True) -> None:
    """Record a finished conversation of `seconds` between callers with these numbers."""
    with app.app_context():
        start = utcnow() - timedelta(seconds=seconds + 5)
        conversation = Conversation(
            room="room-" + numbers[0][-4:] + str(seconds),
            started_at=start,
            ended_at=start + timedelta(seconds=seconds),
        )
        db.session.add(conversation)
        for index, number in enumerate(numbers):
            call = Call(
                sid=f"CA{seconds:04d}{index}{number[-6:]}".ljust(34, "0"),
                identity=_identity(app, number),
                masked_number="+49 ••• •••• 01",
            )
            db.session.add(Participant(conversation=conversation, call=call))
        db.session.commit()
        if report:
            membership.conversation_ended(conversation)


def _ask_to_talk(twilio, number: str = NUMBER):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return form, twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))


def test_the_first_conversation_is_free(twilio):
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None


def test_a_short_call_does_not_use_up_the_free_conversation(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=30)
    assert _status(app, _identity(app)) is None
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None


def test_after_the_free_conversation_a_non_member_hears_how_to_join(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=90)
    assert _status(app, _identity(app, "+4915550100702")).free_used_at is not None
    form, root = _ask_to_talk(twilio)
    assert root.find("Dial") is None
    assert "4 euros a month" in spoken(root) and "Press 1 to get texts" in spoken(root)
    root = twiml(twilio.post("/twilio/voice/join/choice", {**form, "Digits": "1"}))
    assert "sending you a text with a link" in spoken(root)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
        assert call.outcome == "not_member"
        queued = [job.func_name for job in redis.queue().jobs]
        assert "workers.billing.send_payment_link" in queued
        assert ScheduledJobRegistry(queue=redis.queue()).count == 0


def test_members_and_granted_callers_are_connected(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=90)
    with app.app_context():
        membership.set_manual(_identity(app), active=True)
        db.session.commit()
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None
    with app.app_context():
        membership.set_manual(_identity(app), active=False)
        db.session.commit()
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial") is None


def test_each_subscription_event_sets_the_membership(client, app):
    identity = _identity(app)
    expected = [
        ("checkout.session.completed", "active"),
        ("invoice.paid", "active"),
        ("invoice.payment_failed", "past_due"),
        ("customer.subscription.deleted", "cancelled"),
    ]
    for name, status in expected:
        response = _post(client, *_event(app, name, identity))
        assert response.status_code == 200 and response.json["applied"], name
        row = _status(app, identity)
        assert row.status == status, name
        assert row.subscription_ref == "sub_1QtestSubscription01"
    assert row.paid_until is not None and row.paid_until.year == 2027
    assert row.source == "stripe"


def test_a_replayed_event_is_applied_once(client, app):
    identity = _identity(app)
    completed = _event(app, "checkout.session.completed", identity)
    assert _post(client, *completed).json["applied"]
    _post(client, *_event(app, "customer.subscription.deleted", identity))
    again = _post(client, *completed)
    assert again.status_code == 200 and not again.json["applied"]
    assert _status(app, identity).status == "cancelled"


@pytest.mark.parametrize("signature", ["", "t=1,v1=00", "garbage"])
def test_a_forged_payment_webhook_is_rejected(client, app, signature):
    payload, _ = _event(app, "checkout.session.completed", _identity(app))
    assert _post(client, payload, signature).status_code == 400
    other_secret = signed_event(json.loads(payload), "whsec_not_ours")[1]
    assert _post(client, payload, other_secret).status_code == 400
    assert _status(app, _identity(app)) is None


def test_a_stale_signature_is_rejected(client, app):
    event = json.loads(_event(app, "invoice.paid", _identity(app))[0])
    payload, old = signed_event(event, app.config["STRIPE_WEBHOOK_SECRET"], at=1_000_000)
    assert _post(client, payload, old).status_code == 400


def test_unrelated_event_kinds_are_acknowledged_and_ignored(client, app):
    payload, signature = signed_event(
        {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
        app.config["STRIPE_WEBHOOK_SECRET"],
    )
    response = _post(client, payload, signature)
    assert response.status_code == 200 and response.json["applied"] is False


def test_the_end_of_a_room_reported_at_once_by_several_callbacks_counts_once(app):
    _talked(app, [NUMBER, "+4915550100703"], seconds=90, report=False)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        ended = db.session.scalar(select(Conversation.ended_at))
    errors: list[Exception] = []

    def report_end() -> None:
        try:
            membership.conversation_ended(db.session.get(Conversation, conversation_id))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    together(4, report_end, app.app_context)
    assert errors == []
    assert _status(app, _identity(app)).free_used_at == ended
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 2
