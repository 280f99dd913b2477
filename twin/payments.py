"""A stand-in for the payment provider's API (Stripe Checkout), next to the Twilio one.

Served by the twin's HTTP server under /v1, so the line's STRIPE_API_BASE can point at it
offline. It records every Checkout Session created and signs webhook events the way the
provider does, for tests and the demo.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field

from flask import Blueprint, jsonify, request


@dataclass
class CheckoutDesk:
    """Checkout Sessions created through the stand-in."""

    sessions: list[dict] = field(default_factory=list)


def blueprint(desk: CheckoutDesk) -> Blueprint:
    """The /v1 routes the line uses: create and fetch a Checkout Session."""
    bp = Blueprint("payments", __name__, url_prefix="/v1")

    @bp.before_request
    def bearer_only():
        if not request.headers.get("Authorization", "").startswith("Bearer sk_"):
            return jsonify(
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            ), 401
        return None

    @bp.post("/checkout/sessions")
    def create_session():
        form = request.form.to_dict()
        sid = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": sid,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "currency": "eur",
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0) or 0),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {"identity": form.get("metadata[identity]")},
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
            "created": int(time.time()),
        }
        desk.sessions.append({**session, "form": form})
        return jsonify(session)

    @bp.get("/checkout/sessions/<sid>")
    def fetch_session(sid: str):
        for session in desk.sessions:
            if session["id"] == sid:
                return jsonify({k: v for k, v in session.items() if k != "form"})
        return jsonify(
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"No such checkout.session: '{sid}'",
                }
            }
        ), 404

    return bp


def signed_event(event: dict, secret: str, at: int | None = None) -> tuple[bytes, str]:
    """An event body and its Stripe-Signature header (t=..., v1=HMAC-SHA256)."""
    payload = json.dumps(event).encode()
    stamp = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={stamp},v1={digest}"
