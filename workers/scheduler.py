"""`mindfuse scheduler`: the process that enqueues the recurring jobs declared in app.jobs.

Any number of schedulers may run (one per app host, say): one holds a Redis lease and
enqueues, the others stand by and take the lease over when it lapses (its holder killed) or
is given back (its holder stopped). RQ's own cron scheduler does not coordinate instances:
each would enqueue every job, so the loop here decides what is due.

Each job's runs are numbered by interval in Redis's clock (`slot` = Redis time // interval),
and the number of the last one enqueued is kept in Redis. A slot is enqueued in one
transaction with that mark, under WATCH of the lease, so it is enqueued once, and never by a
holder that lost the lease meanwhile (a stalled process whose lease another took).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import click
import redis as redis_py
from flask.cli import with_appcontext
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.utils import import_attribute

from app import jobs
from app.infra import redis
from app.infra.lease import Lease
from app.settings import settings
from workers.worker import rq_log_level

LEASE_NAME = "scheduler"


def register_all(cron: CronScheduler, recurring=jobs.RECURRING) -> None:
    """Register every recurring job on the scheduler (for RQ's monitoring of schedulers)."""
    for job in recurring:
        # Resolved here, in the scheduler process only: a misspelt job stops it at start.
        func = import_attribute(job.name)
        cron.register(func, job.lane.queue_name(), interval=job.interval, job_timeout=job.timeout)


class LeasedScheduler(CronScheduler):
    """RQ's cron scheduler, enqueueing only under the lease, each interval once."""

    def __init__(self, recurring: Sequence[jobs.Recurring], lease: Lease):
        level = rq_log_level(settings.LOG_LEVEL)  # it logs every job it enqueues, at INFO
        logging.getLogger("rq.cron").setLevel(level)  # RQ sets it only when it adds a handler
        super().__init__(connection=redis.connection(), logging_level=level, name=lease.owner)
        self.recurring = tuple(recurring)
        self.lease = lease
        register_all(self, self.recurring)

    def enqueue_jobs(self) -> list:
        """Enqueue the jobs whose interval has not been enqueued yet, if holding the lease."""
        if not self.lease.hold():
            return []
        return [job for job in self.recurring if self.enqueue_if_due(job) is not None]

    def enqueue_if_due(self, job: jobs.Recurring) -> int | None:
        """Enqueue this interval's run of `job` unless done; the slot enqueued, or None."""
        mark = redis.key("scheduler", "slot", job.name)
        with self.connection.pipeline() as pipe:
            try:
                pipe.watch(self.lease.key, mark)
                if _text(pipe.get(self.lease.key)) != self.lease.value:
                    return None  # lost the lease since hold(): the next loop says so
                seconds, _micros = pipe.time()
                slot = seconds // job.interval
                last = pipe.get(mark)
                if last is not None and int(last) >= slot:
                    return None
                pipe.multi()
                job.enqueue(pipeline=pipe, slot=slot)
                # Kept past the next slot: an expired mark only lets a later slot run.
                pipe.set(mark, slot, ex=max(2 * job.interval, 60))
                pipe.execute()
            except redis_py.WatchError:
                return None  # the lease changed hands meanwhile
        return slot

    def calculate_sleep_interval(self) -> float:
        """Until the next interval begins (by this host's clock), or the next renewal."""
        now = time.time()
        starts = [(math.floor(now / j.interval) + 1) * j.interval for j in self.recurring]
        # A little past the boundary, so Redis's clock (maybe a hair behind) is there too.
        until = min(starts, default=now + self.lease.renew_every) - now + 0.02
        return max(0.0, min(until, self.lease.renew_every))

    def start(self) -> None:
        """Run until stopped; give the lease back on the way out."""
        try:
            super().start()
        except StopRequested:  # the signal landed outside RQ's loop
            pass
        finally:
            self.lease.release()


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def run(recurring: Sequence[jobs.Recurring] = jobs.RECURRING) -> None:
    """Run a scheduler for these recurring jobs until stopped (in an app context)."""
    lease = Lease(LEASE_NAME, settings.SCHEDULER_LEASE_SECONDS)
    LeasedScheduler(recurring, lease).start()


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the recurring-job scheduler until stopped; several may run, one enqueues."""
    run()
