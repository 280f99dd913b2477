"""SMS through the twin on a plain long code: sign-up by call and by text, opt-out keywords
answered once (by Twilio), reminder waves at the sender's rate, restarts, opt-outs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.fusing import sessions
from app.sms.models import Subscriber, TextMessage
from tests.support import TIME_SCALE, drain, eventually
from twin.opt_out import DEFAULT_REPLIES, Keyword
from workers.sms import plan_reminders

# The twin's long code sends one segment a simulated second: 1 / TIME_SCALE a real one.
RATE = 1 / TIME_SCALE
LINE_CONFIG = {"SMS_SEGMENTS_PER_SECOND": RATE, "SMS_STUCK_SECONDS": 1}
# The Fusing Hour on the night the clocks go back in 2027 (Sunday 31 October, 10:00 Berlin).
SESSION = datetime(2027, 10, 31, 9, 0, tzinfo=UTC)


def _berlin_sunday(line):
    with line.app.app_context():
        sessions.change_rule(weekday=6, start_time=clock(10, 0), timezone="Europe/Berlin")


def _join(line, number: str):
    reply = line.twin.send_sms(number, "JOIN")
    assert any("Reply STOP" in text for text in reply.replies), reply


def _texts(line, kind: str = "reminder"):
    with line.app.app_context():
        found = db.session.scalars(select(TextMessage).where(TextMessage.kind == kind)).all()
        db.session.expunge_all()
        return found


def _subscriber(line):
    with line.app.app_context():
        found = db.session.scalar(select(Subscriber))
        db.session.expunge_all()
        return found


@pytest.fixture
def waves_only(line):
    """The line without deleting each delivered text at Twilio: a wave's many purge jobs
    would hold the worker long after the wave (the purge has a test of its own above)."""
    line.app.config["PURGE_TWILIO_RECORDS"] = False  # the status callbacks' web process
    yield line
    line.app.config["PURGE_TWILIO_RECORDS"] = True


def _settled(line) -> None:
    """Every job the line had run, and every message the twin had queued, has left."""
    drain(line)
    assert line.twin.wait_idle(10)


def test_sign_up_in_a_call_sends_a_confirmation_text(line):
    caller = line.dial("+4915550100601")
    caller.wait_until_heard("2 for the fusing hour")
    caller.press("2")
    caller.wait_until_heard("text message reminder")
    caller.press("2")
    caller.wait_until_heard("you will get a text to confirm")
    inbox = eventually(lambda: line.twin.inbox("+4915550100601"))
    assert len(inbox) == 1 and "Reply STOP" in inbox[0]
    sent = eventually(lambda: [t for t in _texts(line, "confirmation") if t.purged_at], timeout=20)
    assert sent[0].status == "delivered"  # delivery status recorded, then purged at Twilio
    assert not [m for m in line.twin.messages if not getattr(m, "deleted", False)]


def test_stop_start_and_help_each_get_exactly_one_answer(line):
    number = "+447700900611"
    _join(line, number)
    _settled(line)
    for word, keyword in (("STOP", Keyword.STOP), ("start", Keyword.START), ("HELP", Keyword.HELP)):
        before = len(line.twin.inbox(number))
        line.twin.send_sms(number, word)
        _settled(line)
        assert line.twin.inbox(number)[before:] == [DEFAULT_REPLIES[keyword]], word
        assert line.twin.errors == [], "the line sent something Twilio refused"
    assert _subscriber(line).status == "active"  # STOP, then START: signed up again


def test_stop_is_recorded_and_the_line_sends_nothing_more(line):
    _berlin_sunday(line)
    number = "+447700900612"
    _join(line, number)
    _settled(line)
    line.twin.send_sms(number, "stop")
    for body in ("JOIN", "hello?", "Help!"):
        line.twin.send_sms(number, body)
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=15)) == 0
    _settled(line)
    assert line.twin.errors == [] and line.twin.inbox(number)[1:] == [DEFAULT_REPLIES[Keyword.STOP]]
    stopped = _subscriber(line)
    assert stopped.status == "opted_out" and stopped.number_encrypted is None


def test_help_kept_from_the_webhook_still_gets_one_answer(line):
    number = "+447700900613"
    line.twin.sms.forward_help = False  # the docs do not say whether HELP is forwarded
    try:
        line.twin.send_sms(number, "HELP")
    finally:
        line.twin.sms.forward_help = True
    _settled(line)
    assert line.twin.inbox(number) == [DEFAULT_REPLIES[Keyword.HELP]]


def test_reminders_across_the_autumn_clock_change_in_each_subscribers_zone(line):
    _berlin_sunday(line)
    _join(line, "+4915550100602")
    _join(line, "+447700900603")
    day_before = SESSION - timedelta(hours=24) + timedelta(seconds=30)
    with line.app.app_context():
        assert plan_reminders(day_before) == 2
        assert plan_reminders(day_before) == 0  # planned once, whatever the scheduler does
    german = eventually(lambda: line.twin.inbox("+4915550100602")[1:])
    british = eventually(lambda: line.twin.inbox("+447700900603")[1:])
    assert "at 10 in the morning, Central European Time" in german[0]  # not summer time
    assert "at 9 in the morning, UK time" in british[0]
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=14)) == 2
    eventually(lambda: len(line.twin.inbox("+447700900603")) == 3)
    assert "at 9 in the morning, UK time" in line.twin.inbox("+447700900603")[2]
    assert sorted(t.offset_minutes for t in _texts(line)) == [15, 15, 1440, 1440]


def test_a_wave_leaves_at_the_senders_rate_without_queueing_at_twilio(waves_only):
    line = waves_only
    _berlin_sunday(line)
    numbers = [f"+4915550102{i:03d}" for i in range(60)]
    for number in numbers:
        _join(line, number)
    _settled(line)
    began = time.time()
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=15)) == 60
    eventually(lambda: all(len(line.twin.inbox(n)) == 2 for n in numbers), timeout=30)
    reminders = [m for m in line.twin.messages if "Fusing Hour starts" in m.body]
    waits = [(m.date_sent - m.date_created).total_seconds() for m in reminders]
    assert max(waits) < 1.0  # handed over at the rate Twilio sends them, not in a burst
    last = max(m.date_sent for m in reminders).timestamp()
    assert last - began >= 59 / RATE  # one segment a (simulated) second, the twin's rate


def _left_behind_looks_stuck(line) -> bool:
    stale = utcnow() - timedelta(seconds=LINE_CONFIG["SMS_STUCK_SECONDS"])
    unsent = [t for t in _texts(line) if t.status in ("queued", "sending")]
    return bool(unsent) and all((t.claimed_at or t.created_at) < stale for t in unsent)


def test_a_worker_killed_mid_wave_sends_each_reminder_exactly_once(waves_only):
    line = waves_only
    _berlin_sunday(line)
    numbers = [f"+4915550101{i:03d}" for i in range(120)]
    for number in numbers:
        _join(line, number)
    due = SESSION - timedelta(hours=24) + timedelta(seconds=1)
    with line.app.app_context():
        assert plan_reminders(due) == 120
    # About one second into a six-second wave, counted by what the line has handed over (the
    # twin's deliveries into the inboxes trail behind it).
    eventually(lambda: sum(t.status != "queued" for t in _texts(line)) >= 20)
    line.kill_worker(with_job=True)
    # Down until what the dead worker left looks stuck (SMS_STUCK_SECONDS on the real clock).
    eventually(lambda: _left_behind_looks_stuck(line), timeout=10)
    line.start_worker()
    with line.app.app_context():
        plan_reminders(due)  # the scheduler's next run finds what the dead worker left
    eventually(lambda: all(len(line.twin.inbox(n)) >= 2 for n in numbers), timeout=30)
    _settled(line)  # anything sent twice would have arrived by now
    assert all(len(line.twin.inbox(n)) == 2 for n in numbers), "a reminder was sent twice"
    assert {t.status for t in _texts(line)} <= {"sent", "delivered"}


def test_an_opted_out_number_is_unsubscribed_on_error_21610(line):
    _berlin_sunday(line)
    _join(line, "+4915550100604")
    line.twin.opt_out("+4915550100604")  # opted out where the line could not see it
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=10)) == 1

    def unsubscribed():
        found = _subscriber(line)
        return found if found.status == "opted_out" else None

    subscriber = eventually(unsubscribed)
    assert subscriber.number_encrypted is None
    assert [t.error_code for t in _texts(line)] == [21610]
