"""Stripe: Checkout for a EUR 4.00 monthly subscription, and its signed webhooks.

The only code that knows Stripe's shapes: its event types, the fields read from an event's
object, and the header that carries a webhook's signature.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import stripe

from app import urls
from app.billing.membership import BillingEvent
from app.billing.provider import ForgedEvent, PaymentError
from app.settings import settings

NAME = "stripe"  # as a membership's source
# Stripe event type -> what it means for a membership.
KINDS = {
    "checkout.session.completed": "started",
    "invoice.paid": "renewed",
    "invoice.payment_succeeded": "renewed",
    "invoice.payment_failed": "payment_failed",
    "customer.subscription.deleted": "cancelled",
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
        """Check Stripe-Signature and read the event."""
        try:
            stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise ForgedEvent(str(error)) from error
        event = json.loads(payload)
        kind = KINDS.get(event.get("type", ""))
        if kind is None:
            return None
        data = event["data"]["object"]
        return BillingEvent(
            ref=event["id"],
            kind=kind,
            identity=_identity(data),
            source=NAME,
            customer_ref=data.get("customer"),
            subscription_ref=data.get("subscription")
            or (data.get("id") if data.get("object") == "subscription" else None),
            paid_until=_period_end(data),
        )


def _identity(data: dict) -> str | None:
    for holder in (data, data.get("subscription_details") or {}, data.get("parent") or {}):
        found = (holder.get("metadata") or {}).get("identity")
        if found:
            return found
    return data.get("client_reference_id")


def _period_end(data: dict) -> datetime | None:
    lines = (data.get("lines") or {}).get("data") or []
    ends = [line.get("period", {}).get("end") for line in lines] + [data.get("current_period_end")]
    ends = [end for end in ends if end]
    return datetime.fromtimestamp(max(ends), UTC) if ends else None
