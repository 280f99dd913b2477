"""How the stand-in delivers events to the line's endpoint: signed, unordered, repeated, retried.

Stripe does not deliver events in the order they were generated, may deliver one event more
than once, and resends an event whose delivery failed (any answer but 2xx) with growing
delays: for up to three days in live mode, three times over a few hours in a sandbox. The
stand-in does all of that by default; the knobs in `Delivery` make it tamer for a test that
wants one particular order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

import requests

TIMEOUT_SECONDS = 30.0  # how long the stand-in waits for the endpoint's answer


class Order(StrEnum):
    """The order a batch of outstanding events goes out in."""

    SHUFFLED = "shuffled"  # Stripe's: no promise at all (seeded, so a failure can be replayed)
    CREATED = "created"  # the order the events were generated in
    REVERSED = "reversed"  # newest first: every event that can be late is


@dataclass
class Delivery:
    """The knobs: order, duplicates and the retry schedule (defaults: as Stripe, or harsher)."""

    order: Order = Order.SHUFFLED
    duplicates: int = 1  # extra copies of each event, sent at random later places
    # Seconds before each retry of a failed delivery; a sandbox retries three times over a
    # few hours (the exact intervals are not published).
    retry_seconds: tuple[float, ...] = (3600.0, 7200.0, 10800.0)
    seed: int = 0


@dataclass
class Attempt:
    """One delivery of one event, as the endpoint answered it."""

    event_id: str
    type: str
    attempt: int
    status: int = 0  # 0: no answer (connection refused, timeout)
    body: str = ""
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer: Stripe counts only those as delivered."""
        return 200 <= self.status < 300


@dataclass
class _Pending:
    event: dict
    copy: int  # 0: the event as generated; 1..: its duplicates, which go after every original
    seq: int  # generation order
    attempts: int = 0
    due: float = 0.0


def signature(payload: bytes, secret: str, at: int | None = None) -> str:
    """The Stripe-Signature header for a body: t=<time>,v1=HMAC-SHA256 of "<time>.<body>"."""
    stamp = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def signed_event(event: dict, secret: str, at: int | None = None) -> tuple[bytes, str]:
    """An event body and its Stripe-Signature header."""
    payload = json.dumps(event).encode()
    return payload, signature(payload, secret, at)


class Outbox:
    """Events waiting to reach the endpoint, and every attempt made so far."""

    def __init__(self, knobs: Delivery) -> None:
        self.knobs = knobs
        self.url: str | None = None
        self.secret = ""
        self.attempts: list[Attempt] = []
        self._pending: list[_Pending] = []
        self._random = random.Random(knobs.seed)
        self._seq = 0
        self._lock = threading.Lock()

    def add(self, events: list[dict]) -> None:
        """Queue newly generated events, each with its duplicates."""
        with self._lock:
            for event in events:
                self._seq += 1
                for copy in range(1 + self.knobs.duplicates):
                    self._pending.append(_Pending(event, copy, self._seq))

    def clear(self) -> None:
        """Drop every delivery still to be made."""
        with self._lock:
            self._pending.clear()
            self._random = random.Random(self.knobs.seed)

    def waiting(self) -> list[dict]:
        """The events still to be delivered, once each, in the order they were generated."""
        with self._lock:
            return [p.event for p in sorted(self._pending, key=lambda p: p.seq) if p.copy == 0]

    def pending(self) -> int:
        """How many deliveries are still to be made (retries included)."""
        with self._lock:
            return len(self._pending)

    def flush(self, timeout: float = 10.0) -> list[Attempt]:
        """Deliver every outstanding event; wait for retries falling due within `timeout`."""
        if self.url is None:
            raise RuntimeError("no endpoint: call listen(url, secret) first")
        deadline = time.monotonic() + timeout
        made: list[Attempt] = []
        while True:
            batch = self._due()
            made.extend(self._send(item) for item in batch)
            with self._lock:
                waits = [p.due - time.monotonic() for p in self._pending]
            if not waits:
                return made
            wait = max(0.0, min(waits))
            if time.monotonic() + wait > deadline:
                return made
            time.sleep(wait)

    def _due(self) -> list[_Pending]:
        now = time.monotonic()
        with self._lock:
            due = [p for p in self._pending if p.due <= now]
            self._pending = [p for p in self._pending if p.due > now]
        order = self.knobs.order
        if order is Order.SHUFFLED:
            self._random.shuffle(due)
        else:
            sign = -1 if order is Order.REVERSED else 1
            due.sort(key=lambda p: (p.copy, sign * p.seq))
        return due

    def _send(self, item: _Pending) -> Attempt:
        item.attempts += 1
        event = item.event
        attempt = Attempt(event["id"], event["type"], item.attempts)
        payload, signed = signed_event(event, self.secret)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signed,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Connection": "close",
        }
        try:
            resp = requests.post(self.url, data=payload, headers=headers, timeout=TIMEOUT_SECONDS)
            attempt.status, attempt.body = resp.status_code, resp.text
        except requests.RequestException as exc:
            attempt.body = f"{type(exc).__name__}: {exc}"
        schedule = self.knobs.retry_seconds
        if not attempt.ok and item.attempts <= len(schedule):
            item.due = time.monotonic() + schedule[item.attempts - 1]
            with self._lock:
                self._pending.append(item)
        with self._lock:
            self.attempts.append(attempt)
        return attempt
