"""An RQ worker that runs every job inside the Flask app's context."""

from __future__ import annotations

import logging

from rq.worker import SimpleWorker, Worker

from app import create_app


def rq_log_level(line_level: str) -> str:
    """RQ's log level for the line's: RQ speaks at least once per job, so it is heard only
    when the line logs everything (DEBUG); otherwise only its warnings and errors."""
    level = logging.getLevelName(line_level)
    return logging.getLevelName(level if level <= logging.DEBUG else max(level, logging.WARNING))


class _AppContextMixin:
    """Build the app once per worker process; each job runs in an app context."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flask_app = create_app()

    def work(self, *args, **kwargs):
        """RQ's own lines (a job started, done, its result kept) only at LOG_LEVEL=DEBUG."""
        kwargs["logging_level"] = rq_log_level(self.flask_app.config["LOG_LEVEL"])
        return super().work(*args, **kwargs)

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
    """Forks a work horse per job, like `rq worker`."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself (tests, single-process use)."""
