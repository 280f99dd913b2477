"""The dashboard's warning, before a reminder wave starts, that its texts will not all leave
Twilio in time at the sender's rate."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from app.db import db, utcnow
from app.fusing import sessions
from app.sms.models import Subscriber, TextMessage


def _fusing_hour_in(app, delay: timedelta):
    starts = (utcnow() + delay).replace(second=0, microsecond=0)
    with app.app_context():
        sessions.change_rule(weekday=starts.weekday(), start_time=starts.time(), timezone="UTC")
    return starts


def _subscribers(app, count: int) -> None:
    rows = [
        {
            "identity": f"{i:064d}",
            "masked_number": "+49 ••• •••• 00",
            "timezone": "Europe/Berlin",
            "status": "active",
            "source": "text",
            "created_at": utcnow(),
        }
        for i in range(count)
    ]
    with app.app_context():
        db.session.execute(insert(Subscriber), rows)
        db.session.commit()


def _page(admin_client) -> str:
    return admin_client.get("/admin/").get_data(as_text=True)


def test_no_warning_when_every_wave_leaves_in_time(app, admin_client):
    _fusing_hour_in(app, timedelta(days=2))
    _subscribers(app, 50)
    assert "will not all leave in time" not in _page(admin_client)


def test_a_wave_too_big_for_the_senders_rate_is_named_before_it_starts(app, admin_client):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 0.001  # 100 reminders take 100,000 s: 28 hours
    _fusing_hour_in(app, timedelta(days=3))
    _subscribers(app, 100)
    page = _page(admin_client)
    assert "The 24-hour reminders will not all leave in time" in page  # a day has no room
    assert "The 15-minute reminders will not all leave in time" in page
    assert "can start no earlier than" in page and "27 h 46 min" in page
    assert "SMS_SEGMENTS_PER_SECOND" in page
    app.config["SMS_SEGMENTS_PER_SECOND"] = 0.002  # 14 hours: both fit
    assert "will not all leave in time" not in _page(admin_client)


def test_a_wave_that_should_have_started_already_is_named(app, admin_client):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 0.1  # 300 reminders: 3,000 s, 55 min with margin
    _fusing_hour_in(app, timedelta(hours=1))  # the 15-minute ones are due in 45 minutes
    _subscribers(app, 300)
    page = _page(admin_client)
    assert "The 15-minute reminders will not all leave in time" in page
    assert "They should have started at" in page


def test_no_warning_once_the_wave_has_started(app, admin_client):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 0.1
    starts = _fusing_hour_in(app, timedelta(hours=1))
    _subscribers(app, 300)
    with app.app_context():
        first = db.session.query(Subscriber.id).first()[0]
        db.session.add(
            TextMessage(
                subscriber_id=first, kind="reminder", session_starts_at=starts, offset_minutes=15
            )
        )
        db.session.commit()
    assert "will not all leave in time" not in _page(admin_client)
