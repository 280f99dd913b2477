"""An RQ worker that runs every job inside the Flask app's context."""

from __future__ import annotations

from rq.worker import SimpleWorker, Worker

from app import create_app


class _AppContextMixin:
    """Build the app once per worker process; each job runs in an app context."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flask_app = create_app()

    def perform_job(self, *args, **kwargs):
        with self.flask_app.app_context():
            return super().perform_job(*args, **kwargs)


class AppWorker(_AppContextMixin, Worker):
    """Forks a work horse per job, like `rq worker`."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself (tests, single-process use)."""
