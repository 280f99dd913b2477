"""No history: redact every phone number from every log record, and nothing that is not one.

Numbers are found the way libphonenumber finds them in text (PhoneNumberMatcher), in their
E.164, international, national, spaced, dashed, dotted and bracketed forms, glued to a word
by their `+` (`caller+4915551234567`) or url-encoded (`To=%2B4915551234567`). What only
looks like digits is left alone: ids and SIDs (part of a longer token), dates and times,
decimals and durations, addresses, epoch stamps.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

REDACTED = "[number redacted]"
# National forms (no country code) are read as numbers of these regions: the line's own
# (Germany) and those of its numbers and tests (UK, US). International forms of every
# country are found in any case.
REGIONS = ("DE", "GB", "US")
# POSSIBLE (the length fits the country) rather than VALID: metadata lags new ranges, and a
# number the metadata does not know yet must not reach a log either.
LENIENCY = Leniency.POSSIBLE
MIN_DIGITS = 7  # fewer is a count, a port or a short code, and identifies nobody

# Cheap pre-check: no run of seven digits (with the separators numbers are written with),
# nothing to look at. Most records stop here.
_CANDIDATE = re.compile(r"\d(?:[\s\-./()%+]{0,3}\d){6}")
# The stretches the matcher reads: digits and separators, a + or ( before. Reading these
# alone, not the whole record, keeps the cost to a fraction of a millisecond.
_RUN = re.compile(r"[+(]*\d(?:[\s\-./()]{0,3}\d)*")
_JOINED = re.compile(r"\+?[\d\-./]+")
_ENCODED_TOKEN = re.compile(r"[^\s&=?;,\"'<>]*%[0-9A-Fa-f]{2}[^\s&=?;,\"'<>]*")
_NOT_NUMBERS = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 2026-11-22, 2026/11/22
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # 22.11.2026, 11/22/26
    r"|\d+[.,]\d+"  # a decimal: 12345.678901
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # an IPv4 address
)
_NANP = re.compile(r"1?[2-9]\d{9}")  # North American: an area code never starts with 0 or 1
_UNIT = re.compile(
    r"\s?(?:[mµun]?s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|[kKMG]i?B|bytes?)\b"
)
_installed = False


def _in_a_token(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] continues a longer word, id, time or address on either side."""
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    glued_before = bool(before) and (
        before[-1].isalnum() or before[-1] == "_" or (before[-1] in "-.:/" and before[:1].isalnum())
    )
    glued_after = bool(after) and (
        after[0].isalnum() or after[0] == "_" or (after[0] in "-.:/" and after[1:2].isalnum())
    )
    return glued_before or glued_after


def _without_country_code(digits: str) -> bool:
    """Digits written without a +: a national form, or E.164 with its + left out."""
    if digits.startswith("0") or _NANP.fullmatch(digits):
        return True  # a trunk (or international) prefix, or a North American number
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:
        return False


def _is_number(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) < MIN_DIGITS:
        return False
    if raw.startswith("+"):
        return True  # a country code: glued to a word or not, it is a number
    if _in_a_token(text, start, end) or _NOT_NUMBERS.fullmatch(raw):
        return False
    if _UNIT.match(text, end):
        return False  # a duration or a size
    return _without_country_code(digits)  # epoch stamps and counts are not


def _possible(raw: str) -> bool:
    """Whether the matcher would take `raw`, read whole, as a number of one of REGIONS."""
    for region in REGIONS:
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(raw, region)):
                return True
        except phonenumbers.NumberParseException:
            pass
    return False


def _numbers_in(text: str, run: re.Match) -> list[tuple[int, int]]:
    """The numbers in one run of digits and separators, as (start, end) in `text`."""
    start, raw = run.start(), run.group()
    if sum(c.isdigit() for c in raw) < MIN_DIGITS:
        return []
    end = start + len(raw)
    if _JOINED.fullmatch(raw):
        # Joined by - . / only: any part but the whole would be glued to the rest, so only
        # the whole can be a number (ids, dates, times, addresses end here, cheaply).
        if _is_number(text, start, end) and _possible(raw):
            return [(start, end)]
        if not raw.startswith("+"):
            return []
    found = []
    for region in REGIONS:
        for match in PhoneNumberMatcher(raw, region, leniency=LENIENCY):
            if _is_number(text, start + match.start, start + match.end):
                found.append((start + match.start, start + match.end))
        if found and found[0][0] == start and found[-1][1] == end:
            break  # the run is taken whole: other regions can add nothing
    return found


def _spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every number in `text`, overlapping ones merged."""
    found = sorted(span for run in _RUN.finditer(text) for span in _numbers_in(text, run))
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _redact_plain(text: str) -> str:
    if not _CANDIDATE.search(text):
        return text
    parts, last = [], 0
    for start, end in _spans(text):
        parts += [text[last:start], REDACTED]
        last = end
    return "".join(parts) + text[last:] if parts else text


def _redact_encoded(match: re.Match) -> str:
    """A url-encoded token holding a number is redacted in its decoded form."""
    token = match.group()
    decoded = unquote_plus(token)
    cleaned = _redact_plain(decoded)
    return token if cleaned == decoded else cleaned


def redact(text: str) -> str:
    """Replace every phone number in `text` with REDACTED."""
    if not _CANDIDATE.search(text):
        return text  # also covers url-encoded numbers: their digits run on
    if "%" in text:
        text = _ENCODED_TOKEN.sub(_redact_encoded, text)
    return _redact_plain(text)


def install_log_redaction() -> None:
    """Redact every log record of this process when it is made, whichever logger writes it."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args, **kwargs):
        record = make_record(*args, **kwargs)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_record)
    _installed = True
