"""Membership: first conversation free, then EUR 4 a month."""

from __future__ import annotations

from app.billing.provider import PaymentProvider


def payment_provider() -> PaymentProvider:
    """The configured payment provider (Stripe, or its stand-in at STRIPE_API_BASE)."""
    from app.billing.stripe_provider import StripeProvider  # noqa: PLC0415 - stripe takes long to import

    return StripeProvider()
