"""The line's pace decides how long a caller left alone waits for a peer before a listener is
rung: at once below LISTENER_AT_ONCE_BELOW calls in PACE_WINDOW_MINUTES, else
LISTENER_AFTER_SECONDS. The count is of calls to be paired, kept by each process for a 3600th
of the window."""

from __future__ import annotations

import secrets
from datetime import timedelta

from app.db import db, utcnow
from app.line import pace, pairing
from app.line.models import Call, CallMode, CallState
from app.listeners import offers
from app.settings import settings
from tests.support import forget_redis, queued, waiting_call


def _arrived(
    count: int, minutes_ago: float = 1.0, mode: CallMode = CallMode.PAIRING, waited: bool = True
) -> None:
    """Calls that arrived `minutes_ago` and (`waited`) asked to be paired."""
    for _ in range(count):
        arrived = utcnow() - timedelta(minutes=minutes_ago)
        db.session.add(
            Call(
                sid="CA" + secrets.token_hex(16),
                identity=secrets.token_hex(32),
                masked_number="+1 ••• ••• 0100",
                mode=mode,
                arrived_at=arrived,
                wait_started_at=arrived + timedelta(seconds=20) if waited else None,
            )
        )
    db.session.commit()


def _clock(monkeypatch, at: float) -> None:
    """The pace's clock, stopped at `at` seconds."""
    monkeypatch.setattr(pace, "monotonic", lambda: at)


def test_the_pace_counts_the_calls_that_waited_to_be_paired_within_the_window(app):
    with app.app_context():
        _arrived(3)
        _arrived(1, minutes_ago=59)
        _arrived(2, minutes_ago=61)  # before the window
        _arrived(1, mode=CallMode.FUSING)
        _arrived(1, mode=CallMode.LISTENER)
        _arrived(3, waited=False)  # turned away, or hung up at the greeting
        assert pace.recent_calls() == 4
        app.config["PACE_WINDOW_MINUTES"] = 120
        app.extensions.pop(pace.EXTENSION)
        assert pace.recent_calls() == 6


def test_a_process_keeps_the_count_it_read_for_a_3600th_of_the_window(app, monkeypatch):
    with app.app_context():
        _arrived(2)
        _clock(monkeypatch, 1000.0)
        assert pace.recent_calls() == 2
        _arrived(1)
        _clock(monkeypatch, 1000.99)  # within an hour's second
        assert pace.recent_calls() == 2
        _clock(monkeypatch, 1001.01)
        assert pace.recent_calls() == 3


def test_below_the_threshold_a_listener_is_rung_at_once_and_at_it_after_the_wait(app):
    app.config["LISTENER_AT_ONCE_BELOW"] = 5
    with app.app_context():
        _arrived(4)
        assert pace.listener_after_seconds() == 0.0
        app.extensions.pop(pace.EXTENSION)
        _arrived(1)
        assert pace.listener_after_seconds() == settings.LISTENER_AFTER_SECONDS == 45


def test_a_threshold_of_0_always_waits_listener_after_seconds(app):
    app.config["LISTENER_AT_ONCE_BELOW"] = 0
    with app.app_context():
        assert pace.listener_after_seconds() == settings.LISTENER_AFTER_SECONDS


def _starts_waiting(app) -> list[float]:
    """When the listener offer of a caller who starts waiting now is due."""
    forget_redis(app)
    call = waiting_call(secrets.token_hex(32))
    call.state, call.wait_token, call.wait_started_at = CallState.ARRIVED, None, None
    db.session.commit()
    assert pairing.start_waiting(call) is not None
    return [due for _, due in queued("offer_listener")]


def test_a_wait_at_a_quiet_hour_has_its_listener_offer_due_now(app):
    with app.app_context():
        _arrived(settings.LISTENER_AT_ONCE_BELOW - 2)  # with the caller's own, one below
        assert _starts_waiting(app) == [0.0]


def test_a_wait_at_a_busy_hour_has_its_listener_offer_due_after_listener_after_seconds(app):
    with app.app_context():
        _arrived(settings.LISTENER_AT_ONCE_BELOW)
        (due,) = _starts_waiting(app)
        assert settings.LISTENER_AFTER_SECONDS - 2 < due <= settings.LISTENER_AFTER_SECONDS


def test_a_listener_who_comes_free_at_a_quiet_hour_is_for_any_caller_waiting(app):
    with app.app_context():
        short = waiting_call("a" * 64)
        short.wait_started_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert offers.waited_long_enough() == [short]
        app.extensions.pop(pace.EXTENSION)
        _arrived(settings.LISTENER_AT_ONCE_BELOW)
        assert offers.waited_long_enough() == []  # at a busy hour: 45 s first
