"""The Stripe stand-in: Stripe's shapes, its API answers, and how it delivers events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, request

from tests.support import shape_differences
from twin import Twin
from twin.payments import CheckoutDesk, Delivery, Order, Payment, objects, signature
from twin.server import ServerThread

SECRET = "whsec_for_stand_in_tests"
KEY = {"Authorization": "Bearer sk_test_stand_in"}
FORM = {
    "mode": "subscription",
    "client_reference_id": "a" * 64,
    "metadata[identity]": "a" * 64,
    "subscription_data[metadata][identity]": "a" * 64,
    "line_items[0][price_data][unit_amount]": "400",
    "success_url": "http://line.test/payments/thanks",
    "cancel_url": "http://line.test/payments/cancelled",
}


class Endpoint:
    """A webhook endpoint that checks each signature and answers what the test says."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.failing = 0  # answer 500 to this many attempts at each event, then 200
        self.lock = threading.Lock()
        app = Flask("endpoint")
        app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])
        self.server = ServerThread(app)
        self.url = f"http://127.0.0.1:{self.server.port}/hook"

    def _hook(self):
        body = request.get_data()
        stamp = request.headers["Stripe-Signature"].split(",")[0].removeprefix("t=")
        assert request.headers["Stripe-Signature"] == signature(body, SECRET, int(stamp))
        event = json.loads(body)
        with self.lock:
            tries = sum(1 for e in self.received if e["id"] == event["id"])
            self.received.append(event)
        status = 500 if tries < self.failing else 200
        return {"ok": status == 200}, status

    def types(self) -> list[str]:
        """The event types received, in arrival order."""
        return [e["type"] for e in self.received]


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    hook = Endpoint()
    hook.server.start()
    yield hook
    hook.server.stop()


@pytest.fixture
def desk(endpoint: Endpoint) -> CheckoutDesk:
    """A desk delivering to the endpoint, in creation order, each event once, retrying fast."""
    stand_in = CheckoutDesk(Delivery(order=Order.CREATED, duplicates=0, retry_seconds=(0.05,)))
    stand_in.listen(endpoint.url, SECRET)
    return stand_in


def _differences(event: dict) -> list[str]:
    found = shape_differences({**event, "data": None}, objects.shape("event"), "event")
    obj = event["data"]["object"]
    return found + shape_differences(obj, objects.shape(obj["object"]), obj["object"])


def test_everything_the_stand_in_sends_has_stripes_shape(desk, endpoint):
    session = desk.create(FORM)
    sub = desk.pay(session["id"], Payment.SEPA_DEBIT)
    desk.settle(session["id"])
    desk.renew(sub, paid=False)
    desk.cancel(sub)
    desk.flush()
    assert shape_differences(session, objects.shape("checkout.session")) == []
    assert {e["type"] for e in endpoint.received} >= {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
    for event in endpoint.received:
        assert _differences(event) == [], event["type"]


def test_an_invoice_names_its_subscription_under_parent_and_periods_sit_on_items(desk, endpoint):
    session = desk.create(FORM)
    sub_id = desk.pay(session["id"])
    desk.flush()
    invoice = next(e for e in endpoint.received if e["type"] == "invoice.paid")["data"]["object"]
    assert invoice["subscription"] is None  # basil: no longer top-level
    details = invoice["parent"]["subscription_details"]
    assert details == {"metadata": {"identity": "a" * 64}, "subscription": sub_id}
    sub = desk.subscriptions[sub_id]
    assert "current_period_end" not in sub and sub["items"]["data"][0]["current_period_end"]


def test_an_event_carries_its_object_as_it_was_then(desk, endpoint):
    session = desk.create(FORM)
    sub_id = desk.pay(session["id"])
    desk.cancel(sub_id)
    desk.flush()
    created = next(e for e in endpoint.received if e["type"] == "customer.subscription.created")
    assert created["data"]["object"]["status"] == "active"
    assert desk.subscriptions[sub_id]["status"] == "canceled"


def test_by_default_events_come_shuffled_and_twice(endpoint):
    stand_in = CheckoutDesk()
    stand_in.listen(endpoint.url, SECRET)
    for _ in range(3):
        stand_in.pay(stand_in.create(FORM)["id"])
    generated = [e["id"] for e in stand_in.outbox.waiting()]
    stand_in.flush()
    arrived = [e["id"] for e in endpoint.received]
    assert sorted(arrived) == sorted(generated * 2)
    assert arrived[: len(generated)] != generated  # not in the order generated


def test_reversed_delivers_the_newest_first(desk, endpoint):
    desk.delivery.order = Order.REVERSED
    sub_id = desk.pay(desk.create(FORM)["id"])
    desk.cancel(sub_id)
    desk.flush()
    assert endpoint.types()[0] == "customer.subscription.deleted"
    assert endpoint.types()[-1] == "customer.subscription.created"


def test_a_failed_delivery_is_retried_on_schedule_then_given_up(desk, endpoint):
    desk.delivery.retry_seconds = (0.05, 0.05)
    endpoint.failing = 2  # each event's first two attempts fail, the third succeeds
    desk.pay(desk.create(FORM)["id"])
    desk.flush()
    for event_id in {a.event_id for a in desk.attempts}:
        tries = [(a.attempt, a.status) for a in desk.attempts if a.event_id == event_id]
        assert tries == [(1, 500), (2, 500), (3, 200)]
    endpoint.failing = 10
    desk.cancel(desk.pay(desk.create(FORM)["id"]))
    desk.flush()
    assert desk.outbox.pending() == 0  # given up after the schedule's last retry
    assert max(a.attempt for a in desk.attempts) == 3


def test_the_api_serves_subscriptions_and_sessions_in_stripes_shape():
    with Twin() as tw:
        session = requests.post(f"{tw.api_base}/v1/checkout/sessions", data=FORM, headers=KEY)
        assert session.status_code == 200 and session.json()["url"].startswith("https://")
        sub_id = tw.checkout.pay(session.json()["id"])
        found = requests.get(f"{tw.api_base}/v1/subscriptions/{sub_id}", headers=KEY)
        assert found.json()["status"] == "active"
        assert shape_differences(found.json(), objects.shape("subscription")) == []
        missing = requests.get(f"{tw.api_base}/v1/subscriptions/sub_none", headers=KEY)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "resource_missing"
        assert requests.get(f"{tw.api_base}/v1/subscriptions/{sub_id}").status_code == 401
