"""Caller identity: an HMAC of the E.164 number and a masked display form; the number itself
is never stored, logged or serialized."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import phonenumbers

from app.settings import settings

# What carriers send instead of a number, spelled out or on the keypad
# (ANONYMOUS, RESTRICTED, UNAVAILABLE, BLOCKED, UNKNOWN, PRIVATE).
WITHHELD_WORDS = {"", "anonymous", "restricted", "unavailable", "blocked", "unknown", "private"}
WITHHELD_KEYPAD = {"266696687", "7378742833", "86282452253", "2562533", "8656696", "7748283"}
MASK = "••• ••••"
# Re-keying (NUMBER_HASH_REKEYS) wraps an identity in one more HMAC per added key, so no
# number is needed to re-key what is stored. The last character says how many times: an
# identity of the first key alone ends in a hex digit, as every identity made before any
# re-keying does; once re-keyed it ends in g, twice in h, and so on.
MARKS = "ghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the line may know.

    The masked form and the country are worked out from the parsed number only when asked
    for (a call's row, a call-back request): the greeting, which writes no row, needs
    neither, and finding the region of a number whose country code several regions share
    (+1, +44) costs more than parsing it. So a Caller holds the number while its request
    lasts: it is left out of its repr, and a Caller cannot be pickled or copied, so it
    cannot reach a job's arguments, a cache or a log by way of them.
    """

    identity: str
    withheld: bool
    # The identity under each generation of keys, oldest first (the last is `identity`):
    # what is stored may still be under an older one until `mindfuse rekey` has run.
    forms: tuple[str, ...] = field(default=(), compare=False)
    number: phonenumbers.PhoneNumber | None = field(default=None, compare=False, repr=False)

    def __reduce__(self):
        raise TypeError("a Caller holds the number: pass its identity instead")

    @cached_property
    def masked(self) -> str:
        """Country code and last two digits ('withheld' for no number)."""
        return "withheld" if self.number is None else masked_form(self.number)

    @cached_property
    def country(self) -> str | None:
        """The ISO region of the number, if it has one."""
        return None if self.number is None else country_of(self.number)


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def hash_keys() -> tuple[str, ...]:
    """The identity keys in the order they were added: NUMBER_HASH_KEY, then each re-key."""
    return (settings.NUMBER_HASH_KEY, *settings.NUMBER_HASH_REKEYS)


def generation(identity: str) -> int:
    """How many times this identity has been re-keyed (0: the first key alone)."""
    mark = identity[-1:]
    return MARKS.index(mark) + 1 if mark and mark in MARKS else 0


def _rekeyed(identity: str, key: str, generation: int) -> str:
    return _hmac(key, identity)[:63] + MARKS[generation - 1]


def current(identity: str, keys: Sequence[str]) -> str:
    """A stored identity re-keyed up to the newest key (as it is, if it already is)."""
    for step in range(generation(identity) + 1, len(keys)):
        identity = _rekeyed(identity, keys[step], step)
    return identity


def _forms(keys: Sequence[str], text: str) -> tuple[str, ...]:
    found = [_hmac(keys[0], text)]
    for step in range(1, len(keys)):
        found.append(_rekeyed(found[-1], keys[step], step))
    return tuple(found)


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


def identify(raw: str | None, keys: str | Sequence[str], call_sid: str) -> Caller:
    """Identify a caller by HMAC of E.164; withheld or invalid IDs get a per-call identity.

    `keys`: one key, or the keys in the order they were added (hash_keys()).
    """
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    number = parse_e164(raw)
    if number is None:
        forms = _forms(keys, "call:" + call_sid)
        return Caller(forms[-1], True, forms)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    forms = _forms(keys, e164)
    return Caller(forms[-1], False, forms, number)
