"""The waiting pool: never a stale entry, and a time-out only for the wait it was set for."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.db import db
from app.line import pairing, pool
from app.line.models import Call, CallState
from app.settings import settings
from tests.support import call_form

STALE = "stale-token-0001"


def _stale_since_ms() -> int:
    """An arrival older than the wait timeout and its minute of grace."""
    return int((time.time() - settings.WAIT_TIMEOUT_SECONDS - 61) * 1000)


def _waiting_call(twilio, number: str) -> Call:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    twilio.post("/twilio/voice/wait", form)
    call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
    assert call.state == CallState.WAITING and pool.is_waiting(call.wait_token)
    return call


def test_a_stale_entry_is_never_taken_and_is_dropped(app):
    with app.app_context():
        pool.restore(STALE, "i" * 64, "room-stale", 1, _stale_since_ms())
        assert pool.is_waiting(STALE)
        assert pool.take("j" * 64) is None  # nobody fresh to meet, and the stale one is not
        assert not pool.is_waiting(STALE)
        pool.restore(STALE, "i" * 64, "room-stale", 1, _stale_since_ms())
        placed = pool.match_or_wait("fresh-token-0001", "j" * 64, "room-fresh", 2)
        assert not placed.paired and placed.room == "room-fresh"
        assert not pool.is_waiting(STALE) and pool.waiting_count() == 1


def test_a_time_out_for_an_earlier_wait_leaves_the_current_one_alone(app, twilio):
    with app.app_context():
        call = _waiting_call(twilio, "+15550100191")
        # A leftover entry of an earlier wait of the same call, its job firing late.
        pool.restore(STALE, call.identity, "room-old", call.id, int(time.time() * 1000))
        assert pairing.expire_wait(call.id, STALE) is False
        db.session.refresh(call)
        assert call.state == CallState.WAITING and pool.is_waiting(call.wait_token)


def test_a_time_out_for_a_call_no_longer_waiting_touches_nothing(app, twilio):
    with app.app_context():
        call = _waiting_call(twilio, "+15550100192")
        token = call.wait_token
        call.state = CallState.MATCHED  # paired a moment ago; its entry not yet gone
        db.session.commit()
        assert pairing.expire_wait(call.id, token) is False
        assert pool.is_waiting(token)
        db.session.refresh(call)
        assert call.state == CallState.MATCHED and call.outcome != "timed_out"


def test_a_time_out_for_the_current_wait_wins_once(app, twilio):
    with app.app_context():
        call = _waiting_call(twilio, "+15550100193")
        assert pairing.expire_wait(call.id, call.wait_token) is True
        assert pairing.expire_wait(call.id, call.wait_token) is False
        db.session.refresh(call)
        assert call.state == CallState.TIMED_OUT and not pool.is_waiting(call.wait_token)
