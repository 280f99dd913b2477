"""Stripe's objects as the stand-in builds them: every field of Stripe's example objects.

Each builder starts from Stripe's published example of the resource (shapes.json, see
shapes.LICENSE) and sets the fields this stand-in models, so what the line receives has
every field Stripe sends at this API version, in Stripe's places: an invoice names its
subscription under `parent.subscription_details`, a subscription's billing period sits on
its items.
"""

from __future__ import annotations

import copy
import json
import secrets
from functools import cache
from pathlib import Path

API_VERSION = "2025-03-31.basil"  # the first version with these shapes
MONTH = 30 * 24 * 3600
CHECKOUT_HOURS = 24  # a Checkout Session expires a day after it is created


@cache
def _shapes() -> dict[str, dict]:
    return json.loads((Path(__file__).parent / "shapes.json").read_text())


def shape(name: str) -> dict:
    """A fresh copy of Stripe's example object of this kind."""
    return copy.deepcopy(_shapes()[name])


def new_id(prefix: str) -> str:
    """An id in Stripe's style: a prefix such as `sub_`, then 24 letters and digits."""
    return prefix + secrets.token_hex(12)


def session(form: dict[str, str], amount: int, now: int) -> dict:
    """An open Checkout Session for the form the line posted."""
    sid = "cs_test_" + secrets.token_hex(24)
    identity = form.get("metadata[identity]")
    obj = shape("checkout.session")
    obj.update(
        id=sid,
        mode=form.get("mode"),
        status="open",
        payment_status="unpaid",
        currency="eur",
        amount_subtotal=amount,
        amount_total=amount,
        client_reference_id=form.get("client_reference_id"),
        metadata={"identity": identity} if identity else {},
        success_url=form.get("success_url"),
        cancel_url=form.get("cancel_url"),
        url=f"https://checkout.stripe.com/c/pay/{sid}",
        created=now,
        expires_at=now + CHECKOUT_HOURS * 3600,
        payment_intent=None,  # subscription mode: the invoice carries the payment
        payment_method_types=["card", "sepa_debit"],
        customer_details=None,
        collected_information=None,
        currency_conversion=None,
        shipping_cost=None,
        shipping_address_collection=None,
    )
    return obj


def subscription(identity: str | None, customer: str, status: str, amount: int, now: int) -> dict:
    """A monthly subscription started now, its metadata as Checkout's subscription_data."""
    sub_id = new_id("sub_")
    obj = shape("subscription")
    item = obj["items"]["data"][0]
    item.update(
        id=new_id("si_"),
        created=now,
        subscription=sub_id,
        current_period_start=now,
        current_period_end=now + MONTH,
        metadata={},
        billing_thresholds=None,
    )
    item["price"].update(
        id=new_id("price_"), currency="eur", unit_amount=amount, unit_amount_decimal=str(amount)
    )
    item["plan"].update(id=item["price"]["id"], currency="eur", amount=amount, interval_count=1)
    obj["items"]["url"] = f"/v1/subscription_items?subscription={sub_id}"
    obj.update(
        id=sub_id,
        status=status,
        customer=customer,
        currency="eur",
        metadata={"identity": identity} if identity else {},
        created=now,
        start_date=now,
        billing_cycle_anchor=now,
        billing_cycle_anchor_config=None,
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=None,
        ended_at=None,
        trial_start=None,
        trial_end=None,
        pending_update=None,
        pending_invoice_item_interval=None,
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        transfer_data=None,
        billing_thresholds=None,
        billing_schedules=[],
    )
    return obj


def invoice(sub: dict, reason: str, now: int) -> dict:
    """An open invoice for the subscription's current period, as Stripe finalizes it."""
    inv_id = new_id("in_")
    item = sub["items"]["data"][0]
    amount = item["price"]["unit_amount"]
    start, end = item["current_period_start"], item["current_period_end"]
    obj = shape("invoice")
    line = obj["lines"]["data"][0]
    line.update(
        id=new_id("il_"),
        invoice=inv_id,
        amount=amount,
        currency="eur",
        description="1 × Mindfuse membership (at €4.00 / month)",
        period={"start": start, "end": end},
        subtotal=amount,
        subscription=None,  # basil: under parent.subscription_item_details
    )
    line["parent"] = {
        "type": "subscription_item_details",
        "invoice_item_details": None,
        "subscription_item_details": {
            "invoice_item": None,
            "proration": False,
            "proration_details": {"credited_items": None},
            "subscription": sub["id"],
            "subscription_item": item["id"],
        },
    }
    obj["lines"]["url"] = f"/v1/invoices/{inv_id}/lines"
    obj.update(
        id=inv_id,
        status="open",
        billing_reason=reason,
        currency="eur",
        customer=sub["customer"],
        amount_due=amount,
        amount_paid=0,
        amount_remaining=amount,
        amount_overpaid=0,
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total=amount,
        total_excluding_tax=amount,
        attempt_count=0,
        attempted=False,
        created=now,
        effective_at=now,
        period_start=start,
        period_end=end,
        due_date=None,
        next_payment_attempt=now,
        webhooks_delivered_at=None,
        from_invoice=None,
        last_finalization_error=None,
        shipping_cost=None,
        status_transitions={
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        subscription=None,  # basil: no longer top-level, see parent
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(sub["metadata"]),  # a snapshot at finalization
                "subscription": sub["id"],
            },
        },
    )
    return obj


def event(kind: str, obj: dict, now: int, previous: dict | None = None) -> dict:
    """An event carrying a snapshot of the object as it is now."""
    evt = shape("event")
    data: dict = {"object": copy.deepcopy(obj)}
    if previous is not None:  # only *.updated events carry previous_attributes
        data["previous_attributes"] = previous
    evt.update(
        id=new_id("evt_"),
        api_version=API_VERSION,
        created=now,
        data=data,
        livemode=False,
        pending_webhooks=1,
        request={"id": None, "idempotency_key": None},
        type=kind,
    )
    return evt
