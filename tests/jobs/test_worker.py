"""The RQ worker class the line runs."""

from __future__ import annotations

import io
import logging
import signal

from rq.exceptions import StopRequested

from app.infra import redis
from workers.worker import AppWorker


def test_a_stop_signal_landing_in_a_log_call_still_stops_the_worker(app):
    with app.app_context():
        worker = AppWorker(redis.queues(), connection=redis.connection())
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    class Interrupted(logging.StreamHandler):  # the signal arrives while a record is formatted
        def format(self, record):
            worker.request_stop(signal.SIGTERM, None)
            return super().format(record)

    handler = Interrupted(io.StringIO())
    logger = logging.getLogger("tests.worker")
    logger.addHandler(handler)
    try:
        assert not worker._stop_requested
        logger.warning("dequeued a job")  # logging swallows the StopRequested raised here
        assert worker._stop_requested  # so the loop stops before the next job
    finally:
        logger.removeHandler(handler)
        for sig, previous in saved.items():
            signal.signal(sig, previous)


def test_an_idle_worker_still_stops_at_once(app):
    with app.app_context():
        worker = AppWorker(redis.queues(), connection=redis.connection())
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        raised = False
        try:
            worker.request_stop(signal.SIGTERM, None)
        except StopRequested:
            raised = True
        assert raised
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
