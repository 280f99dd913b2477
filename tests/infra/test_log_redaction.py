"""Log redaction: every phone number leaves no log record, and nothing else is touched."""

from __future__ import annotations

import email.utils
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, quote_plus

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from app.infra.log_redaction import REDACTED, redact


@pytest.mark.parametrize(
    "text",
    [
        "+4915550000012",
        "4915550000012",
        "015550 000012",
        "+1 (555) 010-0142",
        "+44 7700 900123",
        "07700 900123",
        "555.010.0142",
    ],
)
def test_phone_numbers_are_redacted(text):
    assert redact(f"caller {text} waited") == "caller [number redacted] waited"


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("POST To=%2B4915551234567&From=x", "POST To=[number redacted]&From=x"),
        ("From=%2B44%207700%20900123 x", "From=[number redacted] x"),
        ("caller+4915551234567 waited", "caller[number redacted] waited"),
        ("call +49 (0) 1555 - 1234 567 now", "call [number redacted] now"),
        ("tel:+1-555-010-0142", "tel:[number redacted]"),
    ],
)
def test_encoded_glued_and_bracketed_numbers_are_redacted(text, cleaned):
    assert redact(text) == cleaned


@pytest.mark.parametrize(
    "text",
    [
        "CA3fc5e1bc1614a5a9f1ece55963a044d",
        "port 127.0.0.1:5000",
        "id 12345",
        "2026-11-22 04:00:13",
        "job expire-3110ef6546aedcc2",
        "Job OK (2bd1b5d7-5551-4234-a290-123456789012)",
        "at 2026-11-22T08:00:13.123456+00:00",
        "arrived=1764583083123",
    ],
)
def test_ids_and_times_are_left_alone(text):
    assert redact(text) == text


def test_every_log_record_is_redacted_whichever_logger(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("somewhere.else").info("from %s", "+447700900123")
        try:
            raise ValueError("bad number +4915550000012")
        except ValueError:
            logging.getLogger("app").exception("failed")
    assert "7700900123" not in caplog.text and "4915550000012" not in caplog.text
    assert "from [number redacted]" in caplog.text
    assert "ValueError: bad number [number redacted]" in caplog.text


# ---- property-based: every written form of a number goes, nothing else does -----------

AREA_CODES = ["202", "212", "312", "415", "555", "617", "702"]
fictional_numbers = st.one_of(
    st.builds(lambda a, n: f"+1{a}55501{n:02d}", st.sampled_from(AREA_CODES), st.integers(0, 99)),
    st.integers(0, 999).map(lambda n: f"+447700900{n:03d}"),  # Ofcom's drama range
    st.integers(0, 9_999_999).map(lambda n: f"+491555{n:07d}"),
)


def _grouped(digits: str, cuts: list[int], separator: str) -> str:
    """`digits` in groups cut at these places (each group at least two digits)."""
    places = sorted({c for c in cuts if 2 <= c <= len(digits) - 2})
    places = [p for i, p in enumerate(places) if i == 0 or p - places[i - 1] >= 2]
    bounds = [0, *places, len(digits)]
    return separator.join(digits[a:b] for a, b in zip(bounds, bounds[1:], strict=False))


@st.composite
def written_numbers(draw) -> str:
    """One number as people and programs write it."""
    e164 = draw(fictional_numbers)
    number = phonenumbers.parse(e164)
    code, national = str(number.country_code), phonenumbers.national_significant_number(number)
    trunk = "" if code == "1" else "0"
    cuts = draw(st.lists(st.integers(2, 10), max_size=3))
    separator = draw(st.sampled_from([" ", "-", " - "]))
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    forms = [
        e164,
        international,
        phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, PhoneNumberFormat.RFC3966),
        e164[1:],  # E.164 without its +
        "00" + e164[1:],
        f"+{code} {_grouped(national, cuts, separator)}",
        trunk + _grouped(national, cuts, separator),
        f"+{code} ({trunk or 1}) {_grouped(national, cuts, separator)}",
        f"({trunk}{national[:3]}) {_grouped(national[3:], cuts, separator)}",
        f"{trunk}{national[:3]}/{national[3:]}",  # area code / number, as written in Germany
        quote(e164, safe=""),
        quote(international, safe=""),
        quote_plus(international),
        "caller" + e164,
        f"+{code}.{national}",  # EPP's form
    ]
    groups = re.findall(r"\d+", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    if len(groups) >= 3:  # 202.555.0100; in two groups it would be a decimal
        forms.append(".".join(groups))
    return draw(st.sampled_from(forms))


before_text = st.sampled_from(["", "caller ", "From=", "number: ", "(", "'", "to ", "x&To="])
after_text = st.sampled_from(["", " waited", ".", ",", ")", "'", "&From=x", " and more"])


@settings(max_examples=400, deadline=None)
@given(before=before_text, number=written_numbers(), after=after_text)
def test_every_written_form_of_a_number_is_redacted(before, number, after):
    cleaned = redact(before + number + after)
    assert REDACTED in cleaned
    assert not any(c.isdigit() for c in cleaned), cleaned


zones = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(datetime(1970, 1, 1), datetime(2999, 12, 31), timezones=zones)
hex32 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
not_numbers = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.builds(lambda p, h: p + h, st.sampled_from(["CA", "SM", "CF", "MM", "PN", "AC"]), hex32),
    moments.map(lambda m: m.isoformat()),
    moments.map(lambda m: m.isoformat(sep=" ")),
    moments.map(lambda m: m.isoformat(timespec="milliseconds")),
    moments.map(lambda m: m.astimezone(UTC).isoformat().replace("+00:00", "Z")),
    moments.map(email.utils.format_datetime),  # RFC 2822
    moments.map(lambda m: m.strftime("%Y-%m-%d %H:%M:%S") + f",{m.microsecond // 1000:03d}"),
    moments.map(lambda m: m.strftime("[%d/%b/%Y %H:%M:%S]")),  # werkzeug's access log
    st.timedeltas(min_value=timedelta(0)).map(str),
    st.floats(0, 1e6, allow_nan=False).map(lambda s: f"{s:.6f}s"),
    st.floats(0, 1e7, allow_nan=False).map(lambda s: f"{s:.3f} ms"),
    st.integers(0, 10**9).map(lambda n: f"{n} ms"),
    st.floats(0, 1e5, allow_nan=False).map(lambda s: f"PT{s:.3f}S"),
    # Epoch seconds and milliseconds of 2017 to 2033 (the greeting's URLs carry the latter).
    # From 2033 on, ten digits from 2 read as E.164 without its + (Egypt, +20) as well.
    st.integers(1_500_000_000, 1_999_999_999).map(str),
    st.integers(1_500_000_000_000, 1_999_999_999_999).map(str),
    st.integers(0, 99_999).map(str),
    st.lists(st.integers(0, 255), min_size=4, max_size=4).map(lambda p: ".".join(map(str, p))),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(not_numbers, min_size=1, max_size=3), st.sampled_from([" | ", " then "]))
def test_ids_times_and_durations_are_left_alone(parts, joiner):
    # Kept apart by a word or a bar: digits on both sides of a lone space can be one number.
    text = "job " + joiner.join(parts) + " done"
    assert redact(text) == text
