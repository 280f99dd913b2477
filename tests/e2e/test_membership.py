"""Membership through the twin: a checkout link by text, with consent; then Stripe's events,
delivered by the stand-in as Stripe delivers them (in no promised order, some twice, failed
ones again), make and end the membership."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.billing import payment_provider
from app.billing.models import Membership
from app.db import db, utcnow
from app.identity import identify
from app.sms.models import Subscriber
from tests.support import eventually
from twin.payments import ApiFault, Order, Payment

CHECKOUT = "https://checkout.stripe.com/c/pay/cs_test_"
FAST_RETRIES = (0.2, 0.4, 0.8)  # Stripe's schedule, in fractions of a second


@pytest.fixture
def stripe(line):
    """The stand-in's Stripe account, sending its events to this line's webhook."""
    desk = line.twin.checkout
    desk.reset()
    desk.listen(line.server.url + "/payments/webhook", line.app.config["STRIPE_WEBHOOK_SECRET"])
    yield desk
    desk.reset()


def _free_conversation_used(line, number: str) -> str:
    identity = identify(number, line.app.config["NUMBER_HASH_KEY"], "x").identity
    with line.app.app_context():
        db.session.add(Membership(identity=identity, free_used_at=utcnow()))
        db.session.commit()
    return identity


def _status(line, identity: str) -> str | None:
    with line.app.app_context():
        return db.session.scalar(select(Membership.status).where(Membership.identity == identity))


def _asks_to_talk(line, number: str):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_heard("4 euros a month")
    return caller


def _checkout(line, stripe, number: str) -> tuple[str, str]:
    """A caller whose free conversation is used, and the Checkout Session made for them."""
    identity = _free_conversation_used(line, number)
    with line.app.app_context():
        url = payment_provider().checkout_link(identity)
    return identity, url.rsplit("/", 1)[1]


def _delivered(stripe) -> None:
    """Everything outstanding delivered, and every event in the end answered 2xx."""
    stripe.flush()
    assert stripe.outbox.pending() == 0
    answered = {a.event_id for a in stripe.attempts if a.ok}
    assert answered == {a.event_id for a in stripe.attempts}


def test_a_subscriber_who_is_not_a_member_gets_the_link_by_text(line):
    number = "+4915550100801"
    identity = _free_conversation_used(line, number)
    line.twin.send_sms(number, "JOIN")  # agreed to texts earlier
    caller = _asks_to_talk(line, number)
    caller.wait_until_heard("sending you a text with a link")
    assert caller.wait_until_ended() == "completed" and caller.conference is None
    link = eventually(lambda: [t for t in line.twin.inbox(number) if CHECKOUT in t])
    assert "4 euros a month" in link[0]
    session = line.twin.checkout.sessions[-1]
    assert session["metadata"] == {"identity": identity} and session["mode"] == "subscription"
    form = line.twin.checkout.forms[session["id"]]
    assert number.lstrip("+") not in str(form)  # the provider never sees the number


def test_a_caller_who_agrees_to_texts_gets_the_link(line):
    number = "+4915550100802"
    _free_conversation_used(line, number)
    caller = _asks_to_talk(line, number)
    caller.wait_until_heard("press 1 to get texts")
    caller.press("1")
    caller.wait_until_heard("sending you a text with a link")
    eventually(lambda: [t for t in line.twin.inbox(number) if CHECKOUT in t])
    with line.app.app_context():
        assert db.session.scalar(select(Subscriber.status)) == "active"


def test_a_caller_who_pays_by_card_is_connected_on_the_next_call(line, stripe):
    number = "+4915550100803"
    identity, session = _checkout(line, stripe, number)
    stripe.pay(session, Payment.CARD)
    _delivered(stripe)  # shuffled, and each event twice: Stripe's defaults
    assert all(n == 2 for n in _deliveries_per_event(stripe).values())
    assert _status(line, identity) == "active"
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_in_conference()


def _deliveries_per_event(stripe) -> dict[str, int]:
    counts: dict[str, int] = {}
    for attempt in stripe.attempts:
        counts[attempt.event_id] = counts.get(attempt.event_id, 0) + 1
    return counts


@pytest.mark.parametrize("order", [Order.REVERSED, Order.SHUFFLED, Order.CREATED])
def test_a_cancelled_membership_stays_cancelled_whatever_order_the_events_come_in(
    line, stripe, order
):
    stripe.delivery.order = order
    identity, session = _checkout(line, stripe, "+4915550100804")
    sub = stripe.pay(session)
    stripe.renew(sub)
    stripe.renew(sub, paid=False)
    stripe.renew(sub)
    stripe.cancel(sub)
    _delivered(stripe)  # reversed: the cancellation first, then every payment, late
    assert _status(line, identity) == "cancelled"


def test_renewals_keep_the_membership_and_a_failed_one_pauses_it(line, stripe):
    identity, session = _checkout(line, stripe, "+4915550100805")
    sub = stripe.pay(session)
    stripe.renew(sub)
    _delivered(stripe)
    assert _status(line, identity) == "active"
    stripe.renew(sub, paid=False)
    _delivered(stripe)
    assert _status(line, identity) == "past_due"


@pytest.mark.parametrize("while_pending", ["incomplete", "active"])
@pytest.mark.parametrize("succeeds", [True, False])
def test_a_delayed_payment_makes_a_member_only_when_it_succeeds(
    line, stripe, while_pending, succeeds
):
    stripe.pending_status = while_pending
    number = "+4915550100806"
    identity, session = _checkout(line, stripe, number)
    stripe.pay(session, Payment.SEPA_DEBIT)
    _delivered(stripe)
    assert _status(line, identity) != "active"
    _asks_to_talk(line, number).hang_up()  # still not connected while the debit is pending
    stripe.settle(session, succeeded=succeeds)
    _delivered(stripe)
    assert (_status(line, identity) == "active") is succeeds


def test_while_stripe_cannot_be_asked_the_retried_event_is_applied(line, stripe):
    stripe.delivery.retry_seconds = FAST_RETRIES
    stripe.delivery.duplicates = 0
    identity, session = _checkout(line, stripe, "+4915550100807")
    # every fetch of the subscription fails for a while (the client's own retries too)
    stripe.faults.append(ApiFault(status=500, times=6, path="/v1/subscriptions/"))
    stripe.pay(session)
    _delivered(stripe)
    assert any(a.status == 503 for a in stripe.attempts)
    assert _status(line, identity) == "active"
