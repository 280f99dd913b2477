"""Membership: the free first conversation, the non-member answer, and the provider's webhook."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.billing import membership as billing
from app.billing.models import Membership
from app.db import db, utcnow
from app.infra import redis
from app.line.models import Call, Conversation, Participant
from tests.billing.support import (
    NUMBER,
    SUB,
    fixture,
    identity_of,
    membership,
    post,
    recorded,
    stripe_has,
)
from tests.support import call_form, spoken, together, twiml
from twin.payments import ApiFault, signed_event


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
                identity=identity_of(app, number),
                masked_number="+49 ••• •••• 01",
            )
            db.session.add(Participant(conversation=conversation, call=call))
        db.session.commit()
        if report:
            billing.conversation_ended(conversation)


def _ask_to_talk(twilio, number: str = NUMBER):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return form, twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))


def test_the_first_conversation_is_free(twilio):
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None


def test_a_short_call_does_not_use_up_the_free_conversation(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=30)
    assert membership(app, identity_of(app)) is None
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None


def test_after_the_free_conversation_a_non_member_hears_how_to_join(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=90)
    assert membership(app, identity_of(app, "+4915550100702")).free_used_at is not None
    form, root = _ask_to_talk(twilio)
    assert root.find("Dial") is None
    assert "4 euros a month" in spoken(root) and "Press 1 to get texts" in spoken(root)
    root = twiml(twilio.post("/twilio/voice/join/choice", {**form, "Digits": "1"}))
    assert "sending you a text with a link" in spoken(root)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
        assert call.outcome == "payment_link"  # offered membership, took the link
        queued = [job.func_name for job in jobs.SEND_PAYMENT_LINK.queue().jobs]
        assert "workers.billing.send_payment_link" in queued
        assert [ScheduledJobRegistry(queue=q).count for q in redis.queues()] == [0, 0]


def test_members_and_granted_callers_are_connected(twilio, app):
    _talked(app, [NUMBER, "+4915550100702"], seconds=90)
    with app.app_context():
        billing.set_manual(identity_of(app), active=True)
        db.session.commit()
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial/Conference") is not None
    with app.app_context():
        billing.set_manual(identity_of(app), active=False)
        db.session.commit()
    _, root = _ask_to_talk(twilio)
    assert root.find("Dial") is None


def test_each_event_sets_the_membership_to_the_subscriptions_state(client, app, stripe_api):
    identity = identity_of(app)
    steps = [
        ("checkout.session.completed", "active", "active"),
        ("invoice.payment_failed", "past_due", "past_due"),
        ("invoice.paid", "active", "active"),
        ("customer.subscription.deleted", "canceled", "cancelled"),
    ]
    for name, at_stripe, expected in steps:
        sub = stripe_has(stripe_api, identity, at_stripe)
        response = post(client, app, fixture(name, identity))
        assert response.status_code == 200 and response.json["applied"], name
        row = membership(app, identity)
        assert row.status == expected, name
        assert row.subscription_ref == SUB and row.customer_ref == "cus_QtestCustomer01"
    period_end = sub["items"]["data"][0]["current_period_end"]
    assert row.paid_until == datetime.fromtimestamp(period_end, UTC)  # from the item (basil)
    assert row.source == "stripe"


def test_an_invoice_names_its_subscription_under_parent(client, app, stripe_api):
    """From basil on an invoice has no top-level subscription: the line reads `parent`."""
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "active")
    event = fixture("invoice.paid", identity)
    assert event["data"]["object"]["subscription"] is None
    assert post(client, app, event).json["applied"]
    row = membership(app, identity)
    assert row.status == "active" and row.subscription_ref == SUB


def test_an_invoice_without_metadata_finds_its_member_by_the_subscription(client, app, stripe_api):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "active")
    event = fixture("invoice.paid", identity)
    event["data"]["object"]["parent"]["subscription_details"]["metadata"] = None
    assert post(client, app, event).json["applied"]
    assert membership(app, identity).status == "active"


def test_a_late_invoice_paid_does_not_revive_a_cancelled_membership(client, app, stripe_api):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "canceled")
    post(client, app, fixture("checkout.session.completed", identity))
    post(client, app, fixture("customer.subscription.deleted", identity))
    late = post(client, app, fixture("invoice.paid", identity))  # retried for days, lands last
    assert late.status_code == 200 and late.json["applied"]
    assert membership(app, identity).status == "cancelled"


@pytest.mark.parametrize(
    ("at_stripe", "expected"),
    [("canceled", "cancelled"), ("past_due", "past_due"), ("active", "active")],
)
def test_in_whatever_order_events_arrive_the_membership_follows_stripe(
    client, app, stripe_api, at_stripe, expected
):
    names = [
        "checkout.session.completed",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    ]
    for n, order in enumerate(itertools.permutations(names)):
        identity = identity_of(app, f"+49155501007{n:02d}")  # a caller of its own per order
        stripe_has(stripe_api, identity, at_stripe)
        for name in order:
            event = fixture(name, identity)
            event["id"] += f"x{n}"
            assert post(client, app, event).status_code == 200
        assert membership(app, identity).status == expected, order


def test_a_second_subscription_takes_over_only_by_paying(client, app, stripe_api):
    """A caller who checked out twice: the membership follows the one that last paid."""
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "active")
    post(client, app, fixture("invoice.paid", identity))
    other = stripe_has(stripe_api, identity, "past_due", id="sub_1QtestSubscription02")
    with stripe_api.lock:
        stripe_api.subscriptions[other["id"]] = stripe_api.subscriptions.pop(SUB)
    failed = fixture("invoice.payment_failed", identity)
    failed["data"]["object"]["parent"]["subscription_details"]["subscription"] = other["id"]
    assert post(client, app, failed).json["applied"]
    row = membership(app, identity)
    assert (row.status, row.subscription_ref) == ("active", SUB)
    other["status"] = "active"
    with stripe_api.lock:
        stripe_api.subscriptions[other["id"]] = other
    paid = fixture("invoice.paid", identity)
    paid["id"] += "b"
    paid["data"]["object"]["parent"]["subscription_details"]["subscription"] = other["id"]
    assert post(client, app, paid).json["applied"]
    row = membership(app, identity)
    assert (row.status, row.subscription_ref) == ("active", other["id"])


@pytest.mark.parametrize("while_pending", ["incomplete", "active"])
def test_an_unpaid_checkout_grants_nothing_until_its_payment_succeeds(
    client, app, stripe_api, while_pending
):
    """A delayed payment method: Checkout completes unpaid, the money comes days later."""
    identity = identity_of(app)
    stripe_has(stripe_api, identity, while_pending)
    completed = fixture("checkout.session.completed", identity)
    completed["data"]["object"]["payment_status"] = "unpaid"
    assert post(client, app, completed).json["applied"]
    row = membership(app, identity)
    assert row.status != "active" and row.subscription_ref == SUB
    stripe_has(stripe_api, identity, "active")
    assert post(client, app, fixture("checkout.session.async_payment_succeeded", identity)).json[
        "applied"
    ]
    assert membership(app, identity).status == "active"


@pytest.mark.parametrize(
    ("while_pending", "after_failure"),
    [
        ("incomplete", "incomplete_expired"),
        ("active", "past_due"),
        ("active", "active"),  # the failure's event overtakes the subscription's change
    ],
)
def test_a_delayed_payment_that_fails_grants_nothing(
    client, app, stripe_api, while_pending, after_failure
):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, while_pending)
    completed = fixture("checkout.session.completed", identity)
    completed["data"]["object"]["payment_status"] = "unpaid"
    post(client, app, completed)
    stripe_has(stripe_api, identity, after_failure)
    failed = post(client, app, fixture("checkout.session.async_payment_failed", identity))
    assert failed.status_code == 200 and failed.json["applied"]
    assert membership(app, identity).status in ("none", "past_due")


def test_a_checkout_that_needs_no_payment_grants(client, app, stripe_api):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "trialing")
    completed = fixture("checkout.session.completed", identity)
    completed["data"]["object"]["payment_status"] = "no_payment_required"
    assert post(client, app, completed).json["applied"]
    assert membership(app, identity).status == "active"


def test_a_subscription_update_follows_stripe_but_grants_nothing(client, app, stripe_api):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "past_due")
    assert post(client, app, fixture("customer.subscription.updated", identity)).json["applied"]
    assert membership(app, identity).status == "past_due"
    stripe_has(stripe_api, identity, "active")
    again = fixture("customer.subscription.updated", identity)
    again["id"] = "evt_1QsubscriptionUpdated0008"
    post(client, app, again)
    assert membership(app, identity).status == "past_due"  # active again only by a payment


def test_when_stripe_cannot_be_asked_the_event_waits_for_its_retry(client, app, stripe_api, caplog):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "active")
    stripe_api.faults.append(ApiFault(status=500, times=3, path="/v1/subscriptions/"))
    event = fixture("checkout.session.completed", identity)
    first = post(client, app, event)
    assert first.status_code == 503  # Stripe retries anything but a 2xx
    assert recorded(app) == (0, 0)  # nothing kept: the retry is not taken for a replay
    assert "the provider did not answer" in caplog.text
    retry = post(client, app, event)
    assert retry.status_code == 200 and retry.json["applied"]
    assert membership(app, identity).status == "active"


def test_a_replayed_event_is_applied_once(client, app, stripe_api):
    identity = identity_of(app)
    stripe_has(stripe_api, identity, "active")
    completed = fixture("checkout.session.completed", identity)
    assert post(client, app, completed).json["applied"]
    again = post(client, app, completed)
    assert again.status_code == 200 and not again.json["applied"]
    assert recorded(app) == (1, 1)


@pytest.mark.parametrize("signature", ["", "t=1,v1=00", "garbage"])
def test_a_forged_payment_webhook_is_rejected(client, app, signature):
    body = json.dumps(fixture("checkout.session.completed", identity_of(app))).encode()
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
    assert client.post("/payments/webhook", data=body, headers=headers).status_code == 400
    headers["Stripe-Signature"] = signed_event(json.loads(body), "whsec_not_ours")[1]
    assert client.post("/payments/webhook", data=body, headers=headers).status_code == 400
    assert recorded(app) == (0, 0)


def test_a_stale_signature_is_rejected(client, app):
    event = fixture("invoice.paid", identity_of(app))
    assert post(client, app, event, at=1_000_000).status_code == 400


def test_unrelated_event_kinds_are_acknowledged_and_ignored(client, app):
    event = {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    response = post(client, app, event)
    assert response.status_code == 200 and response.json["applied"] is False


def test_the_end_of_a_room_reported_at_once_by_several_callbacks_counts_once(app):
    _talked(app, [NUMBER, "+4915550100703"], seconds=90, report=False)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
        ended = db.session.scalar(select(Conversation.ended_at))
    errors: list[Exception] = []

    def report_end() -> None:
        try:
            billing.conversation_ended(db.session.get(Conversation, conversation_id))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    together(4, report_end, app.app_context)
    assert errors == []
    assert membership(app, identity_of(app)).free_used_at == ended
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 2
