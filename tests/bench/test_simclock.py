"""bench.simclock, which the simulated day relies on: RQ's delayed jobs run when due, to the
millisecond, neither up to a second early nor a second late."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.scheduler import RQScheduler

ATTEMPTS = 5


@pytest.fixture
def precise():
    """bench.simclock installed for one test, RQ as it was afterwards."""
    simclock = importlib.import_module("bench.simclock")
    simclock.install()
    yield simclock
    simclock.uninstall()


@pytest.fixture
def queue(app):
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["RQ_QUEUE"] + "-simclock", connection=conn)
    yield queue
    _clear(queue)


def _clear(queue: Queue) -> None:
    for name in queue.connection.scan_iter(f"rq:*{queue.name}*"):
        queue.connection.delete(name)


def _early_in_a_second() -> None:
    """Wait for the start of the next wall-clock second: half a second on is the same second."""
    time.sleep(1.02 - time.time() % 1)


def _half_a_second_ahead(queue: Queue) -> RQScheduler:
    _early_in_a_second()
    queue.enqueue_in(timedelta(seconds=0.5), time.time)  # never run: only queued
    scheduler = RQScheduler([queue], connection=queue.connection)
    scheduler.acquire_locks()
    return scheduler


def test_a_job_half_a_second_ahead_is_queued_when_due_and_not_before(precise, queue):
    # A loaded machine can take the half second before the first look: that try tells nothing,
    # and is made again, a few times, rather than passing unchecked.
    for _ in range(ATTEMPTS):
        scheduler = _half_a_second_ahead(queue)
        try:
            score = queue.scheduled_job_registry.connection.zrange(
                queue.scheduled_job_registry.key, 0, -1, withscores=True
            )[0][1]
            assert score % 1 != 0  # kept finer than the second (RQ alone rounds it down)
            scheduler.enqueue_scheduled_jobs()
            if time.time() >= score:
                continue
            assert queue.count == 0  # RQ alone: due at once, its time rounded down to the second
            time.sleep(max(0.0, score - time.time()) + 0.02)
            scheduler.enqueue_scheduled_jobs()
            assert queue.count == 1
            return
        finally:
            scheduler.release_locks()
            _clear(queue)
    pytest.fail(f"the first look came after the job was due in all {ATTEMPTS} tries")


def test_the_scheduler_looks_for_due_jobs_far_more_often_than_once_a_second(precise):
    assert precise.LOOK_SECONDS <= 0.05
    assert precise.PreciseWorker.__mro__[1].__name__ == "AppWorker"  # the line's own worker
    from rq.worker import base  # noqa: PLC0415

    assert base.RQScheduler is precise.PreciseScheduler  # what the worker starts
