"""The stand-in's Stripe account: Checkout Sessions, customers, subscriptions, invoices.

Tests and the demo act for the caller and for time (`pay`, `settle`, `renew`, `cancel`); each
step changes the objects as Stripe does and queues the events Stripe would send, each
carrying a snapshot of its object at that moment. `flush` delivers them (see delivery.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields
from enum import StrEnum

from . import objects
from .delivery import Attempt, Delivery, Outbox


class Payment(StrEnum):
    """How the caller pays at Checkout."""

    CARD = "card"  # confirmed at once
    SEPA_DEBIT = "sepa_debit"  # a delayed notification method: settles days later


@dataclass
class ApiFault:
    """Answer `status` to the next `times` API requests whose path contains `path`."""

    status: int
    times: int = 1
    path: str = ""


class CheckoutDesk:
    """Checkout Sessions created through the stand-in, and what became of them."""

    def __init__(self, delivery: Delivery | None = None) -> None:
        self.delivery = delivery or Delivery()
        self.outbox = Outbox(self.delivery)
        self.sessions: list[dict] = []
        self.forms: dict[str, dict[str, str]] = {}  # what the line posted, by session id
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        # The subscription's status while a delayed first payment is processing: Stripe's
        # overview says it "can" be incomplete then; "active" is the other answer.
        self.pending_status = "incomplete"
        self.faults: list[ApiFault] = []
        self.clock = int(time.time())  # Stripe's time in seconds; `renew` moves it a month
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Back to Stripe's behaviour for the next test: default knobs, no faults, nothing
        waiting to be delivered (the objects stay)."""
        with self.lock:
            for knob in fields(Delivery):
                setattr(self.delivery, knob.name, getattr(Delivery(), knob.name))
            self.outbox.clear()
            self.pending_status = "incomplete"
            self.faults.clear()

    # ---- the endpoint --------------------------------------------------------------
    def listen(self, url: str, secret: str) -> None:
        """Send events to this webhook endpoint, signed with its secret."""
        self.outbox.url, self.outbox.secret = url, secret

    def flush(self, timeout: float = 10.0) -> list[Attempt]:
        """Deliver what is outstanding (see Delivery for order, duplicates and retries)."""
        return self.outbox.flush(timeout)

    @property
    def attempts(self) -> list[Attempt]:
        """Every delivery attempt so far."""
        return list(self.outbox.attempts)

    # ---- the API side --------------------------------------------------------------
    def create(self, form: dict[str, str]) -> dict:
        """A Checkout Session for a `POST /v1/checkout/sessions` form."""
        amount = int(form.get("line_items[0][price_data][unit_amount]") or 0) or 400
        with self.lock:
            session = objects.session(form, amount, self.clock)
            self.sessions.append(session)
            self.forms[session["id"]] = dict(form)
            return session

    def session(self, sid: str) -> dict | None:
        """The Checkout Session with this id, if any."""
        with self.lock:
            return next((s for s in self.sessions if s["id"] == sid), None)

    def fault(self, path: str) -> int | None:
        """The status a faulted request gets, consuming the fault (None: no fault)."""
        with self.lock:
            for rule in self.faults:
                if rule.path in path:
                    rule.times -= 1
                    if rule.times <= 0:
                        self.faults.remove(rule)
                    return rule.status
        return None

    # ---- what the caller and time do -----------------------------------------------
    def pay(self, sid: str, method: Payment = Payment.CARD) -> str:
        """The caller completes Checkout; returns the new subscription's id."""
        with self.lock:
            session = self.session(sid)
            if session is None or session["status"] != "open":
                raise ValueError(f"no open Checkout Session {sid}")
            form = self.forms[sid]
            delayed = method is Payment.SEPA_DEBIT
            sub = objects.subscription(
                form.get("subscription_data[metadata][identity]"),
                objects.new_id("cus_"),
                self.pending_status if delayed else "active",
                session["amount_total"],
                self.clock,
            )
            self.subscriptions[sub["id"]] = sub
            inv = self._invoice(sub, "subscription_create")
            session.update(
                status="complete",
                customer=sub["customer"],
                subscription=sub["id"],
                invoice=inv["id"],
                payment_method_types=[method.value],
                payment_status="unpaid" if delayed else "paid",
            )
            events = [self._event("customer.subscription.created", sub)]
            if not delayed:
                events += self._paid(inv)
            events.append(self._event("checkout.session.completed", session))
            self.outbox.add(events)
            return sub["id"]

    def settle(self, sid: str, succeeded: bool = True) -> None:
        """A delayed Checkout payment succeeds or fails, days after Checkout completed."""
        with self.lock:
            session = self.session(sid)
            if session is None or session["payment_status"] != "unpaid":
                raise ValueError(f"no Checkout Session {sid} waiting for its payment")
            sub = self.subscriptions[session["subscription"]]
            inv = self.invoices[session["invoice"]]
            before = sub["status"]
            if succeeded:
                session["payment_status"] = "paid"
                events = self._paid(inv)
                sub["status"] = "active"
                kind = "checkout.session.async_payment_succeeded"
            else:
                events = self._failed(inv)
                # an incomplete subscription whose first payment fails expires (after 23
                # hours, here at once); an active one falls past due
                sub["status"] = "incomplete_expired" if before == "incomplete" else "past_due"
                kind = "checkout.session.async_payment_failed"
            events.append(self._updated(sub, {"status": before}))
            events.append(self._event(kind, session))
            self.outbox.add(events)

    def renew(self, sub_id: str, paid: bool = True) -> None:
        """A month passes: the next invoice is paid, or its payment fails."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            item = sub["items"]["data"][0]
            before = {"status": sub["status"], "items": {"data": [dict(item)]}}
            self.clock = item["current_period_end"]
            item["current_period_start"] = self.clock
            item["current_period_end"] = self.clock + objects.MONTH
            inv = self._invoice(sub, "subscription_cycle")
            events = self._paid(inv) if paid else self._failed(inv)
            sub["status"] = "active" if paid else "past_due"
            events.append(self._updated(sub, before))
            self.outbox.add(events)

    def cancel(self, sub_id: str) -> None:
        """The subscription ends now (the caller cancelled, or Stripe gave up collecting)."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            sub.update(status="canceled", canceled_at=self.clock, ended_at=self.clock)
            sub["cancellation_details"]["reason"] = "cancellation_requested"
            self.outbox.add([self._event("customer.subscription.deleted", sub)])

    # ---- helpers -------------------------------------------------------------------
    def _invoice(self, sub: dict, reason: str) -> dict:
        inv = objects.invoice(sub, reason, self.clock)
        self.invoices[inv["id"]] = inv
        sub["latest_invoice"] = inv["id"]
        return inv

    def _paid(self, inv: dict) -> list[dict]:
        inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0)
        inv.update(attempt_count=inv["attempt_count"] + 1, attempted=True)
        inv["next_payment_attempt"] = None
        inv["status_transitions"]["paid_at"] = self.clock
        return [self._event("invoice.paid", inv), self._event("invoice.payment_succeeded", inv)]

    def _failed(self, inv: dict) -> list[dict]:
        inv.update(attempt_count=inv["attempt_count"] + 1, attempted=True)
        return [self._event("invoice.payment_failed", inv)]

    def _updated(self, sub: dict, previous: dict) -> dict:
        return self._event("customer.subscription.updated", sub, previous)

    def _event(self, kind: str, obj: dict, previous: dict | None = None) -> dict:
        return objects.event(kind, obj, self.clock, previous)
