"""No history: after real calls, no raw number anywhere the line keeps things, and purged."""

from __future__ import annotations

import logging

import phonenumbers
from sqlalchemy import select

from app.db import db
from app.line.models import Call
from tests.support import dump_database, dump_redis, eventually

NUMBERS = ("+4915550000341", "+447700900342", "+15550100343")


def _forms(number: str) -> set[str]:
    parsed = phonenumbers.parse(number)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    spaced = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = number.lstrip("+")
    return {number, digits, national, spaced, "".join(ch for ch in national if ch.isdigit())}


def test_no_raw_number_in_database_redis_or_logs_and_records_purged(line, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("app").info("a caller from %s said hello", NUMBERS[0])  # must be redacted
    alice, bob, carol = (line.dial(number) for number in NUMBERS)
    for caller in (alice, bob):
        caller.wait_until_heard("press 1")
        caller.press("1")
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    bob.press("*")
    bob.wait_until_heard("press 2 to report")
    bob.press("2")
    bob.wait_until_heard("you will not be connected")
    carol.wait_until_heard("press 1")
    carol.press("1")
    carol.wait_until_heard("nobody is free", timeout=15)
    for caller in (alice, bob, carol):
        caller.hang_up()
        caller.wait_until_ended()

    def all_purged():
        with line.app.app_context():
            calls = db.session.scalars(select(Call)).all()
            return len(calls) == 3 and all(c.purged_at and c.masked_at for c in calls)

    eventually(all_purged, timeout=20)
    deleted = {r.path for r in line.twin.requests if r.method == "DELETE"}
    assert all(any(caller.sid in path for path in deleted) for caller in (alice, bob, carol))

    places = {
        "database": dump_database(line.app),
        "redis": dump_redis(line.app.config["REDIS_URL"]),
        "web logs": caplog.text,
        "worker logs": line.worker_log.read_text(),
    }
    assert "said hello" in caplog.text and "purged" in places["database"]
    for number in NUMBERS:
        for form in _forms(number):
            for place, text in places.items():
                assert form not in text, f"{form} found in {place}"
