"""Drill: Redis restarts (losing everything) while callers wait.

The line runs against a throwaway redis-server of this drill. Callers wait; Redis is stopped
and started empty; the reconciliation job rebuilds the waiting pool and the pending timeout
jobs from the database; a new caller pairs with a restored one and the rest time out and are
told so. Usage: python -m bench.drills.redis_restart
"""

from __future__ import annotations

import os
import time

from rq.registry import ScheduledJobRegistry
from rq.worker import Worker

from app import create_app, jobs
from app.db import db
from app.infra import redis
from app.line import pool
from app.line.models import Call, CallState
from bench.drills import Drill
from bench.drills.common_line import ThrowawayRedis, dial_and_press, states, wait_until
from bench.stack import Stack
from workers.waiting import reconcile_waiting

WAIT = 20
WAITERS = 6


def main() -> None:
    """Run the drill."""
    drill = Drill("Redis restarted while callers wait")
    server = ThrowawayRedis().start()
    saved = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = server.url
    try:
        with Stack(WAIT_TIMEOUT_SECONDS=str(WAIT)) as stack:
            _run(drill, stack, server)
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("REDIS_URL", None)
        else:
            os.environ["REDIS_URL"] = saved
    drill.finish()


def _pending_expiries(app) -> set[str]:
    with app.app_context():
        queue = jobs.EXPIRE_WAIT.queue()
        return {j for j in ScheduledJobRegistry(queue=queue).get_job_ids() if "expire-" in j}


def _run(drill: Drill, stack: Stack, server: ThrowawayRedis) -> None:
    app = create_app()
    worker = stack.worker()
    # One number for all: they may never be paired with each other, so they all wait.
    callers = [dial_and_press(stack.twin, "+15550100042") for _ in range(WAITERS)]
    waited = wait_until(lambda: states(app).get(CallState.WAITING) == WAITERS, 20)
    drill.check(waited, f"{WAITERS} callers wait before the restart", states(app))
    with app.app_context():
        tokens = {c.wait_token for c in db.session.query(Call).filter_by(state=CallState.WAITING)}
        before = pool.waiting_count()
        db.session.remove()
    drill.check(before == WAITERS, "the pool holds them", before)
    time.sleep(6)  # reconciliation leaves waits younger than 5 s alone (a match in progress)

    server.stop()
    restarted = time.monotonic()
    server.start()
    with app.app_context():
        after = pool.waiting_count()
    drill.check(after == 0, "the restarted Redis is empty (pool and timeout jobs lost)", after)
    drill.check(not _pending_expiries(app), "no timeout job is pending after the restart")
    time.sleep(1)
    if worker.poll() is not None:
        drill.note(f"the RQ worker exited when Redis went away (code {worker.returncode})")
        worker = stack.worker(log_name="worker2.log")
    else:
        with app.app_context():
            alive = any(w.pid == worker.pid for w in Worker.all(connection=redis.connection()))
        # No second worker: the timeouts below prove the surviving one still runs jobs.
        drill.note(f"the RQ worker process survived the restart; listed in Redis again: {alive}")

    with app.app_context():
        counts = reconcile_waiting()
        rebuilt = pool.waiting_count()
    drill.note(
        f"reconcile_waiting: {counts}, {time.monotonic() - restarted:.1f} s after the restart"
    )
    drill.check(rebuilt == WAITERS, "reconciliation rebuilt the pool from the database", rebuilt)
    expiries = _pending_expiries(app)
    drill.check(
        expiries == {f"expire-{t}" for t in tokens},
        "reconciliation rescheduled each waiter's timeout job",
        f"{len(expiries)} of {len(tokens)}",
    )

    newcomer = dial_and_press(stack.twin, "+15550100043")
    room = newcomer.wait_until_in_conference(timeout=15)
    partners = [c for c in callers if c.conference == room]
    drill.check(len(partners) == 1, "a new caller pairs with a restored waiter", room)

    rest = [c for c in callers if c not in partners]
    told = wait_until(lambda: all(_heard(c, "nobody is free") for c in rest), WAIT + 20)
    drill.check(told, f"the other {len(rest)} waiters timed out and were told so")
    drill.check(states(app).get(CallState.WAITING, 0) == 0, "nobody is left waiting", states(app))
    for caller in [*callers, newcomer]:
        caller.hang_up()


def _heard(caller, text: str) -> bool:
    return any(text in line.lower() for line in caller.call.heard)


if __name__ == "__main__":
    main()
