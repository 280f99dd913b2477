"""The payment provider's webhook, and the pages a caller sees after paying."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from app.billing import membership, payment_provider
from app.billing.provider import ForgedEvent

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__, url_prefix="/payments")
PAGE = (
    "<!doctype html><meta name=viewport content='width=device-width'><title>Mindfuse</title>"
    "<body style='font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem'>"
    "<h1>Mindfuse</h1><p>{}</p>"
)


@bp.post("/webhook")
def webhook():
    """A signed provider event; each event id is applied once, replays are acknowledged."""
    payments = payment_provider()
    signature = request.headers.get(payments.signature_header, "")
    try:
        event = payments.verify(request.get_data(), signature)
    except ForgedEvent:
        log.warning("payment webhook with a bad signature rejected")
        return {"error": "bad signature"}, 400
    if event is None:
        return {"received": True, "applied": False}
    return {"received": True, "applied": membership.apply(event)}


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
