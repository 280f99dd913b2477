"""SMS through the twin: sign-up by call and by text, reminder waves, restarts, opt-outs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from sqlalchemy import select

from app.db import db
from app.fusing import sessions
from app.sms.models import Subscriber, TextMessage
from tests.support import eventually
from workers.sms import plan_reminders

LINE_CONFIG = {"SMS_PER_SECOND": 40, "SMS_STUCK_SECONDS": 1}
# The Fusing Hour on the night the clocks go back in 2026 (Sunday 25 October, 10:00 Berlin).
SESSION = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


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


def test_sign_up_in_a_call_sends_a_confirmation_text(line):
    caller = line.dial("+4915550100601")
    caller.wait_until_heard("press 2")
    caller.press("2")
    caller.wait_until_heard("text message reminder")
    caller.press("2")
    caller.wait_until_heard("you will get a text to confirm")
    inbox = eventually(lambda: line.twin.inbox("+4915550100601"))
    assert len(inbox) == 1 and "Reply STOP" in inbox[0]
    sent = eventually(lambda: [t for t in _texts(line, "confirmation") if t.purged_at], timeout=20)
    assert sent[0].status == "delivered"  # delivery status recorded, then purged at Twilio
    assert not [m for m in line.twin.messages if not getattr(m, "deleted", False)]


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
    assert "tomorrow at 10 in the morning, Central European Time" in german[0]
    assert "tomorrow at 9 in the morning, UK time" in british[0]
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=14)) == 2
    eventually(lambda: len(line.twin.inbox("+447700900603")) == 3)
    assert "today at 9 in the morning" in line.twin.inbox("+447700900603")[2]
    assert sorted(t.offset_minutes for t in _texts(line)) == [15, 15, 1440, 1440]


def test_a_worker_killed_mid_wave_sends_each_reminder_exactly_once(line):
    _berlin_sunday(line)
    numbers = [f"+4915550101{i:03d}" for i in range(120)]
    for number in numbers:
        _join(line, number)
    due = SESSION - timedelta(hours=24) + timedelta(seconds=1)
    with line.app.app_context():
        assert plan_reminders(due) == 120
    eventually(lambda: sum(len(line.twin.inbox(n)) > 1 for n in numbers) >= 20)
    line.kill_worker()  # about one second into a three-second wave
    time.sleep(1.5)
    line.start_worker()
    with line.app.app_context():
        plan_reminders(due)  # the scheduler's next run finds what the dead worker left
    eventually(lambda: all(len(line.twin.inbox(n)) >= 2 for n in numbers), timeout=30)
    time.sleep(1)  # anything sent twice would have arrived by now
    assert all(len(line.twin.inbox(n)) == 2 for n in numbers), "a reminder was sent twice"
    assert {t.status for t in _texts(line)} <= {"sent", "delivered"}


def test_an_opted_out_number_is_unsubscribed_on_error_21610(line):
    _berlin_sunday(line)
    _join(line, "+4915550100604")
    line.twin.opt_out("+4915550100604")
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=10)) == 1

    def unsubscribed():
        with line.app.app_context():
            found = db.session.scalar(select(Subscriber))
            return found if found.status == "stopped" else None

    subscriber = eventually(unsubscribed)
    assert subscriber.number_encrypted is None
    assert [t.error_code for t in _texts(line)] == [21610]
