"""No history: after real calls and texts, no raw number anywhere the line keeps things, and
nothing left at Twilio, though Twilio refuses each deletion at first."""

from __future__ import annotations

import logging

import phonenumbers
from rq.job import Job
from sqlalchemy import func, select

from app import jobs
from app.db import db
from app.infra import redis
from app.line.models import Call, Purge
from tests.support import dump_database, dump_redis, eventually

# Sooner than the twin allows (a simulated minute, 3 s here): the first asks are refused.
LINE_CONFIG = {"PURGE_DELAY_SECONDS": 1}
NUMBERS = ("+4915550000341", "+447700900342", "+15550100343")
TEXTER = "+447700900344"


def _forms(number: str) -> set[str]:
    parsed = phonenumbers.parse(number)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    spaced = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = number.lstrip("+")
    return {number, digits, national, spaced, "".join(ch for ch in national if ch.isdigit())}


def _call_and_text(line) -> None:
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
    assert line.twin.send_sms(TEXTER, "hello").replies  # a text in, and the line's reply out


def _every_recurring_job_ran_once(line) -> None:
    """Start the scheduler, which queues each recurring job at once; wait until all ran."""
    with line.app.app_context():
        queues = redis.queues()
    names = {job.name for job in jobs.RECURRING}
    line.start_scheduler()

    def ran() -> set[str]:
        done = []
        for queue in queues:
            done += queue.finished_job_registry.get_job_ids()
            done += queue.failed_job_registry.get_job_ids()
        return {job.func_name for job in Job.fetch_many(done, queues[0].connection) if job}

    try:
        eventually(lambda: names <= ran(), timeout=30)
    finally:
        line.stop_scheduler()
    assert not [q.failed_job_registry.get_job_ids() for q in queues if q.failed_job_registry.count]
    assert "scheduler" in line.logs()["scheduler log"].lower()


def test_no_raw_number_in_database_redis_or_logs_and_nothing_left_at_twilio(line, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("app").info("a caller from %s said hello", NUMBERS[0])  # must be redacted
    _call_and_text(line)

    def nothing_left():
        with line.app.app_context():
            calls = db.session.scalars(select(Call)).all()
            pending = db.session.scalar(select(func.count()).select_from(Purge))
            return (
                len(calls) == 3 and all(c.purged_at and c.masked_at for c in calls) and not pending
            )

    eventually(nothing_left, timeout=30)
    twin = line.twin
    left = [c.sid for c in twin.calls.values() if not c.deleted]
    left += [m.sid for m in twin.messages if not m.deleted]
    assert left == [] and len(twin.messages) == 2  # the text to the line and its reply
    deletes = [r.status for r in twin.requests if r.method == "DELETE"]
    assert 400 in deletes and deletes.count(204) == 5  # refused at first (20009), then deleted

    _every_recurring_job_ran_once(line)  # over what the calls and the text left
    places = {
        "database": dump_database(line.app),
        "redis": dump_redis(line.app.config["REDIS_URL"]),
        "web logs": caplog.text,
        **line.logs(),  # the worker's and the scheduler's
    }
    assert "said hello" in caplog.text and "purged" in places["database"]
    for number in (*NUMBERS, TEXTER):
        for form in _forms(number):
            for place, text in places.items():
                assert form not in text, f"{form} found in {place}"
