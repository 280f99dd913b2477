"""How fast a sender's messages leave Twilio, and how long they may wait (docs/providers.md).

Each sender has a queue drained at its rate in message segments per second; a message leaves
when the ones ahead of it have. Seconds here are simulated: the twin's time scale turns them
into real ones, so a test at time scale 0.05 sees a long code send 20 segments a real second.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

LONG_CODE_RATE = 1.0  # message segments per second from one long code
QUEUE_LIMIT = 36_000  # seconds of a sender's throughput Twilio queues: 10 hours

QUEUE_FULL = 21611  # REST refuses a From number already holding 10 hours of messages
QUEUE_OVERFLOW = 30001  # the message waited Twilio's 10 hours out and failed
VALIDITY_EXPIRED = 30036  # the message waited longer than its own ValidityPeriod


@dataclass(frozen=True)
class Booking:
    """Where a message stands in its sender's queue: when it leaves, or when it fails."""

    sender: str
    leaves: float | None  # time.monotonic() at which it leaves; None when it never will
    fails: float | None = None
    error: int | None = None


class Senders:
    """The queue of every sender, as the time each is next free (callers hold the lock)."""

    def __init__(self, time_scale: float, rate: float = LONG_CODE_RATE) -> None:
        self.time_scale, self.rate = time_scale, rate
        self.free_at: dict[str, float] = {}

    def backlog(self, sender: str, now: float) -> float:
        """Simulated seconds of messages queued ahead on this sender."""
        return max(0.0, self.free_at.get(sender, now) - now) / self.time_scale

    def least_busy(self, senders: Iterable[str], now: float) -> str:
        """The sender of a pool that is free soonest (a Messaging Service balances so)."""
        return min(senders, key=lambda sender: self.backlog(sender, now))

    def book(self, sender: str, segments: int, now: float, validity: int | None) -> Booking:
        """Queue a message; it fails instead if it would wait past its validity or 10 hours."""
        wait, limit = self.backlog(sender, now), min(validity or QUEUE_LIMIT, QUEUE_LIMIT)
        if wait > limit:  # dropped from the queue, so it takes no throughput from the rest
            if validity and validity < QUEUE_LIMIT:  # it waits its validity out, then fails
                return Booking(sender, None, now + validity * self.time_scale, VALIDITY_EXPIRED)
            return Booking(sender, None, now, QUEUE_OVERFLOW)  # the queue has no room at all
        leaves = max(now, self.free_at.get(sender, now))
        self.free_at[sender] = leaves + segments / self.rate * self.time_scale
        return Booking(sender, leaves)


class Timers:
    """Runs callbacks at given monotonic times on one thread: messages leaving or failing."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._running = False
        self._active = 0  # jobs taken off the heap and still running
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the timer thread."""
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True, name="twin-sms-timers")
        self._thread.start()

    def stop(self) -> None:
        """Stop; what has not come due is dropped."""
        with self._cond:
            self._running = False
            self._heap.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def at(self, when: float, job: Callable[[], object]) -> None:
        """Run job at time.monotonic() == when (or at once, if that has passed)."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), job))
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is waiting to come due; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._running and (not self._heap or self._heap[0][0] > time.monotonic()):
                    delay = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(delay)
                if not self._running:
                    return
                _, _, job = heapq.heappop(self._heap)
                self._active += 1
            try:
                job()  # outside the lock: a job may queue more
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()
