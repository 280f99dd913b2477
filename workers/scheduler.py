"""`mindfuse scheduler`: the process that enqueues the recurring jobs declared in app.jobs."""

from __future__ import annotations

import logging

import click
from flask.cli import with_appcontext
from rq.cron import CronScheduler
from rq.utils import import_attribute

from app import jobs
from app.infra import redis
from app.settings import settings
from workers.worker import rq_log_level


def register_all(cron: CronScheduler, queue_name: str) -> None:
    """Register every recurring job on the scheduler."""
    for job in jobs.RECURRING:
        # RQ's cron takes the function itself: resolved here, in the scheduler process only.
        func = import_attribute(job.name)
        cron.register(func, queue_name, interval=job.interval, job_timeout=job.timeout)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the recurring-job scheduler (RQ cron) until stopped."""
    level = rq_log_level(settings.LOG_LEVEL)  # it logs every job it enqueues, at INFO
    logging.getLogger("rq.cron").setLevel(level)  # RQ sets it only when it adds a handler
    cron = CronScheduler(connection=redis.connection(), logging_level=level)
    register_all(cron, settings.RQ_QUEUE)
    cron.start()
