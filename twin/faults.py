"""REST errors in Twilio's JSON shape, a fault knob tests use to make the API misbehave, and
the pace of its answers under load (latency, 429s, a concurrency limit)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

CODES = {
    400: 21000,
    401: 20003,
    403: 20403,
    404: 20404,
    405: 20004,
    409: 20409,
    429: 20429,
    500: 20500,
    503: 20503,
}
MESSAGES = {
    401: "Authenticate",
    403: "Forbidden",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class RestError(Exception):
    """An error answer of the REST API."""

    def __init__(self, status: int, code: int | None = None, message: str | None = None) -> None:
        self.status = status
        self.code = code or CODES.get(status, 20000 + status)
        self.message = message or MESSAGES.get(status, "Error")
        super().__init__(self.message)

    def body(self) -> dict:
        """Twilio's error JSON."""
        return {
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
        }


@dataclass
class FaultRule:
    """Answer `status` to matching requests, `times` times (None: until cleared)."""

    status: int
    times: int | None = 1
    method: str | None = None
    path_contains: str | None = None
    code: int | None = None
    message: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this rule applies to a request."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path_contains or self.path_contains in path


class RestFaults:
    """Fault injection for the REST API: `add(status=500, times=2, path_contains="/Calls/")`."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        status: int,
        times: int | None = 1,
        method: str | None = None,
        path_contains: str | None = None,
        code: int | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Make matching requests fail with status for the next `times` matches."""
        rule = FaultRule(status, times, method, path_contains, code, message)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def check(self, method: str, path: str) -> RestError | None:
        """Consume the first matching rule and return the error to answer, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return RestError(rule.status, rule.code, rule.message)
        return None


class RestPace:
    """How the REST API answers under load: each answer after `latency_ms`, a share of them
    429 (20429) at random, and 429 for every request beyond `concurrency` in flight at once.

    Twilio answers over the internet in tens to hundreds of milliseconds and refuses what
    goes beyond an account's concurrency with 429 (docs/providers.md); it documents neither
    the limit nor a Retry-After header, so the twin sends none. It also counts what it saw:
    the most requests in flight at once, and how many it refused.
    """

    def __init__(
        self,
        latency_ms: float = 0.0,
        rate_429: float = 0.0,
        concurrency: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.latency_ms, self.rate_429, self.concurrency = latency_ms, rate_429, concurrency
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.refused = 0

    def enter(self) -> RestError | None:
        """A request arrived: count it in flight; the 429 to answer after the latency, if any."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            over = self.concurrency is not None and self.in_flight > self.concurrency
            refuse = over or (self.rate_429 > 0 and self._random.random() < self.rate_429)
            if refuse:
                self.refused += 1
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return RestError(429) if refuse else None

    def leave(self) -> None:
        """The request has been answered."""
        with self._lock:
            self.in_flight -= 1

    def reset(self) -> None:
        """Forget what was counted (the settings stay)."""
        with self._lock:
            self.max_in_flight, self.refused = self.in_flight, 0
