"""A wait's time-out or listener offer that finds a listener's phone ringing looks again after
RINGING_RECHECK_SECONDS (a benchmark's compressed clock sets it below a second)."""

from __future__ import annotations

import time

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app.db import db
from app.infra import redis
from app.listeners import offers, roster
from tests.support import waiting_call
from workers.listeners import offer_listener
from workers.waiting import expire_wait


def _due_in(name: str) -> list[float]:
    """Seconds from now until each scheduled run of the job `name` (RQ keeps whole seconds)."""
    found = []
    for queue in redis.queues():
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            if Job.fetch(job_id, connection=redis.connection()).func_name.endswith(name):
                found.append(registry.get_scheduled_time(job_id).timestamp() - time.time())
    return found


@pytest.mark.parametrize("recheck", [0.04, 30])
def test_a_time_out_while_a_listener_rings_looks_again_after_the_setting(app, recheck):
    app.config["RINGING_RECHECK_SECONDS"] = recheck
    with app.app_context():
        roster.add("Robin", "+15550100185", ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        call = waiting_call("e" * 64)
        db.session.commit()
        assert offers.claim_for(call) is not None  # the listener's phone rings
        assert expire_wait(call.id, call.wait_token) == "listener ringing"
        (due,) = _due_in("expire_wait")
        assert recheck - 1.5 < due <= recheck + 0.5


def test_an_offer_while_a_call_back_rings_looks_again_after_the_setting(app, monkeypatch):
    app.config["RINGING_RECHECK_SECONDS"] = 30
    monkeypatch.setattr("workers.listeners.callbacks.calling_for", lambda call_id: True)
    with app.app_context():
        call = waiting_call("f" * 64)
        db.session.commit()
        assert offer_listener(call.id, call.wait_token) == "call-back ringing"
        (due,) = _due_in("offer_listener")
        assert 28.5 < due <= 30.5
