"""Helpers for the billing tests: Stripe's events from the fixtures, signed and posted."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from sqlalchemy import func, select

from app.billing.models import Membership, PaymentEvent
from app.db import db
from app.identity import identify
from twin.payments import CheckoutDesk, signature

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
NUMBER = "+4915550100701"
SUB = "sub_1QtestSubscription01"  # the subscription every fixture belongs to
EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
]


def identity_of(app, number: str = NUMBER) -> str:
    """The caller's HMAC identity, as the line knows them."""
    return identify(number, app.config["NUMBER_HASH_KEY"], "x").identity


def fixture(name: str, identity: str) -> dict:
    """A fixture (an event, or `subscription`) for this caller."""
    return json.loads((FIXTURES / f"{name}.json").read_text().replace("{identity}", identity))


def post(client, app, event: dict | bytes, at: int | None = None):
    """Post an event (or any body) to the payments webhook, signed as Stripe signs."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature(body, app.config["STRIPE_WEBHOOK_SECRET"], at)
    return client.post(
        "/payments/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def stripe_has(desk: CheckoutDesk, identity: str, status: str, **changes) -> dict:
    """Make the stand-in hold the fixtures' subscription in this status (as Stripe has it now)."""
    sub = copy.deepcopy(fixture("subscription", identity))
    sub.update(status=status, **changes)
    with desk.lock:
        desk.subscriptions[SUB] = sub
    return sub


def membership(app, identity: str) -> Membership | None:
    """The caller's membership row, detached, or None."""
    with app.app_context():
        found = db.session.scalar(select(Membership).where(Membership.identity == identity))
        db.session.expunge_all()
        return found


def recorded(app) -> tuple[int, int]:
    """How many memberships and applied payment events the database holds."""
    with app.app_context():
        members = db.session.scalar(select(func.count()).select_from(Membership))
        events = db.session.scalar(select(func.count()).select_from(PaymentEvent))
        return members, events
