from __future__ import annotations

from datetime import datetime, timedelta

from app.db import utcnow
from app.fusing import sessions


def _weekly_at(start: datetime) -> None:
    sessions.change_rule(weekday=start.weekday(), start_time=start.time(), timezone="UTC")


def test_between_hours_the_line_skips_the_schedule_until_the_next_lobby_opens(app, monkeypatch):
    with app.app_context():
        now = utcnow()
        _weekly_at(now + timedelta(days=3))
        upcoming = sessions.upcoming(now)
        opens = upcoming.starts_at - sessions.LOBBY_OPENS_BEFORE
        assert sessions.running_occurrence(now) is None

        def computed(*_args):
            raise AssertionError("the schedule was computed again")

        with monkeypatch.context() as patch:
            patch.setattr(sessions, "current_occurrence", computed)
            assert sessions.running_occurrence(opens - timedelta(microseconds=1)) is None
        assert sessions.running_occurrence(opens) == upcoming  # the lobby is open
        assert sessions.running_occurrence(upcoming.starts_at) == upcoming


def test_a_schedule_change_is_seen_at_once_between_hours(app):
    with app.app_context():
        now = utcnow()
        _weekly_at(now + timedelta(days=3))
        assert sessions.running_occurrence(now) is None
        start = now + timedelta(minutes=1)
        _weekly_at(start)
        found = sessions.running_occurrence(now)  # its lobby opened a minute ago
        assert found is not None and abs(found.starts_at - start) < timedelta(seconds=1)
