"""A stand-in for the payment provider (Stripe), next to the Twilio one.

Served by the twin's HTTP server under /v1, so the line's STRIPE_API_BASE can point at it
offline: it creates Checkout Sessions, plays the caller paying and the months passing, and
delivers the events Stripe would send, signed, to the line's webhook endpoint, in no
promised order, some more than once, failed ones again later.
"""

from __future__ import annotations

from .delivery import Attempt, Delivery, Order, signature, signed_event
from .desk import ApiFault, CheckoutDesk, Payment
from .routes import blueprint

__all__ = [
    "ApiFault",
    "Attempt",
    "CheckoutDesk",
    "Delivery",
    "Order",
    "Payment",
    "blueprint",
    "signature",
    "signed_event",
]
