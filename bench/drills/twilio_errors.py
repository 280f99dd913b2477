"""Drill: Twilio's REST API answers 500 and 429.

A waiting caller's timeout redirect meets a 429 and then a 500: the job is retried with
backoff and the caller hears "nobody is free". For a second caller the API keeps failing:
after its retries the job is recorded as failed. Usage: python -m bench.drills.twilio_errors
"""

from __future__ import annotations

from rq.job import Job
from rq.registry import FailedJobRegistry

from app import create_app, jobs
from app.db import db
from app.infra import redis
from app.line.models import Call
from bench.drills import Drill
from bench.drills.common_line import dial_and_press, wait_until
from bench.stack import Stack

WAIT = 3
BACKOFF = jobs.EXPIRE_WAIT.backoff  # the timeout job's retry intervals


def _redirects(twin, sid: str) -> list:
    return [r for r in list(twin.requests) if r.method == "POST" and r.path.endswith(f"{sid}.json")]


def main() -> None:
    """Run the drill."""
    drill = Drill("Twilio REST answering 500 and 429")
    with Stack(WAIT_TIMEOUT_SECONDS=str(WAIT)) as stack:
        app = create_app()
        stack.worker()
        twin = stack.twin

        twin.rest_faults.add(status=429, times=1, method="POST", path_contains="/Calls/")
        twin.rest_faults.add(status=500, times=1, method="POST", path_contains="/Calls/")
        first = dial_and_press(twin, "+15550100051")
        told = wait_until(lambda: any("nobody is free" in h.lower() for h in first.heard), 30)
        tries = _redirects(twin, first.sid)
        gaps = [round(b.at - a.at, 1) for a, b in zip(tries, tries[1:], strict=False)]
        drill.check(told, "after a 429 and a 500 the caller still hears 'nobody is free'")
        drill.check(
            [r.status for r in tries] == [429, 500, 200],
            "the redirect was tried three times",
            [r.status for r in tries],
        )
        drill.check(
            len(gaps) == 2 and gaps[0] >= 0.5 and gaps[1] > gaps[0], "with growing backoff", gaps
        )
        first.hang_up()

        twin.rest_faults.add(status=500, times=None, method="POST", path_contains="/Calls/")
        second = dial_and_press(twin, "+15550100052")
        budget = WAIT + sum(BACKOFF) + 15
        with app.app_context():
            queue = jobs.EXPIRE_WAIT.queue()
            failed = FailedJobRegistry(queue=queue)
            gave_up = wait_until(lambda: any("expire-" in j for j in failed.get_job_ids()), budget)
            job_id = next((j for j in failed.get_job_ids() if "expire-" in j), None)
            job = Job.fetch(job_id, connection=redis.connection()) if job_id else None
            call = db.session.query(Call).filter_by(sid=second.sid).one()
            events = [e.kind for e in call.events]
        tries = _redirects(twin, second.sid)
        drill.check(gave_up, "after its retries the timeout job is recorded as failed", job_id)
        drill.check(
            len(tries) == 1 + len(BACKOFF), "it tried 1 + 3 retries", [r.status for r in tries]
        )
        if job is not None:
            drill.note(f"failed job's last error: {(job.exc_info or '').strip().splitlines()[-1]}")
        drill.note(f"the second call's state: {call.state}; its events: {events}")
        drill.check(
            "timeout_redirect_failed" in events or "redirect_failed" in events,
            "the failure is on the call's own record in the database",
            events[-3:],
        )
        drill.note("the second caller hears: " + " / ".join(h[:40] for h in second.heard[-2:]))
        twin.rest_faults.clear()
        second.hang_up()
    drill.finish()


if __name__ == "__main__":
    main()
