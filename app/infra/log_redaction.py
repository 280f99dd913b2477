"""No history: redact anything that looks like a phone number from every log record."""

from __future__ import annotations

import logging
import re

# Seven or more digits, optionally with a leading + and the usual separators, standing alone:
# E.164, national and spaced forms. Hex ids (CA3f...) and timestamps do not match.
PHONE_LIKE = re.compile(r"(?<![\w+])(?!\d{4}-\d\d-\d\d)\+?\(?\d(?:[\s\-.()/]{0,2}\d){6,16}(?!\w)")
REDACTED = "[number redacted]"
_installed = False


def redact(text: str) -> str:
    """Replace phone-number-like runs in `text`."""
    return PHONE_LIKE.sub(REDACTED, text)


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
