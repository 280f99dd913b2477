"""Several scheduler processes: one holds the lease and enqueues, each interval exactly once;
when the holder is killed the other takes over within the lease, and a stopped one gives the
lease back at once. Real `workers.scheduler` processes, on short intervals, against Redis."""

from __future__ import annotations

import os
import secrets
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis
from rq import Queue

from tests.support import eventually
from twin import launcher

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2.0
# Two recurring jobs of the registry on short intervals (never run: no worker takes them).
SCRIPT = """
from dataclasses import replace
from app import create_app, jobs
from workers.scheduler import run
with create_app().app_context():
    run((replace(jobs.FUSING_TICK, interval=1), replace(jobs.RECONCILE_WAITING, interval=2)))
"""
FAST, SLOW = "workers.fusing.tick", "workers.waiting.reconcile_waiting"


@pytest.fixture
def schedulers(test_environment, tmp_path):
    """Start scheduler processes on a namespace and queue of their own; stop them after."""
    tag = secrets.token_hex(3)
    env = {
        **os.environ,
        "REDIS_KEY_PREFIX": f"{test_environment['REDIS_KEY_PREFIX']}lease{tag}:",
        "RQ_QUEUE": f"{test_environment['RQ_QUEUE']}-lease{tag}",
        "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    url = env["REDIS_URL"]
    conn = redis.Redis.from_url(url)
    started = []

    def start(name: str):
        command = [sys.executable, "-c", SCRIPT]
        process = launcher.spawn(
            name,
            command,
            env,
            lambda p: launcher.scheduler_registered(url, p.pid),
            log=tmp_path / f"{name}.log",
            cwd=ROOT,
        )
        started.append(process)
        return process

    start.conn = conn
    start.queue = Queue(env["RQ_QUEUE"], connection=conn)
    start.lease_key = env["REDIS_KEY_PREFIX"] + "lease:scheduler"
    yield start
    launcher.stop(*started)
    for pattern in (env["REDIS_KEY_PREFIX"] + "*", f"rq:*{env['RQ_QUEUE']}*"):
        for name in conn.scan_iter(pattern):
            conn.delete(name)


def _runs(queue: Queue) -> dict[str, list[int]]:
    """The slots enqueued per job, in queue order."""
    runs: dict[str, list[int]] = {FAST: [], SLOW: []}
    for job in queue.get_jobs():
        runs[job.func_name].append(job.meta["slot"])
    return runs


def _holder(start) -> int | None:
    """The process id of the lease's holder, or None if nobody holds it."""
    value = start.conn.get(start.lease_key)
    return int(value.decode().split(":")[2]) if value else None


def _assert_each_slot_once(runs: list[int], *, gap: int = 1) -> None:
    assert [slot for slot, n in Counter(runs).items() if n > 1] == [], "a slot ran twice"
    assert runs == sorted(runs)
    steps = [b - a for a, b in zip(runs, runs[1:], strict=False)]
    assert all(step <= gap for step in steps), f"intervals missed: {runs}"


def test_two_schedulers_side_by_side_enqueue_each_interval_once(schedulers):
    first, second = schedulers("scheduler-1"), schedulers("scheduler-2")
    eventually(lambda: len(_runs(schedulers.queue)[FAST]) >= 5, timeout=20)
    runs = _runs(schedulers.queue)
    assert first.poll() is None and second.poll() is None, "both ran side by side throughout"
    assert _holder(schedulers) in (first.pid, second.pid)
    _assert_each_slot_once(runs[FAST], gap=2)  # a second's stall of a loaded machine may pass
    _assert_each_slot_once(runs[SLOW])
    assert len(runs[SLOW]) >= 2

    # Stopped in turn, each gives the lease back on its way out: none is left held.
    holder = first if _holder(schedulers) == first.pid else second
    other = second if holder is first else first
    holder.send_signal(signal.SIGTERM)
    holder.wait(timeout=10)
    assert _holder(schedulers) != holder.pid, "given back, not left to lapse"
    eventually(lambda: _holder(schedulers) == other.pid, timeout=10)
    other.send_signal(signal.SIGTERM)
    other.wait(timeout=10)
    assert not schedulers.conn.exists(schedulers.lease_key)


def test_a_killed_holder_is_replaced_within_the_lease(schedulers):
    holder = schedulers("scheduler-1")
    eventually(lambda: _holder(schedulers) == holder.pid, timeout=10)
    standby = schedulers("scheduler-2")
    eventually(lambda: len(_runs(schedulers.queue)[FAST]) >= 3, timeout=10)
    assert _holder(schedulers) == holder.pid, "the first holder keeps its lease"

    launcher.kill_group(holder)  # SIGKILL: no release, the lease must lapse
    before = len(_runs(schedulers.queue)[FAST])
    eventually(lambda: _holder(schedulers) == standby.pid, timeout=LEASE_SECONDS + 5)
    eventually(lambda: len(_runs(schedulers.queue)[FAST]) >= before + 2, timeout=10)

    runs = _runs(schedulers.queue)
    # The slots the lease spans may pass unrun, the rest run once each: no interval twice.
    _assert_each_slot_once(runs[FAST], gap=int(LEASE_SECONDS) + 3)
    _assert_each_slot_once(runs[SLOW], gap=int(LEASE_SECONDS / 2) + 2)
