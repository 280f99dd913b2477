"""A caller who has waited LISTENER_AFTER_SECONDS is offered a listener at once: the seconds
count all their waits on the call, so one who waits on after "nobody is free" has the offer
queued now, not 45 s into the new wait."""

from __future__ import annotations

import time
from datetime import timedelta

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app.db import db, utcnow
from app.infra import redis
from app.line import pairing
from app.line.models import Call, CallState
from app.settings import settings
from tests.support import waiting_call

ALWAYS = "mon-sun 00:00-24:00"


def _queued(name: str) -> list[tuple[tuple, float]]:
    """Each queued or scheduled run of the job `name`: its arguments, and seconds until it is
    due (0 for one queued now)."""
    found = []
    for queue in redis.queues():
        for job in queue.jobs:
            if job.func_name.endswith(name):
                found.append((tuple(job.args), 0.0))
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=redis.connection())
            if job.func_name.endswith(name):
                due = registry.get_scheduled_time(job_id).timestamp() - time.time()
                found.append((tuple(job.args), due))
    return found


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
        redis.connection().flushdb()
        first.earlier_wait_seconds = settings.WAIT_TIMEOUT_SECONDS  # timed out, waits on
        db.session.commit()
        assert pairing.start_waiting(first) is not None
        assert [due for _, due in _queued("offer_listener")] == [0.0]
