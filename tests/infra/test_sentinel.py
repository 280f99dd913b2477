"""Redis behind Sentinel: the app, an RQ worker and a scheduler find the primary through the
Sentinel and follow a promotion; the waiting pool the new primary lacks is rebuilt from the
database, the callers waiting are paired or timed out as before, and nothing runs twice.

Real servers started here: a primary, its replica and a Sentinel (redis-server --sentinel).
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import Job as RQJob
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app import create_app, jobs
from app.db import db, utcnow
from app.line import pool
from app.line.models import Call, CallState
from app.settings import queue_names
from tests.support import Twilio, call_form, eventually, twiml
from twin import launcher

ROOT = Path(__file__).resolve().parents[2]
MASTER = "mindfuse-test"
SCHEDULER = """
from dataclasses import replace
from app import create_app, jobs
from workers.scheduler import run
with create_app().app_context():
    run((replace(jobs.RECONCILE_WAITING, interval=1),))
"""


def _ping(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _redis_server(name: str, folder: Path, *options: str):
    port = launcher.free_port()
    folder.mkdir()
    command = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", str(folder), *options]
    process = launcher.spawn(name, command, None, lambda _: _ping(port), log=folder / "log")
    return process, port


def _sentinel(folder: Path, master_port: int):
    port = launcher.free_port()
    folder.mkdir()
    conf = folder / "sentinel.conf"  # Sentinel rewrites its file: one of its own
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 4000\n"
    )
    command = [shutil.which("redis-server"), str(conf), "--sentinel"]
    process = launcher.spawn("sentinel", command, None, lambda _: _ping(port), log=folder / "log")
    return process, port


@pytest.fixture
def sentinel_redis(tmp_path):
    """A primary, a replica in sync with it, and a Sentinel that knows both."""
    started = []
    try:
        # The primary cannot be turned into a replica: as if cut off from the Sentinel when
        # it is demoted, it goes on answering as a primary, and only asking the Sentinel tells.
        primary, primary_port = _redis_server(
            "primary", tmp_path / "primary", *("--rename-command", "REPLICAOF", ""),
            *("--rename-command", "SLAVEOF", ""),
        )  # fmt: skip
        started.append(primary)
        replica, replica_port = _redis_server(
            "replica", tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary_port)
        )
        started.append(replica)
        replica_conn = redis.Redis(port=replica_port)
        eventually(lambda: replica_conn.info("replication")["master_link_status"] == "up")
        sentinel, sentinel_port = _sentinel(tmp_path / "sentinel", primary_port)
        started.append(sentinel)
        sentinel_conn = redis.Redis(port=sentinel_port, decode_responses=True)

        def replica_known():
            found = sentinel_conn.sentinel_slaves(MASTER)
            return any(r["port"] == replica_port and r["flags"] == "slave" for r in found)

        eventually(replica_known, timeout=15)
        yield {
            "primary": redis.Redis(port=primary_port),
            "replica": replica_conn,
            "replica_port": replica_port,
            "sentinel": sentinel_conn,
            "sentinel_port": sentinel_port,
        }
    finally:
        launcher.stop(*started)


def _waits(twilio, number: str) -> str:
    """Call and press 1; the conference room the answer puts the caller in."""
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))
    return " ".join((e.text or "").strip() for e in root.iter("Conference"))


def test_a_promoted_replica_is_followed_and_the_pool_rebuilt(app, sentinel_redis, tmp_path):
    """(The `app` fixture empties the tables; this test's own app reaches Redis by Sentinel.)"""
    sentinels = f"127.0.0.1:{sentinel_redis['sentinel_port']}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "REDIS_SENTINELS": sentinels,
        "REDIS_SENTINEL_MASTER": MASTER,
        "SCHEDULER_LEASE_SECONDS": "2",
    }
    line = create_app(
        {
            "TESTING": True,
            "REDIS_URL": None,  # through the Sentinel only
            "REDIS_SENTINELS": [("127.0.0.1", sentinel_redis["sentinel_port"])],
            "REDIS_SENTINEL_MASTER": MASTER,
        }
    )
    primary, replica = sentinel_redis["primary"], sentinel_redis["replica"]
    worker_command = [launcher.BIN / "rq", "worker", "--with-scheduler"]
    worker_command += ["--worker-class", launcher.WORKER_CLASS, "--config", "workers.rq_config"]
    worker_command += queue_names(env["RQ_QUEUE"])
    started = []
    try:
        started.append(
            launcher.spawn(
                "worker",
                worker_command,
                env,
                lambda p: any(w.pid == p.pid for w in Worker.all(connection=primary)),
                log=tmp_path / "worker.log",
                cwd=ROOT,
            )
        )
        started.append(
            launcher.spawn(
                "scheduler",
                [sys.executable, "-c", SCHEDULER],
                env,
                lambda p: primary.exists(f"{env['REDIS_KEY_PREFIX']}lease:scheduler"),
                log=tmp_path / "scheduler.log",
                cwd=ROOT,
            )
        )
        _check_failover(line, env, primary, replica, sentinel_redis, started)
    finally:
        launcher.stop(*started)


def _check_failover(app, env, primary, replica, sentinel_redis, started):
    twilio = Twilio(app.test_client())
    # A caller is never paired with themself: the same number twice gives two waiters.
    _waits(twilio, "+15550100071")
    _waits(twilio, "+15550100071")
    prefix = env["REDIS_KEY_PREFIX"]
    with app.app_context():
        first, second = db.session.scalars(select(Call).order_by(Call.id)).all()
        first.wait_started_at = utcnow() - timedelta(seconds=12)  # settled waits, in order
        second.wait_started_at = utcnow() - timedelta(seconds=10)
        db.session.commit()
        tokens = (first.wait_token, second.wait_token)
        assert all(pool.is_waiting(token) for token in tokens)
    assert primary.keys(prefix + "pool*"), "the app wrote to the primary the Sentinel named"
    assert primary.wait(1, 5000) == 1

    # The replica never got the line's last writes (replication is asynchronous): here, none
    # of its live state. RQ's jobs it has. Then it is promoted.
    replica.config_set("replica-read-only", "no")
    for name in replica.scan_iter(prefix + "*"):
        replica.delete(name)
    sentinel = sentinel_redis["sentinel"]
    sentinel.execute_command("SENTINEL", "FAILOVER", MASTER)
    replica_port = sentinel_redis["replica_port"]
    eventually(lambda: int(sentinel.sentinel_get_master_addr_by_name(MASTER)[1]) == replica_port)
    eventually(lambda: replica.role()[0] == b"master")
    assert primary.role()[0] == b"master", "two primaries: the line must ask the Sentinel"

    with app.app_context():
        # The worker, run by the scheduler, rebuilt the pool on the new primary.
        rebuilt = {token.encode() for token in tokens}
        eventually(lambda: set(replica.zrange(prefix + "pool:en", 0, -1)) == rebuilt, timeout=15)
        assert all(pool.is_waiting(token) for token in tokens)
        assert pool.waiting_count() == 2
        # A new caller is paired with the oldest waiter, through the new primary.
        answer = _waits(twilio, "+15550100072")
        db.session.expire_all()
        states = [c.state for c in db.session.scalars(select(Call).order_by(Call.id))]
        assert states == [CallState.MATCHED, CallState.WAITING, CallState.MATCHED], answer
        assert db.session.get(Call, second.id).state == CallState.WAITING
        # Rebuilt once: the matched caller is not put back, the other not twice.
        runs = _finished(replica, env)
        eventually(lambda: _finished(replica, env) >= runs + 2, timeout=10)
        assert not pool.is_waiting(first.wait_token) and pool.waiting_count() == 1
        assert replica.zrange(prefix + "pool:en", 0, -1) == [second.wait_token.encode()]
        assert primary.zcard(prefix + "pool:en") == 2, "nothing written to the demoted primary"
        scheduled = ScheduledJobRegistry(queue=jobs.EXPIRE_WAIT.queue()).get_job_ids()
        assert scheduled.count(f"expire-{second.wait_token}") == 1, "nobody waits forever"
        # A delayed job comes due on the new primary: RQ's scheduler followed it there too.
        later = jobs.RESCUE_PARTNER.enqueue(999_999, "no-such-room", delay=1)
        ran = lambda: RQJob.fetch(later.id, connection=replica).get_status() == "finished"  # noqa: E731
        eventually(ran, timeout=15)
    assert all(process.poll() is None for process in started), "worker and scheduler went on"


def _finished(conn, env) -> int:
    """How many jobs the worker finished on this server (the scheduler's runs among them)."""
    return sum(conn.zcard(f"rq:finished:{name}") for name in queue_names(env["RQ_QUEUE"]))
