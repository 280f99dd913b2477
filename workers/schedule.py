"""The recurring jobs the scheduler process enqueues."""

from __future__ import annotations

from rq.cron import CronScheduler

from workers import waiting


def register_all(cron: CronScheduler, queue_name: str) -> None:
    """Register every recurring job on the scheduler."""
    cron.register(waiting.reconcile_waiting, queue_name, interval=30, job_timeout=120)
