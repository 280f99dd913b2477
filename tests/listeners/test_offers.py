"""Who is offered a waiting caller: a listener in their hours, not paused, rested, speaking
the caller's language, with no report either way; one listener is claimed once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import db, utcnow
from app.line.models import Call, Report
from app.listeners import offers, roster
from app.listeners.models import Listener, ListenerOffer, OfferState
from app.settings import settings
from tests.support import together, waiting_call

ALWAYS = "mon-sun 00:00-24:00"
LISTENER = "+15550100181"


def _waiting(identity: str, language: str = "en") -> Call:
    call = waiting_call(identity, language)
    db.session.commit()
    return call


def _enlist(number: str = LISTENER, languages=("en",), weekly: str = ALWAYS) -> Listener:
    listener = roster.add("Robin", number, list(languages), "Europe/Berlin", weekly)
    db.session.commit()
    return listener


def _closed_now() -> str:
    """Hours that exclude this moment in Berlin: one hour, twelve hours from now."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    later = (utcnow() + timedelta(hours=12)).astimezone(ZoneInfo("Europe/Berlin"))
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[later.weekday()]
    return f"{day} {later.hour:02d}:00-{later.hour:02d}:59"


def test_an_available_listener_is_claimed_and_rested(app):
    with app.app_context():
        listener = _enlist()
        call = _waiting("a" * 64)
        offer = offers.claim_for(call)
        assert offer is not None and offer.listener_id == listener.id
        assert offers.ringing_for(call.id)
        assert offers.claim_for(call) is None  # one rings already
        db.session.refresh(listener)
        assert listener.last_called_at is not None
        other = _waiting("b" * 64)
        assert offers.claim_for(other) is None  # rested, though free


@pytest.mark.parametrize(
    "why", ["paused", "outside their hours", "another language", "rested", "reported"]
)
def test_a_listener_who_may_not_take_the_caller_is_not_called(app, why):
    with app.app_context():
        listener = _enlist(
            languages=("de",) if why == "another language" else ("en",),
            weekly=_closed_now() if why == "outside their hours" else ALWAYS,
        )
        listener.paused = why == "paused"
        if why == "rested":
            listener.last_called_at = utcnow() - timedelta(minutes=29)
        call = _waiting("c" * 64)
        if why == "reported":
            db.session.add(Report(reporter=call.identity, reported=listener.identity))
        db.session.commit()
        assert offers.claim_for(call) is None
        assert db.session.scalars(select(ListenerOffer)).all() == []


def test_a_listener_who_reported_the_caller_is_not_called_and_the_rest_ends(app):
    with app.app_context():
        listener = _enlist()
        call = _waiting("d" * 64)
        db.session.add(Report(reporter=listener.identity, reported=call.identity))
        db.session.commit()
        assert offers.claim_for(call) is None
        other = _waiting("e" * 64)
        db.session.execute(update(Listener).values(last_called_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
        assert offers.claim_for(other) is not None  # rested long enough


@pytest.mark.parametrize("ending", ["no-answer", "declined", "busy", "machine", "gone"])
def test_a_ring_that_came_to_nothing_does_not_rest_the_listener(app, ending):
    with app.app_context():
        listener = _enlist()
        offer = offers.claim_for(_waiting("g" * 64))
        other = _waiting("h" * 64)
        assert offers.claim_for(other) is None  # held while their phone rings
        assert offers.close(offer, ending, try_next=False)
        db.session.refresh(listener)
        assert listener.last_called_at is None  # they never took a call
        again = offers.claim_for(other)  # the next caller waiting alone: rung at once
        assert again is not None and again.listener_id == listener.id


def test_the_rest_runs_from_the_last_call_taken_whatever_came_of_later_rings(app):
    with app.app_context():
        listener = _enlist()
        taken = offers.claim_for(_waiting("i" * 64))
        assert offers.close(taken, "taken")
        db.session.refresh(listener)
        assert offers.claim_for(_waiting("j" * 64)) is None  # resting after the call they took
        earlier = utcnow() - timedelta(minutes=31)  # that call was half an hour ago
        db.session.execute(update(ListenerOffer).values(started_at=earlier))
        db.session.execute(update(Listener).values(last_called_at=earlier))
        db.session.commit()
        missed = offers.claim_for(_waiting("k" * 64))
        assert missed is not None
        assert offers.close(missed, "no-answer", try_next=False)
        db.session.refresh(listener)
        assert abs((listener.last_called_at - earlier).total_seconds()) < 1
        assert offers.claim_for(_waiting("l" * 64)) is not None


def test_a_listener_who_passes_has_the_next_tried_and_is_not_tried_twice(app):
    with app.app_context():
        app.config["LISTENER_REST_MINUTES"] = 0
        first = _enlist()
        second = _enlist("+15550100182")
        call = _waiting("f" * 64)
        offer = offers.claim_for(call)
        assert offers.close(offer, "declined")
        tried = [o.listener_id for o in db.session.scalars(select(ListenerOffer))]
        assert sorted(tried) == sorted([first.id, second.id])
        latest = db.session.scalars(select(ListenerOffer).order_by(ListenerOffer.id)).all()[-1]
        offers.close(latest, "no-answer")
        assert len(db.session.scalars(select(ListenerOffer)).all()) == 2  # nobody left


def test_two_callers_at_once_claim_one_listener_once(app):
    with app.app_context():
        _enlist()
        ids = [_waiting(f"{i}" * 64).id for i in (1, 2)]
    claims, lock = [], threading.Lock()

    def claim() -> None:
        with lock:
            mine = ids.pop()
        won = offers.claim_for(db.session.get(Call, mine))
        with lock:
            claims.append(won is not None)
        db.session.remove()

    together(2, claim, app.app_context)
    assert sorted(claims) == [False, True]
    with app.app_context():
        assert len(db.session.scalars(select(ListenerOffer)).all()) == 1


def test_an_offer_no_news_came_of_is_closed_and_the_next_listener_tried(app):
    with app.app_context():
        first = _enlist()
        second = _enlist("+15550100182")
        call = _waiting("a" * 64)
        offer = offers.claim_for(call)
        assert offers.close_lost() == 0  # still within its ring time
        lost_at = utcnow() - timedelta(seconds=settings.LISTENER_RING_SECONDS) - offers.LOST_AFTER
        db.session.execute(update(ListenerOffer).values(started_at=lost_at))
        db.session.commit()
        assert offers.close_lost() == 1 and offers.close_lost() == 0
        db.session.refresh(offer)
        assert offer.state == OfferState.LOST
        (ringing,) = db.session.scalars(
            select(ListenerOffer).where(ListenerOffer.state == OfferState.RINGING)
        ).all()
        assert {offer.listener_id, ringing.listener_id} == {first.id, second.id}
