"""A listener free with nobody waiting is someone free for the open call-back requests: the
line calls back the oldest requester a free listener may take, never more requesters at once
than listeners free, and on their 1 they wait with a listener rung for them at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.exceptions import RedisError
from sqlalchemy import select

from app import jobs
from app.callbacks import requests as callbacks
from app.callbacks.models import CallbackRequest, DropReason
from app.db import db, utcnow
from app.line.models import Report
from app.listeners import roster
from app.listeners.models import ListenerOffer, OfferState
from app.settings import settings
from tests.support import ALL_WEEK, call_form, forget_redis, queued, spoken, twiml, waiting_call
from workers.callbacks import expire_callbacks
from workers.listeners import offer_listener, serve_waiting

NUMBERS = ("+15550100191", "+15550100192")


def _request(identity: str, minutes_ago: float, language: str = "en") -> CallbackRequest:
    wanted = CallbackRequest(
        identity=identity,
        open_for=identity,
        number_encrypted=b"x",
        masked_number="+1 ••• •••• 91",
        requested_at=utcnow() - timedelta(minutes=minutes_ago),
        expires_at=utcnow() + timedelta(hours=1),
        language=language,
    )
    db.session.add(wanted)
    return wanted


def _states() -> list[tuple[str, bool]]:
    rows = db.session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).all()
    return [(row.state, row.for_listener) for row in rows]


def test_the_oldest_requester_is_called_back_when_a_listener_is_free(app):
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        newer, older = _request("n" * 64, 1), _request("o" * 64, 5)
        db.session.commit()
        forget_redis(app)
        assert serve_waiting() == "0 met, 0 rung, 1 called back"
        assert _states() == [("open", False), ("calling", True)]  # the older one
        assert [args for args, _ in queued("place_callback")] == [(older.id,)]
        # One listener free, and a call-back already holds them: nobody else is called.
        assert serve_waiting() == "0 met, 0 rung, 0 called back"
        assert _states()[0] == ("open", False) and newer.id


def test_no_more_requesters_are_called_at_once_than_listeners_free(app):
    with app.app_context():
        for number in NUMBERS:
            roster.add("Robin", number, ["en"], "Europe/Berlin", ALL_WEEK)
        for index in range(3):
            _request(str(index) * 64, 10 - index)
        db.session.commit()
        assert callbacks.serve_with_listeners() == 2
        assert [state for state, _ in _states()] == ["calling", "calling", "open"]
        assert callbacks.claiming_for_listeners() == 2


def test_a_caller_already_waiting_meets_a_request_before_a_free_listener_does(app):
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        alice = waiting_call("a" * 64)  # began waiting before the request was asked
        db.session.commit()
        wanted = _request("r" * 64, 0)
        db.session.commit()
        forget_redis(app)
        assert serve_waiting() == "1 met, 0 rung, 0 called back"
        db.session.refresh(wanted)
        assert (wanted.state, wanted.for_listener, wanted.waiting_call_id) == (
            "calling",
            False,
            alice.id,
        )
        assert [args for args, _ in queued("place_callback")] == [(wanted.id,)]
        assert db.session.scalars(select(ListenerOffer)).all() == []  # Robin stays free


def test_a_call_back_dropped_with_nobody_else_to_call_looks_for_a_listener(app):
    with app.app_context():
        alice = waiting_call("a" * 64)
        wanted = _request("r" * 64, 1)
        db.session.flush()
        wanted.state, wanted.waiting_call_id = "calling", alice.id
        db.session.commit()
        forget_redis(app)
        assert callbacks.drop(wanted, DropReason.NO_ANSWER)
        assert [args for args, _ in queued("serve_waiting")] == [()]


def test_a_caller_a_listener_is_rung_for_is_left_to_the_listener(app):
    with app.app_context():
        listener = roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        alice = waiting_call("a" * 64)
        db.session.flush()
        db.session.add(
            ListenerOffer(
                listener_id=listener.id,
                waiting_call_id=alice.id,
                wait_token=alice.wait_token,
                state=OfferState.RINGING,
            )
        )
        _request("r" * 64, 0)
        db.session.commit()
        assert callbacks.serve_waiting_callers() == 0
        assert _states() == [("open", False)]


def test_a_dropped_call_back_frees_its_listener_for_the_next_request(app):
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        first, _ = _request("f" * 64, 5), _request("s" * 64, 1)
        db.session.commit()
        assert callbacks.serve_with_listeners() == 1
        forget_redis(app)
        db.session.refresh(first)
        assert callbacks.drop(first, DropReason.NO_ANSWER)
        assert [args for args, _ in queued("serve_waiting")] == [()]
        assert serve_waiting() == "0 met, 0 rung, 1 called back"
        assert [state for state, _ in _states()] == ["dropped", "calling"]


@pytest.mark.parametrize("why", ["paused", "language", "reported", "ringing"])
def test_nobody_is_called_back_without_a_listener_who_may_take_them(app, why):
    with app.app_context():
        listener = roster.add(
            "Robin", NUMBERS[0], ["de" if why == "language" else "en"], "UTC", ALL_WEEK
        )
        listener.paused = why == "paused"
        wanted = _request("r" * 64, 5)
        db.session.flush()
        if why == "reported":  # the requester reported the listener once
            db.session.add(Report(reporter=wanted.identity, reported=listener.identity))
        if why == "ringing":  # their phone rings for a caller waiting
            db.session.add(ListenerOffer(listener_id=listener.id, wait_token="t" * 16))
        db.session.commit()
        assert callbacks.serve_with_listeners() == 0
        assert _states() == [("open", False)]


def test_requests_in_a_language_nobody_free_speaks_do_not_hide_a_newer_one(app):
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        for index in range(callbacks.CANDIDATES):  # older, all in German
            _request(f"{index:064d}", 30 - index / 100, language="de")
        english = _request("e" * 64, 1)
        db.session.commit()
        assert callbacks.serve_with_listeners() == 1
        db.session.refresh(english)
        assert english.state == "calling"


def test_asking_for_a_call_back_looks_for_a_free_listener(twilio, app):
    form = call_form("+15550100193")
    twilio.post("/twilio/voice", form)
    with app.app_context():
        forget_redis(app)
    said = spoken(twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "3"})))
    assert "call you back" in said
    with app.app_context():
        assert [args for args, _ in queued("serve_waiting")] == [()]


def test_a_requester_called_back_for_a_listener_waits_with_one_rung_at_once(twilio, app):
    number = "+15550100194"
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        db.session.commit()
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    twilio.post("/twilio/voice/menu", {**form, "Digits": "3"})
    with app.app_context():
        assert callbacks.serve_with_listeners() == 1
        (wanted,) = db.session.scalars(select(CallbackRequest)).all()
        wanted.call_sid = "CA" + "b" * 32  # the call-back Twilio placed
        db.session.commit()
        forget_redis(app)
    back = call_form(number, sid=wanted.call_sid, Direction="outbound-api")
    said = spoken(
        twiml(
            twilio.post(
                f"/twilio/voice/callback/choice?request={wanted.id}", {**back, "Digits": "1"}
            )
        )
    )
    assert "volunteer listeners" in said
    with app.app_context():
        assert _states() == [("connected", True)]
        assert [due for _, due in queued("offer_listener")] == [0.0]
        assert settings.LISTENER_AFTER_SECONDS > 0  # a caller's own wait would wait for it


def test_the_minute_job_calls_back_for_a_listener_whose_hours_began(app):
    with app.app_context():
        listener = roster.add("Robin", NUMBERS[0], ["en"], "UTC", ALL_WEEK)
        _request("h" * 64, 5)
        listener.paused = True  # as good as off their hours: nobody may be rung
        db.session.commit()
        assert expire_callbacks()["called back"] == 0
        listener.paused = False
        db.session.commit()
        assert expire_callbacks() == {
            "expired": 0,
            "lost": 0,
            "forgotten": 0,
            "met": 0,
            "rung": 0,
            "called back": 1,
        }
        assert _states() == [("calling", True)]


def test_the_minute_job_has_a_caller_waiting_meet_a_request_the_search_missed(app):
    with app.app_context():
        waiting_call("a" * 64)
        _request("r" * 64, 0)  # asked while the job queue was down: no search was queued
        db.session.commit()
        assert expire_callbacks()["met"] == 1
        assert _states() == [("calling", False)]


def test_a_request_is_noted_when_the_listeners_cannot_be_told_at_once(twilio, app, monkeypatch):
    def down(*args, **kwargs):
        raise RedisError("Redis is down")

    monkeypatch.setattr(jobs.Job, "enqueue", down)
    form = call_form("+15550100195")
    twilio.post("/twilio/voice", form)
    said = spoken(twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "3"})))
    assert "call you back" in said
    with app.app_context():
        assert _states() == [("open", False)]


def test_a_listener_offer_that_runs_before_the_waits_own_claim_calls_the_requester_first(app):
    """At a quiet hour the offer is queued due at once, and may run before the web request
    that began the wait has claimed an open request: it claims it itself."""
    with app.app_context():
        roster.add("Robin", NUMBERS[0], ["en"], "Europe/Berlin", ALL_WEEK)
        wanted = _request("r" * 64, 1)
        call = waiting_call("w" * 64)
        db.session.commit()
        forget_redis(app)
        assert offer_listener(call.id, call.wait_token) == "call-back ringing"
        assert _states() == [("calling", False)]
        assert db.session.scalars(select(ListenerOffer)).all() == []
        assert [args for args, _ in queued("place_callback")] == [(wanted.id,)]
        (due,) = [due for _, due in queued("offer_listener")]  # looks again after
        assert 0 < due <= settings.RINGING_RECHECK_SECONDS


def test_the_minute_job_rings_a_listener_whose_hours_began_for_a_caller_waiting(app):
    """At a quiet hour a caller's offer comes as the wait begins; a listener whose hours
    begin during the wait is rung for them by the minute job."""
    with app.app_context():
        listener = roster.add("Robin", NUMBERS[0], ["en"], "UTC", ALL_WEEK)
        listener.paused = True  # as good as off their hours
        call = waiting_call("q" * 64)
        db.session.commit()
        assert expire_callbacks()["rung"] == 0
        listener.paused = False
        db.session.commit()
        assert expire_callbacks()["rung"] == 1
        (offer,) = db.session.scalars(select(ListenerOffer)).all()
        assert (offer.waiting_call_id, offer.listener_id) == (call.id, listener.id)
