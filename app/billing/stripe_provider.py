"""Stripe: Checkout for a EUR 4.00 monthly subscription, its signed webhooks, its subscriptions.

The only code that knows Stripe's shapes: its event types, where each object keeps the
fields the line reads (from API version 2025-03-31.basil an invoice names its subscription
under `parent.subscription_details`, and a subscription's period sits on its items), the
subscription statuses, and the header that carries a webhook's signature.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe

from app import urls
from app.billing.membership import BillingEvent, EventKind, Subscription
from app.billing.models import Membership, MembershipStatus, PaymentEvent
from app.billing.provider import ForgedEvent, PaymentError, UnusableEvent
from app.settings import settings

log = logging.getLogger(__name__)
NAME = "stripe"  # as a membership's source
# Stripe event type -> what it means for a membership; Checkout's completion depends on
# whether it was paid (see _checkout_kind).
KINDS = {
    "checkout.session.async_payment_succeeded": EventKind.PAID,
    "checkout.session.async_payment_failed": EventKind.PAYMENT_FAILED,
    "invoice.paid": EventKind.PAID,
    "invoice.payment_succeeded": EventKind.PAID,
    "invoice.payment_failed": EventKind.PAYMENT_FAILED,
    "customer.subscription.updated": EventKind.CHANGED,
    "customer.subscription.deleted": EventKind.CANCELLED,
}
CHECKOUT_COMPLETED = "checkout.session.completed"
PAID_CHECKOUT = {"paid", "no_payment_required"}  # "unpaid": a delayed payment still to settle
# Subscription status -> membership status. incomplete: the first payment has not
# succeeded (yet); incomplete_expired: it never did, so there never was a membership.
STATUSES = {
    "active": MembershipStatus.ACTIVE,
    "trialing": MembershipStatus.ACTIVE,
    "past_due": MembershipStatus.PAST_DUE,
    "unpaid": MembershipStatus.PAST_DUE,
    "paused": MembershipStatus.PAST_DUE,
    "canceled": MembershipStatus.CANCELLED,
    "incomplete": MembershipStatus.NONE,
    "incomplete_expired": MembershipStatus.NONE,
}


class StripeProvider:
    """The PaymentProvider on Stripe's API (or a stand-in at STRIPE_API_BASE)."""

    signature_header = "Stripe-Signature"

    def __init__(self):
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=2,
        )

    def checkout_link(self, identity: str) -> str:
        """A Checkout Session for the monthly membership, carrying only the HMAC identity."""
        price = settings.STRIPE_PRICE_ID
        item = (
            {"price": price, "quantity": 1}
            if price
            else {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": settings.MEMBERSHIP_PRICE_CENTS,
                    "recurring": {"interval": "month"},
                    "product_data": {"name": "Mindfuse membership"},
                },
            }
        )
        try:
            session = self.client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [item],
                    "client_reference_id": identity,
                    "metadata": {"identity": identity},
                    "subscription_data": {"metadata": {"identity": identity}},
                    "success_url": urls.public(urls.PAYMENT_THANKS),
                    "cancel_url": urls.public(urls.PAYMENT_CANCELLED),
                }
            )
        except stripe.StripeError as error:
            raise PaymentError(f"checkout: {type(error).__name__}") from error
        return session.url

    def verify(self, payload: bytes, signature: str) -> BillingEvent | None:
        """Check Stripe-Signature and read the event (UnusableEvent: signed, unreadable)."""
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, 300
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise ForgedEvent(str(error)) from error
        try:
            event = Shape(json.loads(payload), "event")
        except ValueError as error:  # not JSON, or JSON but not an object
            raise UnusableEvent(f"the body is not a JSON event: {type(error).__name__}") from error
        kind = event.text("type", required=True)
        ref = event.text("id", required=True)
        if kind != CHECKOUT_COMPLETED and kind not in KINDS:
            return None
        try:
            return self._read(_fits(ref, PaymentEvent.event_ref, "event.id"), kind, event)
        except UnusableEvent as error:
            raise UnusableEvent(f"{kind:.64} {ref:.64}: {error}") from error

    def _read(self, ref: str, kind: str, event: Shape) -> BillingEvent | None:
        obj = event.part("data", required=True).part("object", required=True)
        if kind == CHECKOUT_COMPLETED:
            return self._event(ref, _checkout_kind(obj), obj, obj.text("subscription"))
        if kind.startswith("invoice."):
            parent = obj.part("parent").part("subscription_details")
            sub_ref = parent.text("subscription")
            if sub_ref is None:
                log.info("%s %s not from a subscription: ignored", kind, ref)
                return None
            return self._event(ref, KINDS[kind], obj, sub_ref, parent.part("metadata"))
        if kind.startswith("customer.subscription."):
            return self._event(ref, KINDS[kind], obj, obj.text("id", required=True))
        return self._event(ref, KINDS[kind], obj, obj.text("subscription"))

    def _event(
        self, ref: str, kind: EventKind, data: Shape, sub_ref: str | None, meta: Shape | None = None
    ) -> BillingEvent:
        identity = (meta or data.part("metadata")).text("identity")
        if identity is None and data.get("object") == "checkout.session":
            identity = data.text("client_reference_id")
        return BillingEvent(
            ref=ref,
            kind=kind,
            identity=_fits(identity, Membership.identity, "the identity"),
            source=NAME,
            customer_ref=_fits(data.text("customer"), Membership.customer_ref, "the customer"),
            subscription_ref=_fits(sub_ref, Membership.subscription_ref, "the subscription"),
        )

    def subscription(self, ref: str) -> Subscription:
        """The subscription as Stripe has it now (PaymentError: Stripe not reachable)."""
        try:
            found = self.client.v1.subscriptions.retrieve(ref)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise UnusableEvent(f"subscription {ref:.64} is unknown to Stripe") from error
            raise PaymentError(f"subscription: {type(error).__name__}") from error
        except stripe.StripeError as error:
            raise PaymentError(f"subscription: {type(error).__name__}") from error
        sub = Shape(found.to_dict(), "subscription")
        status = sub.text("status", required=True)
        if status not in STATUSES:
            raise UnusableEvent(f"{ref}'s status is one the line does not know: {status!r:.40}")
        items = sub.part("items").list("data")
        ends = [item.number("current_period_end") for item in items]
        ends = [end for end in ends if end is not None]
        return Subscription(
            ref=_fits(sub.text("id", required=True), Membership.subscription_ref, "its id"),
            status=STATUSES[status],
            identity=_fits(sub.part("metadata").text("identity"), Membership.identity, "identity"),
            customer_ref=_fits(sub.text("customer"), Membership.customer_ref, "its customer"),
            paid_until=datetime.fromtimestamp(max(ends), UTC) if ends else None,
        )


def _fits(value: str | None, column: Any, what: str) -> str | None:
    """The value, if it fits the column that keeps it (a longer one is no id of Stripe's)."""
    if value is not None and len(value) > column.type.length:
        raise UnusableEvent(f"{what} is longer than {column.type.length} characters")
    return value


def _checkout_kind(session: Shape) -> EventKind:
    status = session.text("payment_status", required=True)
    if status in PAID_CHECKOUT:
        return EventKind.PAID
    if status == "unpaid":
        return EventKind.CHECKOUT_UNPAID
    raise UnusableEvent(f"a Checkout payment_status the line does not know: {status!r:.40}")


class Shape:
    """A JSON object of a signed payload, read field by field: a field of another type than
    Stripe documents raises UnusableEvent naming where it is (never its value)."""

    def __init__(self, value: Any, path: str):
        if not isinstance(value, dict):
            raise UnusableEvent(f"{path} is not an object")
        self.value, self.path = value, path

    def get(self, key: str) -> Any:
        """The raw value of a field (None when absent)."""
        return self.value.get(key)

    def part(self, key: str, required: bool = False) -> Shape:
        """A nested object; an absent or null one reads as empty unless required."""
        found = self.value.get(key)
        if found is None and not required:
            return Shape({}, f"{self.path}.{key}")
        return Shape(found, f"{self.path}.{key}")

    def text(self, key: str, required: bool = False) -> str | None:
        """A string field, or None when absent or null (UnusableEvent if required)."""
        found = self.value.get(key)
        if isinstance(found, str) and found:
            return found
        if found is None or found == "":
            if required:
                raise UnusableEvent(f"{self.path}.{key} is missing")
            return None
        raise UnusableEvent(f"{self.path}.{key} is not text")

    def number(self, key: str) -> int | None:
        """A whole-number field (a Unix time, an amount), or None."""
        found = self.value.get(key)
        if found is None or (isinstance(found, int) and not isinstance(found, bool)):
            return found
        raise UnusableEvent(f"{self.path}.{key} is not a whole number")

    def list(self, key: str) -> list[Shape]:
        """The objects of a list field (an absent list is empty)."""
        found = self.value.get(key) or []
        if not isinstance(found, list):
            raise UnusableEvent(f"{self.path}.{key} is not a list")
        return [Shape(item, f"{self.path}.{key}[{i}]") for i, item in enumerate(found)]
