"""Twilio's webhook connection overrides: the `#ct=..&rt=..&tt=..&rc=..&rp=..` URL fragment.

Twilio reads them from the fragment of each webhook URL and never sends the fragment (no
HTTP client does). Limits and defaults from "Webhooks (HTTP callbacks): Connection
Overrides" (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides):
connect timeout 100-10000 ms (5000), read timeout 100-15000 ms (15000), total time for all
attempts 100-15000 ms (15000), retry count 0-5 (1), retry policy `ct` by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urldefrag


class Failure(StrEnum):
    """What went wrong with one attempt, in the words of the `rp` policy."""

    CONNECT = "ct"  # no TCP connection within the connect timeout (refused, timed out)
    READ = "rt"  # connected, but no answer (in time, or at all)
    CLIENT = "4xx"  # the app answered 4xx
    SERVER = "5xx"  # the app answered 5xx


ALL = "all"
ANSWERS = frozenset({Failure.CLIENT, Failure.SERVER})


class InvalidOverride(ValueError):
    """A fragment Twilio would refuse; `code` is Twilio's error for it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


RANGES = {"ct": (100, 10_000), "rt": (100, 15_000), "tt": (100, 15_000), "rc": (0, 5)}
RETRY_POLICY_INVALID = 11243  # "HTTP retry policy is invalid"
INVALID_OVERRIDE = 11100  # the URL is not one Twilio can use ("Invalid URL format")


@dataclass(frozen=True)
class Overrides:
    """The connection settings of one webhook URL."""

    connect_ms: int = 5_000
    read_ms: int = 15_000
    total_ms: int = 15_000
    retries: int = 1
    policy: frozenset[Failure] = frozenset({Failure.CONNECT})

    def retries_on(self, failure: Failure) -> bool:
        """Whether this failure is one the policy retries."""
        return failure in self.policy


def split(url: str) -> tuple[str, Overrides]:
    """The URL as requested (no fragment) and the overrides its fragment sets."""
    target, fragment = urldefrag(url)
    return target, parse(fragment)


def parse(fragment: str) -> Overrides:
    """Read a fragment such as `rc=3&rp=ct,rt`; unknown keys (edge, sni) are left alone."""
    pairs = dict(parse_qsl(fragment, keep_blank_values=True))
    values: dict[str, object] = {}
    for key, field in (("ct", "connect_ms"), ("rt", "read_ms"), ("tt", "total_ms")):
        if key in pairs:
            values[field] = _number(key, pairs[key])
    if "rc" in pairs:
        values["retries"] = _number("rc", pairs["rc"])
    if "rp" in pairs:
        values["policy"] = _policy(pairs["rp"])
    return Overrides(**values)


def _number(key: str, text: str) -> int:
    low, high = RANGES[key]
    try:
        value = int(text)
    except ValueError:
        raise InvalidOverride(f"{key}={text!r} is not a number", INVALID_OVERRIDE) from None
    if not low <= value <= high:
        raise InvalidOverride(f"{key}={value} is outside {low}-{high}", INVALID_OVERRIDE)
    return value


def _policy(text: str) -> frozenset[Failure]:
    names = [name.strip() for name in text.split(",")]
    if names == [ALL]:
        return frozenset(Failure)
    try:
        return frozenset(Failure(name) for name in names)
    except ValueError:
        raise InvalidOverride(f"rp={text!r}", RETRY_POLICY_INVALID) from None
