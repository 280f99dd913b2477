"""The recurring jobs the scheduler process enqueues."""

from __future__ import annotations

from rq.cron import CronScheduler

from workers import fusing, greetings, privacy, sms, waiting


def register_all(cron: CronScheduler, queue_name: str) -> None:
    """Register every recurring job on the scheduler."""
    cron.register(waiting.reconcile_waiting, queue_name, interval=30, job_timeout=120)
    cron.register(waiting.reconcile_calls, queue_name, interval=60, job_timeout=300)
    cron.register(greetings.reconcile_greetings, queue_name, interval=60, job_timeout=300)
    cron.register(privacy.purge_old, queue_name, interval=3600, job_timeout=1800)
    cron.register(fusing.tick, queue_name, interval=20, job_timeout=60)
    cron.register(sms.plan_reminders, queue_name, interval=60, job_timeout=600)
