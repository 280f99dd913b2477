"""The payment provider behind one small interface; Stripe is the implementation in use."""

from __future__ import annotations

from typing import Protocol

from app.billing.membership import BillingEvent, Subscription


class PaymentError(RuntimeError):
    """The provider could not be reached or refused the request."""


class ForgedEvent(ValueError):
    """A webhook whose signature does not verify."""


class UnusableEvent(ValueError):
    """A genuine (signed) event the line cannot apply: a shape other than the provider
    documents, or an object the provider does not know. The message names no person."""


class PaymentProvider(Protocol):
    """What the line needs from a payment provider."""

    signature_header: str  # the HTTP header that carries a webhook's signature

    def checkout_link(self, identity: str) -> str:
        """A link where this caller can start a EUR 4 monthly membership."""

    def verify(self, payload: bytes, signature: str) -> BillingEvent | None:
        """The event in a signed webhook (None for kinds the line ignores); ForgedEvent if not."""

    def subscription(self, ref: str) -> Subscription:
        """The subscription as the provider has it now; PaymentError when unreachable."""
