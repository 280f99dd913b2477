"""The payment provider's webhook, and the pages a caller sees after paying."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from app.billing import membership, payment_provider
from app.billing.provider import ForgedEvent, PaymentError, UnusableEvent
from app.infra.request_limits import max_body

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__, url_prefix="/payments")
PAGE = (
    "<!doctype html><meta name=viewport content='width=device-width'><title>Mindfuse</title>"
    "<body style='font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem'>"
    "<h1>Mindfuse</h1><p>{}</p>"
)
# Stripe documents no upper bound on an event: a snapshot event carries its whole object
# (https://docs.stripe.com/api/events), and an invoice or a subscription with its lines can
# pass 52 KB: mozilla/fxa refused real Stripe events at that size and raised its bound to
# 1 MB (https://github.com/mozilla/fxa/issues/8861). The signature needs the whole body.
STRIPE_EVENT_MAX_BYTES = 1024 * 1024


@bp.post("/webhook")
@max_body(STRIPE_EVENT_MAX_BYTES)
def webhook():
    """A signed provider event, applied to the subscription's current state, once per event.

    A forged or unreadable event gets 400 and changes nothing; when the provider cannot be
    asked for the subscription's state, 503 and nothing recorded, so its retry applies it.
    """
    payments = payment_provider()
    signature = request.headers.get(payments.signature_header, "")
    try:
        event = payments.verify(request.get_data(), signature)
        if event is None:
            return {"received": True, "applied": False}
        ref = event.subscription_ref
        now = payments.subscription(ref) if ref else None
    except ForgedEvent:
        log.warning("payment webhook with a bad signature rejected")
        return {"error": "bad signature"}, 400
    except UnusableEvent as error:
        log.warning("payment webhook rejected, signed but unusable: %s", error)
        return {"error": "unusable event"}, 400
    except PaymentError as error:
        log.warning("payment webhook not applied, the provider did not answer: %s", error)
        return {"error": "provider unavailable"}, 503
    return {"received": True, "applied": membership.apply(event, now)}


@bp.get("/thanks")
def thanks():
    """Where the provider sends a caller after paying."""
    return PAGE.format(
        "Thank you. Your membership starts as soon as the payment is confirmed. "
        "Call the line any time."
    )


@bp.get("/cancelled")
def cancelled():
    """Where the provider sends a caller who did not pay."""
    return PAGE.format("No payment was made. You can ask for a new link by calling the line.")
