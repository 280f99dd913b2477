"""The /v1 routes the line uses, at Stripe's paths and in its JSON: Checkout, subscriptions."""

from __future__ import annotations

import copy

from flask import Blueprint, jsonify, request

from .desk import CheckoutDesk

DOCS = "https://docs.stripe.com/error-codes"


def _error(status: int, message: str, code: str | None = None, param: str | None = None):
    """Stripe's error JSON: an `error` object with its type, code, message and parameter."""
    kind = "api_error" if status >= 500 else "invalid_request_error"
    body = {"type": kind, "message": message}
    if code:
        body.update(code=code, doc_url=f"{DOCS}/{code.replace('_', '-')}")
    if param:
        body["param"] = param
    return jsonify({"error": body}), status


def blueprint(desk: CheckoutDesk) -> Blueprint:
    """Create and fetch a Checkout Session; fetch a subscription."""
    bp = Blueprint("payments", __name__, url_prefix="/v1")

    @bp.before_request
    def bearer_only():
        if not request.headers.get("Authorization", "").startswith("Bearer sk_"):
            return _error(401, "Invalid API Key provided")
        status = desk.fault(request.path)
        if status is not None:
            return _error(status, "An unknown error occurred")
        return None

    @bp.post("/checkout/sessions")
    def create_session():
        return jsonify(desk.create(request.form.to_dict()))

    @bp.get("/checkout/sessions/<sid>")
    def fetch_session(sid: str):
        with desk.lock:
            found = copy.deepcopy(desk.session(sid))
        if found is None:
            return _error(404, f"No such checkout.session: '{sid}'", "resource_missing", "session")
        return jsonify(found)

    @bp.get("/subscriptions/<sub_id>")
    def fetch_subscription(sub_id: str):
        with desk.lock:
            found = copy.deepcopy(desk.subscriptions.get(sub_id))
        if found is None:
            return _error(404, f"No such subscription: '{sub_id}'", "resource_missing", "id")
        return jsonify(found)

    return bp
