"""Small helpers shared by the twin: sids, dates, phone number details."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
COUNTRY_PREFIXES = {"+1": "US", "+44": "GB", "+49": "DE", "+33": "FR", "+43": "AT", "+41": "CH"}


def new_sid(prefix: str) -> str:
    """Return a Twilio-shaped sid: two letters plus 32 hex digits."""
    return prefix + uuid.uuid4().hex


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def rfc2822(value: datetime | None) -> str | None:
    """Format a datetime the way Twilio's REST API does (RFC 2822, +0000)."""
    if value is None:
        return None
    return format_datetime(value.astimezone(UTC).replace(microsecond=0))


def is_e164(number: str) -> bool:
    """Tell whether a string is an E.164 phone number."""
    return bool(E164.match(number or ""))


def country_of(number: str) -> str:
    """Return the ISO country code for the few prefixes the twin knows, else ''."""
    for prefix in sorted(COUNTRY_PREFIXES, key=len, reverse=True):
        if (number or "").startswith(prefix):
            return COUNTRY_PREFIXES[prefix]
    return ""


def as_bool(value: str | bool | None, default: bool = False) -> bool:
    """Read a TwiML/REST boolean ("true"/"false", any case)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def as_int(value: str | None, default: int) -> int:
    """Read an integer attribute, falling back to a default."""
    if value is None or str(value).strip() == "":
        return default
    return int(str(value).strip())


def segments(body: str) -> int:
    """Count SMS segments the way carriers do (GSM-7 160/153, else UCS-2 70/67)."""
    gsm = all(ord(ch) < 128 for ch in body)
    single, multi = (160, 153) if gsm else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)
