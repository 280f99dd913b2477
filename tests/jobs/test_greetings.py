"""A call that ends at the greeting is recorded even when its status callback is lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import calls
from app.line.models import Call
from tests.support import LINE, call_form
from twin.models import Call as TwinCall
from workers import greetings
from workers.greetings import reconcile_greetings


def _greeted(twilio, twin_api, number: str, status: str, **times) -> str:
    """A call the greeting answered, with the record Twilio keeps of it; its CallSid."""
    remote = TwinCall(twin_api.account_sid, number, LINE, status=status, **times)
    with twin_api.cond:
        twin_api.calls[remote.sid] = remote
    assert twilio.post("/twilio/voice", call_form(number, sid=remote.sid)).status_code == 200
    return remote.sid


def _greeted_ago(app, seconds: int) -> list[str]:
    """Make every noted greeting `seconds` old; the CallSids noted."""
    with app.app_context():
        conn, key = redis.connection(), redis.key(calls.GREETED)
        at = calls.epoch_ms(utcnow() - timedelta(seconds=seconds))
        sids = [s.decode() for s in conn.zrange(key, 0, -1)]
        conn.zadd(key, dict.fromkeys(sids, at))
        return sids


def _row(sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.sid == sid))


def test_a_call_that_left_at_the_greeting_is_recorded_when_its_callback_is_lost(
    app, twilio, twin_api, monkeypatch
):
    monkeypatch.setattr(greetings, "BATCH", 2)  # five entries: the sweep pages through them
    start = utcnow().replace(microsecond=0) - timedelta(minutes=3)
    ended = start + timedelta(seconds=7)
    lost = _greeted(
        twilio, twin_api, "+15550100131", "completed", start_time=start, end_time=ended, duration=7
    )
    still_on = _greeted(twilio, twin_api, "+15550100132", "in-progress", start_time=start)
    hidden = _greeted(twilio, twin_api, "+15550100134", "completed", start_time=start)
    twin_api.rest_faults.add(status=403, times=None, method="GET", path_contains=hidden)
    unknown = call_form("+15550100135")  # Twilio no longer has it (deleted): nothing to do
    twilio.post("/twilio/voice", unknown)
    pressed = call_form("+15550100133")
    twilio.post("/twilio/voice", pressed)
    twilio.post("/twilio/voice/menu", {**pressed, "Digits": "2"})
    with app.app_context():  # just greeted: their next webhooks may still come
        assert reconcile_greetings()["checked"] == 0
        assert _row(lost) is None
    greeted = [lost, still_on, hidden, unknown["CallSid"], pressed["CallSid"]]
    assert sorted(_greeted_ago(app, 180)) == sorted(greeted)
    with app.app_context():
        assert reconcile_greetings() == {
            "checked": 5,
            "recorded": 1,
            "unknown": 1,
            "unreachable": 1,
            "forgotten": 0,
        }
        db.session.expire_all()  # read back what was stored
        call = _row(lost)
        assert (call.state, call.outcome, call.duration_seconds) == ("ended", "hung_up_menu", 7)
        assert call.arrived_at == start and call.ended_at == ended
        assert call.masked_number == "+1 ••• •••• 31"
        assert "workers.privacy.after_call" in [j.func_name for j in jobs.AFTER_CALL.queue().jobs]
        assert _row(still_on) is None and _row(unknown["CallSid"]) is None
        conn = redis.connection()
        kept = sorted(s.decode() for s in conn.zrange(redis.key(calls.GREETED), 0, -1))
        assert kept == sorted([still_on, hidden])  # looked up again next time
        asked = [r.path for r in twin_api.requests if r.method == "GET"]
        assert not any(pressed["CallSid"] in path for path in asked)  # written: not asked


def test_sweeps_do_not_overlap_and_forget_after_a_day(app, twilio):
    twilio.post("/twilio/voice", call_form("+15550100136"))
    _greeted_ago(app, 2 * 86400)
    with app.app_context():
        conn = redis.connection()
        conn.set(redis.key("greetings-sweep"), 1)  # a sweep is running
        assert reconcile_greetings() == {"busy": 1}
        conn.delete(redis.key("greetings-sweep"))
        assert reconcile_greetings()["forgotten"] == 1
        assert conn.zcard(redis.key(calls.GREETED)) == 0
