"""Caller identity: an HMAC of the E.164 number, a masked display form, never the number."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

import phonenumbers

# What carriers send instead of a number, spelled out or on the keypad
# (ANONYMOUS, RESTRICTED, UNAVAILABLE, BLOCKED, UNKNOWN, PRIVATE).
WITHHELD_WORDS = {"", "anonymous", "restricted", "unavailable", "blocked", "unknown", "private"}
WITHHELD_KEYPAD = {"266696687", "7378742833", "86282452253", "2562533", "8656696", "7748283"}
MASK = "••• ••••"


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the line may know."""

    identity: str
    masked: str
    country: str | None
    withheld: bool


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def parse_e164(raw: str | None) -> phonenumbers.PhoneNumber | None:
    """Parse a caller ID into a possible phone number, or None when withheld or invalid."""
    text = (raw or "").strip()
    if text.lower() in WITHHELD_WORDS or ":" in text:  # client:, sip:
        return None
    if re.sub(r"\D", "", text) in WITHHELD_KEYPAD:
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def masked_form(number: phonenumbers.PhoneNumber) -> str:
    """Country code and last two digits only, e.g. '+49 ••• •••• 12'."""
    national = str(number.national_number)
    return f"+{number.country_code} {MASK} {national[-2:]}"


def country_of(number: phonenumbers.PhoneNumber) -> str | None:
    """ISO region of a number (the main region of its country code if unassigned)."""
    region = phonenumbers.region_code_for_number(number)
    if region in (None, "ZZ"):
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, "ZZ", "001") else region


def identify(raw: str | None, key: str, call_sid: str) -> Caller:
    """Identify a caller by HMAC of E.164; withheld or invalid IDs get a per-call identity."""
    number = parse_e164(raw)
    if number is None:
        return Caller(_hmac(key, "call:" + call_sid), "withheld", None, True)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Caller(_hmac(key, e164), masked_form(number), country_of(number), False)
