"""An RQ worker that runs every job inside the Flask app's context."""

from __future__ import annotations

import logging
from importlib import import_module

from rq import Queue
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from rq.utils import ensure_job_list
from rq.worker import SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from app import create_app, jobs
from app.infra import redis
from app.telephony import rest

SENTINEL_DEQUEUE_TIMEOUT = 2
"""Seconds a worker reaching Redis through Sentinel blocks waiting for a job, at most."""


def rq_log_level(line_level: str) -> str:
    """RQ's log level for the line's: RQ speaks at least once per job, so it is heard only
    when the line logs everything (DEBUG); otherwise only its warnings and errors."""
    level = logging.getLevelName(line_level)
    return logging.getLevelName(level if level <= logging.DEBUG else max(level, logging.WARNING))


class FollowingScheduler(RQScheduler):
    """RQ's scheduler of delayed jobs, reaching Redis through the app's Sentinel client.

    RQ's own rebuilds its connection from the worker's as a plain pool, which never asks the
    Sentinels again: after a promotion it went on moving delayed jobs (time-outs, Fusing Hour
    rounds, listener offers) on the demoted primary, and on the new one none came due.
    """

    def __init__(self, *args, app, **kwargs):
        super().__init__(*args, **kwargs)
        self.flask_app = app

    @property
    def connection(self):
        if self._connection is None:  # built again in the scheduler's own process
            self._connection = redis.build(self.flask_app)
        return self._connection


class _AppContextMixin:
    """Build the app once per worker process; each job runs in an app context."""

    def __init__(self, queues, *args, **kwargs):
        self.flask_app = create_app()
        self._follows = bool(self.flask_app.config.get("REDIS_SENTINELS"))
        if self._follows:
            # The app's client, which follows a promotion within a second, rather than the
            # one `rq worker` built, which would go on taking jobs from a demoted primary.
            with self.flask_app.app_context():
                kwargs["connection"] = redis.connection()
            queues = [q.name if isinstance(q, Queue) else q for q in ensure_job_list(queues)]
        super().__init__(queues, *args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """Through Sentinel, a short wait for the next job: a wait blocked on a primary just
        demoted ends soon, and the next one goes to the new primary."""
        return SENTINEL_DEQUEUE_TIMEOUT if self._follows else super().dequeue_timeout

    def work(self, *args, **kwargs):
        """RQ's own lines (a job started, done, its result kept) only at LOG_LEVEL=DEBUG."""
        kwargs["logging_level"] = rq_log_level(self.flask_app.config["LOG_LEVEL"])
        return super().work(*args, **kwargs)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ):
        """RQ's, with a scheduler that follows the Sentinels' primary when they are used."""
        if not self._follows:
            return super()._start_scheduler(burst, logging_level, date_format, log_format)
        self.scheduler = FollowingScheduler(
            self.queues,
            connection=self.connection,
            app=self.flask_app,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()
        return None

    def perform_job(self, *args, **kwargs):
        with self.flask_app.app_context():
            return super().perform_job(*args, **kwargs)

    def request_stop(self, signum, frame):
        """Stop after the job at hand (warm shutdown), even if the signal lands in a log call.

        RQ stops an idle worker by raising StopRequested from this signal handler; raised
        inside a logging call, logging reports and swallows it, and the worker went on until
        killed. The flag is what RQ's loop checks before taking the next job.
        """
        self._stop_requested = True
        super().request_stop(signum, frame)


class AppWorker(_AppContextMixin, Worker):
    """Forks a work horse per job, like `rq worker`; what every horse would otherwise do
    again before its job is done once, before the first fork (`warm`)."""

    def __init__(self, queues, *args, **kwargs):
        super().__init__(queues, *args, **kwargs)
        warm(self.flask_app)


def warm(app) -> None:
    """Ready in this process what each job's horse inherits: the models' mappings (set up on
    first use, some 45 ms), every job's module, and the Twilio client with its resource
    modules (some 65 ms). Nothing here opens a connection: a horse opens its own."""
    configure_mappers()
    for declared in vars(jobs).values():
        if isinstance(declared, jobs.Job | jobs.Recurring):
            import_module(declared.name.rpartition(".")[0])
    with app.app_context():
        rest.warm()


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself (tests, single-process use)."""
