"""The RQ worker class the line runs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys

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


WARMED = """
import json, os, sys
from redis import Redis
from app.line.models import Call
from workers.worker import AppWorker

modules = ("workers.listeners", "workers.sms", "twilio.rest.api.v2010.account.call",
           "twilio.rest.api.v2010.account.conference.participant")
before = [name in sys.modules for name in modules] + [Call.__mapper__.configured]
worker = AppWorker(["warm-test"], connection=Redis.from_url(os.environ["REDIS_URL"]))
with worker.flask_app.app_context():
    from app.db import db
    pool = db.engine.pool
    opened = pool.checkedin() + pool.checkedout()
after = [name in sys.modules for name in modules] + [Call.__mapper__.configured]
print(json.dumps({"before": before, "after": after, "opened": opened}))
"""


def test_the_forking_worker_readies_before_its_first_fork_what_each_horse_would_redo(app):
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    env["REDIS_URL"] = app.config["REDIS_URL"]
    done = subprocess.run(
        [sys.executable, "-c", WARMED], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["before"] == [False] * 5  # a fresh process: nothing of it loaded yet
    assert found["after"] == [True] * 5  # the jobs' modules, Twilio's, the models' mappings
    assert found["opened"] == 0  # and no database connection that the horses would share
