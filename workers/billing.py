"""Billing jobs: a payment link by text, to a caller who agreed to get texts."""

from __future__ import annotations

from app.billing import payment_provider
from app.sms import outbox, subscribers
from app.sms.models import TextKind


def send_payment_link(identity: str) -> str:
    """Create a checkout link for this caller and text it (only with their consent)."""
    subscriber = subscribers.consenting(identity)
    if subscriber is None:
        return "no consent to text"
    link = payment_provider().checkout_link(identity)  # PaymentError: RQ retries with backoff
    outbox.queue_text(subscriber, TextKind.PAYMENT_LINK, link=link)
    return "queued"
