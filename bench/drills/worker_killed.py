"""Drill: an RQ worker is killed (SIGKILL) in the middle of a Fusing Hour rotation.

Guests wait in the lobby; the rotation job moves them with REST redirects through this
drill's proxy, which slows each request down. The worker and its work horse are killed
mid-burst; a new worker takes over. Expected: the job is retried, every guest reaches a
room, and no call is redirected twice in the round. Usage: python -m bench.drills.worker_killed
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from urllib.parse import urlsplit

from rq.job import Job

from app import create_app, jobs
from app.db import db
from app.fusing.models import FusingSession
from app.infra import redis
from bench.drills import Drill
from bench.drills.common_line import wait_until
from bench.drills.proxy import Proxy
from bench.fusing_rotation import plan_session
from bench.stack import Stack

GUESTS = 20
DELAY = 0.4  # seconds per REST request; two in flight: about 4 s for the whole burst
FAST = ("--job-monitoring-interval", "5", "--maintenance-interval", "10", "--worker-ttl", "30")


def _redirects(twin, sids: set[str]) -> Counter:
    found = Counter()
    for r in list(twin.requests):
        sid = r.path.rsplit("/", 1)[-1].removesuffix(".json")
        if r.method == "POST" and sid in sids and r.form.get("Url"):
            found[sid] += 1
    return found


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def main() -> None:
    """Run the drill."""
    drill = Drill("RQ worker killed mid-rotation")
    with Stack(FUSING_MAX_IN_FLIGHT="2") as stack:
        app = create_app()
        plan_session(app)
        twin = stack.twin
        guests = [twin.dial(f"+4477009001{n:02d}") for n in range(GUESTS)]
        sids = {g.sid for g in guests}
        in_lobby = lambda: sum(len(s) for n, s in twin.conferences().items() if "lobby" in n)  # noqa: E731
        drill.check(wait_until(lambda: in_lobby() == GUESTS, 60), f"{GUESTS} guests in the lobby")
        api = urlsplit(twin.api_base)
        proxy = Proxy((api.hostname, api.port), delay=DELAY)
        stack.env["TWILIO_API_BASE"] = f"http://127.0.0.1:{proxy.port}"
        first = stack.worker(*FAST)
        with app.app_context():
            session_id = db.session.query(FusingSession.id).scalar()
            job = jobs.ROTATE.enqueue(session_id, 0, job_id=f"drill-rotate-{stack.run}")
        wait_until(lambda: sum(_redirects(twin, sids).values()) >= 4, 30, step=0.05)
        # The work horse runs in a session of its own (RQ calls setsid): kill both, mid-burst.
        for pid in [*_children(first.pid), first.pid]:
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        first.wait()
        time.sleep(DELAY * 3)  # requests already inside the proxy still arrive
        before = sum(_redirects(twin, sids).values())
        drill.note(f"killed after {before} of {GUESTS} redirects had reached the twin")
        stack.worker(*FAST, log_name="worker2.log")
        seated = wait_until(lambda: in_lobby() == 0, 150, step=0.5)
        drill.note(f"{time.monotonic() - killed:.0f} s after the kill, {in_lobby()} still in lobby")
        with app.app_context():
            job = Job.fetch(job.id, connection=redis.connection())
            drill.note(f"job status {job.get_status()}, retries left {job.retries_left}")
            drill.note(f"job result: {job.return_value()!r}")
            retried = job.retries_left is not None and job.retries_left < 3
        counts = _redirects(twin, sids)
        drill.check(retried, "the abandoned job was retried", f"retries left {job.retries_left}")
        drill.check(sum(counts.values()) > before, "the retry went on redirecting the rest")
        drill.check(seated, "every guest reached a room this round", f"{in_lobby()} left in lobby")
        twice = {sid: n for sid, n in counts.items() if n > 1}
        drill.check(not twice, "no call was redirected twice", f"{len(twice)} twice")
        proxy.close()
        for guest in guests:
            guest.hang_up()
    drill.finish()


if __name__ == "__main__":
    main()
