"""RQ's delayed jobs kept to the millisecond, for benchmarks on a compressed clock.

RQ keeps a delayed job's time in whole seconds (rounded down) and its scheduler looks for due
jobs once a second, so a job runs up to about a second early or late. At the line's own pace
that is nothing against a 45 s delay; on a clock compressed 120 times it is two simulated
minutes. Importing this module in every process that queues or schedules jobs (the web through
`create_app` here, the worker as `PreciseWorker`) keeps each job's time as a float and looks
for due jobs every LOOK_SECONDS. The line's code is unchanged: only RQ's resolution is.
"""

from __future__ import annotations

import time

from rq import registry, scheduler
from rq.worker import base

from workers.worker import AppWorker

LOOK_SECONDS = 0.02
"""How often the scheduler looks for due delayed jobs (RQ: every second)."""


def _schedule(self, job, scheduled_datetime, pipeline=None):
    """ScheduledJobRegistry.schedule, scored to the microsecond rather than the second."""
    if not scheduled_datetime.tzinfo:  # as RQ: a naive time is the server's local time
        scheduled_datetime = scheduled_datetime.astimezone()
    connection = pipeline if pipeline is not None else self.connection
    return connection.zadd(self.key, {job.id: scheduled_datetime.timestamp()})


class PreciseScheduler(scheduler.RQScheduler):
    """RQ's scheduler, looking every LOOK_SECONDS (its `interval` stays a whole second: RQ
    derives its locks' time to live from it, and Redis takes those in whole seconds)."""

    def work(self):
        """RQ's loop (rq/scheduler.py, RQScheduler.work), with the shorter sleep."""
        self._install_signal_handlers()
        self.register_birth()
        while True:
            if self._stop_requested:
                self.stop()
                break
            if self.should_reacquire_locks:
                self.acquire_locks()
            self.heartbeat()
            self.enqueue_scheduled_jobs()
            time.sleep(LOOK_SECONDS)


_STOCK = (registry.ScheduledJobRegistry.schedule, scheduler.current_timestamp, base.RQScheduler)


def install() -> None:
    """Patch RQ in this process (done on import)."""
    registry.ScheduledJobRegistry.schedule = _schedule
    scheduler.current_timestamp = time.time  # what "due" is compared with: now, not its second
    base.RQScheduler = PreciseScheduler


def uninstall() -> None:
    """RQ as it was (for a test in a process that goes on to other work)."""
    registry.ScheduledJobRegistry.schedule, scheduler.current_timestamp, base.RQScheduler = _STOCK


install()


class PreciseWorker(AppWorker):
    """The line's worker (`rq worker --worker-class bench.simclock.PreciseWorker`)."""


def create_app():
    """The line's app, for gunicorn (`bench.simclock:create_app()`)."""
    from app import create_app as line_app  # noqa: PLC0415 - after RQ is patched

    return line_app()
