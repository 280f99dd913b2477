"""The payment provider behind one small interface; Stripe is the implementation in use."""

from __future__ import annotations

from typing import Protocol

from app.billing.membership import BillingEvent


class PaymentError(RuntimeError):
    """The provider could not be reached or refused the request."""


class ForgedEvent(ValueError):
    """A webhook whose signature does not verify."""


class PaymentProvider(Protocol):
    """What the line needs from a payment provider."""

    signature_header: str  # the HTTP header that carries a webhook's signature

    def checkout_link(self, identity: str) -> str:
        """A link where this caller can start a EUR 4 monthly membership."""

    def verify(self, payload: bytes, signature: str) -> BillingEvent | None:
        """The event in a signed webhook (None for kinds the line ignores); ForgedEvent if not."""
