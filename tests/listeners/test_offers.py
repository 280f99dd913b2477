"""Who is offered a waiting caller: a listener in their hours, not paused, not on a call nor
resting after one, speaking the caller's language, with no report either way; one listener
is claimed once, and one caller has one listener rung at a time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.callbacks.models import CallbackRequest, CallbackState
from app.db import db, utcnow
from app.infra import redis
from app.line.models import Call, CallMode, CallState, Report
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


def _took_a_call(listener: Listener, ended_ago: float | None, started_ago: float = 20) -> None:
    """The listener took a call `started_ago` minutes ago that ended `ended_ago` minutes ago
    (None: they are on it still)."""
    now = utcnow()
    sid = f"CA{listener.id:032d}"
    db.session.add(
        Call(
            sid=sid,
            identity=listener.identity,
            masked_number=listener.masked_number,
            mode=CallMode.LISTENER,
            state=CallState.MATCHED if ended_ago is None else CallState.ENDED,
            ended_at=None if ended_ago is None else now - timedelta(minutes=ended_ago),
        )
    )
    db.session.add(
        ListenerOffer(
            listener_id=listener.id,
            wait_token="t" * 16,
            state=OfferState.TAKEN,
            call_sid=sid,
            started_at=now - timedelta(minutes=started_ago),
            closed_at=now - timedelta(minutes=started_ago),
        )
    )
    listener.last_called_at = now - timedelta(minutes=started_ago)
    db.session.commit()


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
        assert offers.claim_for(other) is None  # held while their phone rings


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
            _took_a_call(listener, ended_ago=settings.LISTENER_REST_MINUTES - 1)
        call = _waiting("c" * 64)
        if why == "reported":
            db.session.add(Report(reporter=call.identity, reported=listener.identity))
        db.session.commit()
        assert offers.claim_for(call) is None
        rung = select(ListenerOffer).where(ListenerOffer.wait_token == call.wait_token)
        assert db.session.scalars(rung).all() == []


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


@pytest.mark.parametrize(
    ("ended_ago", "rung"),
    [(None, False), (1, False), (3, True)],
    ids=["on the call", "resting", "rested"],
)
def test_the_rest_runs_from_the_end_of_the_call_taken(app, ended_ago, rung):
    with app.app_context():
        assert settings.LISTENER_REST_MINUTES == 2  # the default: a breather between calls
        listener = _enlist()
        _took_a_call(listener, ended_ago, started_ago=20)  # claimed well past any rest
        offer = offers.claim_for(_waiting("m" * 64))
        assert (offer is not None) is rung
        left = offers.rest_left(listener.id)
        assert left == 0 if ended_ago != 1 else 50 < left <= 60


def test_a_ring_that_came_to_nothing_leaves_the_rest_where_it_was(app):
    with app.app_context():
        listener = _enlist()
        taken = offers.claim_for(_waiting("i" * 64))
        assert offers.close(taken, "taken")
        assert offers.claim_for(_waiting("j" * 64)) is None  # resting after the call they took
        earlier = utcnow() - timedelta(minutes=settings.LISTENER_REST_MINUTES + 1)
        db.session.execute(update(ListenerOffer).values(started_at=earlier, closed_at=earlier))
        db.session.execute(update(Listener).values(last_called_at=earlier))
        db.session.commit()
        missed = offers.claim_for(_waiting("k" * 64))
        assert missed is not None
        assert offers.close(missed, "no-answer", try_next=False)
        db.session.refresh(listener)
        assert abs((listener.last_called_at - earlier).total_seconds()) < 1
        assert offers.claim_for(_waiting("l" * 64)) is not None


def _claimed_at_once(app, call_ids: list[int]) -> list[bool]:
    """Claim a listener for each of these calls, all at once: which claims won, sorted."""
    claims, lock = [], threading.Lock()

    def claim() -> None:
        with lock:
            mine = call_ids.pop()
        won = offers.claim_for(db.session.get(Call, mine))
        with lock:
            claims.append(won is not None)
        db.session.remove()

    together(len(call_ids), claim, app.app_context)
    return sorted(claims)


def test_one_caller_claimed_twice_at_once_has_one_listener_rung(app):
    app.config["LISTENERS_RUNG_AT_ONCE"] = 1
    with app.app_context():
        _enlist()
        _enlist("+15550100182")
        call_id = _waiting("n" * 64).id
    assert _claimed_at_once(app, [call_id, call_id]) == [False, True]
    with app.app_context():
        assert len(db.session.scalars(select(ListenerOffer)).all()) == 1


def test_no_listener_is_rung_for_a_caller_a_call_back_rings_for(app):
    with app.app_context():
        _enlist()
        call = _waiting("c" * 64)
        db.session.add(
            CallbackRequest(
                identity="r" * 64,
                masked_number="+1 ••• •••• 51",
                expires_at=utcnow() + timedelta(hours=1),
                state=CallbackState.CALLING,
                waiting_call_id=call.id,
            )
        )
        db.session.commit()
        assert offers.claim_for(call) is None
        assert db.session.scalars(select(ListenerOffer)).all() == []


def test_no_listener_is_rung_for_a_caller_no_longer_on_that_wait(app):
    with app.app_context():
        _enlist()
        call = _waiting("g" * 64)
        db.session.execute(
            update(Call)
            .where(Call.id == call.id)
            .values(state=CallState.AFTER)  # their wait ended in another process
            .execution_options(synchronize_session=False)
        )
        assert offers.claim_for(call) is None
        assert db.session.scalars(select(ListenerOffer)).all() == []


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
        offers.close(latest, "no-answer")  # the one who did not answer is rung once more
        rung = db.session.scalars(select(ListenerOffer).order_by(ListenerOffer.id)).all()
        assert [o.listener_id for o in rung] == [first.id, second.id, second.id]
        offers.close(rung[-1], "no-answer")
        assert len(db.session.scalars(select(ListenerOffer)).all()) == 3  # nobody left


def _offers_on(call: Call) -> list[ListenerOffer]:
    return db.session.scalars(
        select(ListenerOffer)
        .where(ListenerOffer.wait_token == call.wait_token)
        .order_by(ListenerOffer.id)
    ).all()


@pytest.mark.parametrize("missed", offers.MISSED)
@pytest.mark.parametrize("rings", [1, 2, 3])
def test_a_listener_who_missed_the_ring_is_rung_again_up_to_the_rings_per_wait(app, missed, rings):
    app.config["LISTENER_RINGS_PER_WAIT"] = rings
    with app.app_context():
        listener = _enlist()
        call = _waiting("m" * 64)
        offer = offers.claim_for(call)
        for _ in range(rings):
            assert offer is not None and offer.listener_id == listener.id
            assert offers.close(offer, missed)
            offer = next((o for o in _offers_on(call) if o.state == OfferState.RINGING), None)
        assert offer is None  # rung `rings` times in all, then the caller waits on
        assert [o.state for o in _offers_on(call)] == [missed] * rings
        assert offers.claim_for(_waiting("n" * 64)) is not None  # free for the next caller


@pytest.mark.parametrize("ending", ["declined", "failed", "unreachable", "gone"])
@pytest.mark.parametrize("missed_first", [False, True])
def test_a_ring_the_listener_did_not_miss_is_not_repeated_for_the_wait(app, ending, missed_first):
    app.config["LISTENER_RINGS_PER_WAIT"] = 3
    with app.app_context():
        _enlist()
        call = _waiting("r" * 64)
        offer = offers.claim_for(call)
        if missed_first:
            assert offers.close(offer, "no-answer")
            offer = _offers_on(call)[-1]
        assert offers.close(offer, ending)
        assert offers.claim_for(call) is None
        assert [o.state for o in _offers_on(call)] == ["no-answer"] * missed_first + [ending]


def test_a_listener_not_yet_rung_for_the_caller_comes_before_one_rung_again(app):
    app.config["LISTENERS_RUNG_AT_ONCE"] = 1
    with app.app_context():
        first, second = _enlist(), _enlist("+15550100182")
        call = _waiting("s" * 64)
        assert offers.close(offers.claim_for(call), "no-answer")
        assert offers.close(_offers_on(call)[-1], "busy")
        assert offers.close(_offers_on(call)[-1], "no-answer")
        assert offers.close(_offers_on(call)[-1], "machine")
        assert [o.listener_id for o in _offers_on(call)] == [first.id, second.id] * 2
        assert offers.claim_for(call) is None  # each rung twice: nobody left


def test_two_callers_at_once_claim_one_listener_once(app):
    with app.app_context():
        _enlist()
        ids = [_waiting(f"{i}" * 64).id for i in (1, 2)]
    assert _claimed_at_once(app, ids) == [False, True]
    with app.app_context():
        assert len(db.session.scalars(select(ListenerOffer)).all()) == 1


def test_an_offer_no_news_came_of_is_closed_and_the_next_listener_tried(app):
    app.config["LISTENERS_RUNG_AT_ONCE"] = 1
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


@pytest.mark.parametrize("at_once", [1, 2, 3])
def test_free_listeners_are_rung_at_once_and_the_first_to_take_the_caller_stops_the_rest(
    app, at_once
):
    app.config["LISTENERS_RUNG_AT_ONCE"] = at_once
    with app.app_context():
        first, second = _enlist(), _enlist("+15550100182")
        call = _waiting("o" * 64)
        offer = offers.claim_for(call)
        rung = db.session.scalars(select(ListenerOffer).order_by(ListenerOffer.id)).all()
        assert [o.listener_id for o in rung] == [first.id, second.id][:at_once]
        assert offer.id == rung[0].id and all(o.state == OfferState.RINGING for o in rung)
        assert offers.close(rung[-1], OfferState.TAKEN)
        offers.taken_elsewhere(rung[-1])
        for other in rung[:-1]:
            db.session.refresh(other)
            assert other.state == OfferState.ELSEWHERE
        stopped = [
            job.args
            for queue in redis.queues()
            for job in queue.jobs
            if job.func_name.endswith("stop_ringing")
        ]
        assert stopped == [(o.id,) for o in rung[:-1]]
        if at_once > 1:  # the one who did not take the caller is free for the next
            again = offers.claim_for(_waiting("p" * 64))
            assert again is not None and again.listener_id == rung[0].listener_id


def test_a_ring_group_rings_again_only_when_no_listener_not_yet_rung_is_free(app):
    with app.app_context():  # two rung at once: the one who missed it waits for a second ring
        first = _enlist()
        call = _waiting("u" * 64)
        offers.claim_for(call)
        second = _enlist("+15550100182")  # on the roster once the first is being rung
        assert offers.close(_offers_on(call)[-1], "no-answer")
        assert [(o.listener_id, o.state) for o in _offers_on(call)] == [
            (first.id, OfferState.NO_ANSWER),
            (second.id, OfferState.RINGING),
        ]
