"""After Redis loses the waiting pool, reconciliation rebuilds it from the database."""

from __future__ import annotations

from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import pool
from app.line.models import Call, CallState
from tests.support import call_form, forget_redis, twiml
from workers.waiting import reconcile_waiting


def _wait(twilio, number):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))
    return form


def test_lost_pool_is_rebuilt_and_overdue_waits_expire(twilio, app):
    # A caller is never paired with themself, so the same number twice gives two waiters.
    _wait(twilio, "+15550100061")
    _wait(twilio, "+15550100061")
    with app.app_context():
        calls = db.session.scalars(select(Call).order_by(Call.id)).all()
        recent, overdue = calls
        recent.wait_started_at = utcnow() - timedelta(seconds=10)
        overdue.wait_started_at = utcnow() - timedelta(seconds=600)
        db.session.commit()
        forget_redis(app)  # Redis restarted with nothing: pool, counters and RQ's jobs are gone

        assert reconcile_waiting() == {"restored": 1, "expired": 1, "dropped": 0, "lost_offers": 0}
        assert pool.is_waiting(recent.wait_token) and pool.is_waiting(overdue.wait_token)
        scheduled = ScheduledJobRegistry(queue=jobs.EXPIRE_WAIT.queue()).get_job_ids()
        queued = jobs.EXPIRE_WAIT.queue().get_job_ids()
        assert f"expire-{recent.wait_token}" in scheduled
        assert f"expire-{overdue.wait_token}" in queued + scheduled
        # A second run finds everything in place and changes nothing.
        assert reconcile_waiting() == {"restored": 0, "expired": 0, "dropped": 0, "lost_offers": 0}


def test_a_caller_paired_while_the_pool_is_rebuilt_is_not_put_back(twilio, app, monkeypatch):
    _wait(twilio, "+15550100062")
    with app.app_context():
        (call,) = db.session.scalars(select(Call)).all()
        call.wait_started_at = utcnow() - timedelta(seconds=10)
        db.session.commit()
        token, seen = call.wait_token, pool.is_waiting

        def paired_meanwhile(wait_token: str) -> bool:
            """The pool read just after a pairing took the caller and committed their match."""
            pool.leave(wait_token)
            with db.engine.begin() as conn:
                conn.execute(update(Call).values(state=CallState.MATCHED))
            return seen(wait_token)

        monkeypatch.setattr(pool, "is_waiting", paired_meanwhile)
        assert reconcile_waiting()["restored"] == 0
        monkeypatch.setattr(pool, "is_waiting", seen)
        assert not pool.is_waiting(token) and pool.waiting_count() == 0


def test_an_entry_of_a_caller_no_longer_waiting_is_taken_out_of_the_pool(twilio, app):
    _wait(twilio, "+15550100063")
    _wait(twilio, "+15550100063")  # the same caller twice: two waiters, never paired
    with app.app_context():
        gone, stays = db.session.scalars(select(Call).order_by(Call.id)).all()
        for call in (gone, stays):
            call.wait_started_at = utcnow() - timedelta(seconds=10)
        gone.state = CallState.MATCHED  # paired as a rebuild put them back: a stale entry
        db.session.commit()
        for call in (gone, stays):  # both entries settled, as their waits are
            redis.connection().zadd(pool.pool_key(), {call.wait_token: 0})
        assert reconcile_waiting()["dropped"] == 1
        assert not pool.is_waiting(gone.wait_token) and pool.is_waiting(stays.wait_token)
