"""Reports, blocks and the hourly limit, at the domain and webhook level."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import create_app
from app.db import db, utcnow
from app.line import safety
from app.line.models import Block, Call, Conversation
from tests.support import Twilio, call_form, spoken, twiml


def _call(identity: str) -> Call:
    call = Call(sid=f"CA{identity:0>32}", identity=identity, masked_number="+1 ••• •••• 01")
    db.session.add(call)
    db.session.commit()
    return call


def test_reports_exclude_the_pair_both_ways_and_enough_reporters_block(app):
    app.config["REPORTS_TO_BLOCK"] = 2
    with app.app_context():
        target, first, second = _call("t"), _call("a"), _call("b")
        room = Conversation(room="r1")
        db.session.add(room)
        db.session.commit()
        assert safety.report(first, target, room)
        assert not safety.report(first, target, room)  # the same report twice counts once
        assert safety.excluded_partners("a") == {"a", "t"}
        assert safety.excluded_partners("t") == {"t", "a"}
        assert safety.active_block("t") is None
        safety.report(second, target, None)
        block = safety.active_block("t")
        assert block is not None and block.masked_number == "+1 ••• •••• 01"
        assert safety.active_block("a") is None


def test_a_report_is_respected_by_the_next_pairing_though_reports_were_read_before(app):
    with app.app_context():
        target, reporter = _call("t"), _call("a")
        assert safety.excluded_partners("a") == {"a"}  # read, and kept by this process
        safety.report(reporter, target, None)
        assert safety.excluded_partners("a") == {"a", "t"}
        assert safety.excluded_partners("t") == {"t", "a"}


def test_the_same_reporter_twice_does_not_block(app):
    app.config["REPORTS_TO_BLOCK"] = 2
    with app.app_context():
        target, reporter = _call("t"), _call("a")
        for _ in range(3):
            safety.report(reporter, target, None)
        assert safety.active_block("t") is None


def test_blocks_expire_and_can_be_lifted(app):
    with app.app_context():
        expired = Block(identity="x", reason="test", expires_at=utcnow() - timedelta(seconds=1))
        active = Block(identity="y", reason="test", expires_at=utcnow() + timedelta(days=1))
        db.session.add_all([expired, active])
        db.session.commit()
        assert safety.active_block("x") is None and not safety.is_blocked("x")
        assert safety.active_block("y") is not None and safety.is_blocked("y")
        assert safety.lift(active.id)
        assert not safety.lift(active.id)
        assert safety.active_block("y") is None
        assert not safety.is_blocked("y")  # the lift moved the cached blocks' version


def test_a_blocked_caller_hears_why_and_is_hung_up(twilio, app):
    form = call_form("+15550100401")
    twilio.post("/twilio/voice", form)
    twilio.post("/twilio/voice/menu", {**form, "Digits": "2"})
    with app.app_context():
        identity = db.session.scalar(select(Call.identity))
        db.session.add(Block(identity=identity, reason="t", expires_at=utcnow() + timedelta(1)))
        db.session.commit()
    again = call_form("+15550100401")
    root = twiml(twilio.post("/twilio/voice", again))
    assert "closed to you" in spoken(root) and root[-1].tag == "Hangup"
    with app.app_context():  # a call turned away is recorded at once: no webhook follows
        turned_away = db.session.scalar(select(Call).where(Call.sid == again["CallSid"]))
        assert turned_away.outcome == "blocked" and turned_away.identity == identity


def test_hourly_limit_is_kept_in_redis_across_web_restarts(app, within_one_hour):
    app.config["CALLS_PER_HOUR_LIMIT"] = 2
    first = Twilio(app.test_client())
    for _ in range(2):
        assert (
            twiml(first.post("/twilio/voice", call_form("+15550100402"))).find("Gather") is not None
        )
    restarted = create_app({"TESTING": True, "CALLS_PER_HOUR_LIMIT": 2})
    root = twiml(Twilio(restarted.test_client()).post("/twilio/voice", call_form("+15550100402")))
    assert "take a break" in spoken(root)


def test_replays_of_one_signed_greeting_count_as_one_call(twilio, app, within_one_hour):
    assert app.config["CALLS_PER_HOUR_LIMIT"] == 20  # the default: 21 requests would pass it
    form = call_form("+15550100403")
    for _ in range(1 + 20):  # the call, then the same signed request replayed 20 times
        assert twiml(twilio.post("/twilio/voice", form)).find("Gather") is not None
    root = twiml(twilio.post("/twilio/voice", call_form("+15550100403")))  # a new call
    assert root.find("Gather") is not None and "take a break" not in spoken(root)


def test_a_replayed_greeting_keeps_the_verdict_its_call_first_had(twilio, app, within_one_hour):
    app.config["CALLS_PER_HOUR_LIMIT"] = 2
    first, second, third = (call_form("+15550100404") for _ in range(3))
    for form in (first, second):
        assert twiml(twilio.post("/twilio/voice", form)).find("Gather") is not None
    assert "take a break" in spoken(twiml(twilio.post("/twilio/voice", third)))
    assert twiml(twilio.post("/twilio/voice", first)).find("Gather") is not None  # a retry
    assert "take a break" in spoken(twiml(twilio.post("/twilio/voice", third)))
