"""Drill: the Redis primary fails over (Sentinel) while callers wait and a rotation is due.

A primary, its replica and a Sentinel of the drill's own on loopback; the line (web, an RQ
worker, the scheduler) finds the primary only through the Sentinel. Callers wait (one
number: never paired with each other), Fusing Hour guests sit in the lobby with the first
rotation queued in Redis; then the replica, which lacks the line's last writes (its live
state is deleted to stand for what asynchronous replication had not yet carried), is
promoted. Checked: the line follows the promotion, the waiting pool is rebuilt on the new
primary, every waiter times out once and is told, the rotation seats every guest once, and
nothing is written to the demoted primary. Usage: python -m bench.drills.sentinel_failover
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import redis

from app import create_app
from app.db import utcnow
from app.fusing import sessions
from app.line import pool
from app.line.models import CallState
from bench.drills import Drill
from bench.drills.common_line import dial_and_press, states, wait_until
from bench.drills.worker_killed import _redirects
from bench.herd import _number
from bench.stack import Stack
from twin import launcher

MASTER = "mindfuse-drill"
WAIT = 90  # WAIT_TIMEOUT_SECONDS: the waiters' timeouts fall after the pool is rebuilt
WAITERS = 8
GUESTS = 20
LEAD = 150  # seconds from the start to the Fusing Hour; its lobby opens 120 s before


def _pings(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


class Servers:
    """A primary, a replica in sync with it and a Sentinel watching them, on free ports."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="mindfuse-sentinel-"))
        self.started = []

    def _redis(self, name: str, *options: str) -> int:
        port = launcher.free_port()
        folder = self.folder / name
        folder.mkdir()
        command = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(folder), *options]
        log = folder / "log"
        self.started.append(launcher.spawn(name, command, None, lambda _: _pings(port), log=log))
        return port

    def start(self) -> Servers:
        # The old primary cannot be made a replica: as if cut off from the Sentinel when it
        # is demoted, it goes on answering as a primary, and only asking the Sentinel tells.
        no_demotion = ("--rename-command", "REPLICAOF", "", "--rename-command", "SLAVEOF", "")
        self.primary_port = self._redis("primary", *no_demotion)
        self.replica_port = self._redis(
            "replica", "--replicaof", "127.0.0.1", str(self.primary_port)
        )
        self.primary = redis.Redis(port=self.primary_port)
        self.replica = redis.Redis(port=self.replica_port)
        if not wait_until(
            lambda: self.replica.info("replication")["master_link_status"] == "up", 15
        ):
            raise RuntimeError("the replica did not sync")
        port = launcher.free_port()
        folder = self.folder / "sentinel"
        folder.mkdir()
        conf = folder / "sentinel.conf"  # Sentinel rewrites its file: one of its own
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 4000\n"
        )
        command = [shutil.which("redis-server"), str(conf), "--sentinel"]
        log = folder / "log"
        self.started.append(
            launcher.spawn("sentinel", command, None, lambda _: _pings(port), log=log)
        )
        self.sentinel_port = port
        self.sentinel = redis.Redis(port=port, decode_responses=True)

        def replica_known():
            found = self.sentinel.sentinel_slaves(MASTER)
            return any(r["port"] == self.replica_port and r["flags"] == "slave" for r in found)

        if not wait_until(replica_known, 20):
            raise RuntimeError("the Sentinel does not know the replica")
        return self

    def stop(self) -> None:
        launcher.stop(*self.started)
        shutil.rmtree(self.folder, ignore_errors=True)


def main() -> None:
    """Run the drill."""
    drill = Drill("Redis primary fails over (Sentinel) while callers wait and a rotation is due")
    servers = Servers().start()
    settings = {
        "REDIS_SENTINELS": f"127.0.0.1:{servers.sentinel_port}",
        "REDIS_SENTINEL_MASTER": MASTER,
        # The host is not used with Sentinels (only the database index); the stack's own
        # clean-up reads it, and so clears what the line wrote before the failover.
        "REDIS_URL": f"redis://127.0.0.1:{servers.primary_port}/0",
        "WAIT_TIMEOUT_SECONDS": str(WAIT),
        "FUSING_OPEN_TO_ALL": "true",
        "SCHEDULER_LEASE_SECONDS": "6",
    }
    try:
        with Stack(**settings) as stack:  # which sets these in os.environ, and restores them
            _run(drill, stack, servers)
    finally:
        servers.stop()
    drill.finish()


def _run(drill: Drill, stack: Stack, servers: Servers) -> None:
    app = create_app()
    start = (utcnow() + timedelta(seconds=LEAD)).replace(microsecond=0)
    with app.app_context():
        sessions.change_rule(
            weekday=start.weekday(), start_time=start.time(), timezone="UTC",
            duration_seconds=600, round_seconds=120,
        )  # fmt: skip
    stack.worker("--worker-ttl", "30", "--maintenance-interval", "10")
    scheduler = launcher.start_scheduler(stack.env, stack.tmp / "scheduler.log")
    stack.workers.append(scheduler)
    prefix = stack.settings["REDIS_KEY_PREFIX"]
    twin = stack.twin
    began = time.monotonic()

    waiters = [dial_and_press(twin, "+15550100081") for _ in range(WAITERS)]
    waited = wait_until(lambda: states(app).get(CallState.WAITING) == WAITERS, 30)
    drill.check(waited, f"{WAITERS} callers wait before the failover", states(app))

    wait_until(lambda: utcnow() >= start - timedelta(seconds=115), LEAD)
    guests = [twin.dial(_number(30_000 + n)) for n in range(GUESTS)]
    sids = {g.sid for g in guests}

    def in_lobby() -> int:
        return sum(len(set(s) & sids) for n, s in twin.conferences().items() if "lobby" in n)

    drill.check(wait_until(lambda: in_lobby() == GUESTS, 40), f"{GUESTS} guests in the lobby")
    due = [k for k in servers.primary.scan_iter("rq:job:fusing-*") if k.endswith(b"-rotate-0")]
    drill.check(bool(due), "the first rotation is queued in Redis before the failover", due)
    servers.primary.wait(1, 5000)

    # What replication had not carried yet: here, all of the line's live state (the pool,
    # the counters, the caches' versions). RQ's jobs the replica has.
    servers.replica.config_set("replica-read-only", "no")
    lost = 0
    for name in servers.replica.scan_iter(prefix + "*"):
        lost += servers.replica.delete(name)
    servers.sentinel.execute_command("SENTINEL", "FAILOVER", MASTER)
    failed_over = time.monotonic()

    def promoted() -> bool:
        addr = servers.sentinel.sentinel_get_master_addr_by_name(MASTER)
        return int(addr[1]) == servers.replica_port and servers.replica.role()[0] == b"master"

    drill.check(wait_until(promoted, 30), "the Sentinel promoted the replica")
    drill.note(f"promoted {time.monotonic() - began:.0f} s into the drill; {lost} keys lost")
    drill.check(servers.primary.role()[0] == b"master", "the old primary still answers as one")
    before = set(servers.primary.scan_iter())

    with app.app_context():
        rebuilt = wait_until(lambda: pool.waiting_count() == WAITERS, 45, step=0.5)
        drill.check(rebuilt, "the pool was rebuilt on the new primary", pool.waiting_count())
    drill.note(f"pool rebuilt {time.monotonic() - failed_over:.1f} s after the failover")

    waiter_sids = {w.sid for w in waiters}
    told = wait_until(
        lambda: all(any("nobody is free" in h.lower() for h in w.call.heard) for w in waiters),
        WAIT + 60,
    )
    drill.check(told, "every waiter timed out and was told", states(app))
    timeouts = _redirects(twin, waiter_sids)
    drill.check(
        all(n == 1 for n in timeouts.values()) and len(timeouts) == WAITERS,
        "each waiter's timeout ran once",
        dict(sorted(timeouts.items())),
    )
    drill.check(states(app).get(CallState.WAITING, 0) == 0, "nobody waits forever", states(app))

    wait_until(lambda: utcnow() >= start, LEAD)
    seated = wait_until(lambda: in_lobby() == 0, 90, step=0.5)
    drill.check(seated, "the rotation seated every guest", f"{in_lobby()} in the lobby")
    moves = _redirects(twin, sids)
    twice = {sid: n for sid, n in moves.items() if n > 1}
    drill.check(len(moves) == GUESTS and not twice, "each guest moved once", f"{len(twice)} twice")
    written = set(servers.primary.scan_iter()) - before
    drill.check(not written, "nothing written to the demoted primary", sorted(written)[:5])
    for phone in [*waiters, *guests]:
        phone.hang_up()
    twin.wait_idle(timeout=30)


if __name__ == "__main__":
    main()
