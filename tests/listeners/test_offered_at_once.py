"""A caller who has waited LISTENER_AFTER_SECONDS is offered a listener at once: the seconds
count all their waits on the call, so one who waits on after "nobody is free" has the offer
queued now, not 45 s into the new wait; and a listener whose rest ends, or whose ring came
to nothing, is rung for whoever of those waits longest. At a busy hour, as here: at a quiet one
the listener is rung as soon as the wait begins (tests/line/test_pace.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.db import db, utcnow
from app.line import pairing
from app.line.models import Call, CallState
from app.listeners import offers, roster
from app.listeners.models import ListenerOffer
from app.settings import settings
from tests.support import forget_redis, queued, waiting_call
from workers.listeners import serve_waiting

ALWAYS = "mon-sun 00:00-24:00"


@pytest.fixture(autouse=True)
def busy_hour(app):
    """A pace at which a peer is worth waiting LISTENER_AFTER_SECONDS for."""
    app.config["LISTENER_AT_ONCE_BELOW"] = 0


def _waited(identity: str, seconds: float, earlier: float | None = None) -> Call:
    call = waiting_call(identity)
    call.wait_started_at = utcnow() - timedelta(seconds=seconds)
    call.earlier_wait_seconds = earlier
    db.session.commit()
    return call


def test_a_caller_who_waits_on_after_nobody_is_free_is_offered_a_listener_at_once(app):
    with app.app_context():
        first = waiting_call("a" * 64)
        first.state, first.wait_token, first.wait_started_at = CallState.ARRIVED, None, None
        assert pairing.listener_after(first) == settings.LISTENER_AFTER_SECONDS
        first.earlier_wait_seconds = 20.0  # a wait ended (a peer left before they met)
        assert pairing.listener_after(first) == settings.LISTENER_AFTER_SECONDS - 20
        db.session.commit()
        forget_redis(app)
        first.earlier_wait_seconds = settings.WAIT_TIMEOUT_SECONDS  # timed out, waits on
        db.session.commit()
        assert pairing.start_waiting(first) is not None
        assert [due for _, due in queued("offer_listener")] == [0.0]


def test_a_free_listener_is_rung_for_the_caller_waiting_longest_who_waited_long_enough(app):
    with app.app_context():
        listener = roster.add("Robin", "+15550100183", ["en"], "Europe/Berlin", ALWAYS)
        after = settings.LISTENER_AFTER_SECONDS
        _waited("b" * 64, after - 10)  # not yet: their own offer comes
        longest = _waited("c" * 64, 5, earlier=after)  # timed out once, waits on
        _waited("d" * 64, after + 5)
        longest.arrived_at = utcnow() - timedelta(minutes=3)
        db.session.commit()
        assert serve_waiting() == "0 met, 1 rung, 0 called back"
        (offer,) = db.session.scalars(select(ListenerOffer)).all()
        assert (offer.waiting_call_id, offer.listener_id) == (longest.id, listener.id)
        assert serve_waiting() == "0 met, 0 rung, 0 called back"  # nobody free: their phone rings


def test_a_listener_whose_call_ended_is_looked_for_when_their_rest_is_over(app):
    with app.app_context():
        roster.add("Robin", "+15550100184", ["en"], "Europe/Berlin", ALWAYS)
        call = _waited("e" * 64, settings.LISTENER_AFTER_SECONDS)
        taken = offers.claim_for(call)
        assert offers.close(taken, "taken")
        forget_redis(app)
        offers.call_ended(taken)  # the call they took ended just now
        ((args, due),) = queued("serve_waiting")
        assert args == (taken.listener_id,)
        rest = 60 * settings.LISTENER_REST_MINUTES
        assert rest - 2 < due <= rest + 1
        forget_redis(app)
        _waited("f" * 64, settings.LISTENER_AFTER_SECONDS + 1)
        assert serve_waiting(taken.listener_id) == "resting"  # run early: looks again then
        ((args, due),) = queued("serve_waiting")
        assert args == (taken.listener_id,) and rest - 2 < due <= rest + 1


def test_a_ring_that_came_to_nothing_frees_the_listener_for_another_caller(app):
    with app.app_context():
        roster.add("Robin", "+15550100185", ["en"], "Europe/Berlin", ALWAYS)
        offer = offers.claim_for(_waited("g" * 64, settings.LISTENER_AFTER_SECONDS))
        forget_redis(app)
        assert offers.close(offer, "no-answer")
        assert [args for args, _ in queued("serve_waiting")] == [()]
        assert jobs.SERVE_WAITING.lane == jobs.URGENT
