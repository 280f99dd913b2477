"""Log redaction: anything that looks like a phone number leaves no log record."""

from __future__ import annotations

import logging

import pytest

from app.infra.log_redaction import redact


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
    "text",
    [
        "CA3fc5e1bc1614a5a9f1ece55963a044d",
        "port 127.0.0.1:5000",
        "id 12345",
        "2026-11-22 04:00:13",
        "job expire-3110ef6546aedcc2",
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
