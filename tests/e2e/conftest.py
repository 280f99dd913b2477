"""The whole line on loopback: the app over HTTP, the Twilio twin, and a real RQ worker."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker

from tests.conftest import LiveServer, _clean
from twin import Twin, launcher

WAIT_TIMEOUT = 2
TIME_SCALE = 0.05  # Gather timeouts and pauses run 20 times faster than real time


class Line:
    """The running line, as the tests see it."""

    def __init__(self, server: LiveServer, twin: Twin, environment: dict, worker_log: Path):
        self.server, self.twin, self.app = server, twin, server.app
        self.environment, self.worker_log = environment, worker_log
        self.worker = launcher.start_worker(environment, worker_log)

    def dial(self, number: str):
        """A simulated caller dialling the line."""
        return self.twin.dial(number)

    def kill_worker(self) -> None:
        """SIGKILL the worker, as a crash would, wherever it is in its work."""
        launcher.kill_group(self.worker)

    def start_worker(self) -> None:
        """Start a fresh worker (after a crash); it logs to the same file."""
        self.worker = launcher.start_worker(self.environment, self.worker_log)

    def stop(self) -> None:
        """Stop the worker gracefully, then make sure nothing it forked is left."""
        if launcher.stop(self.worker):  # killed by then; the log says what it was doing
            tail = self.worker_log.read_text(errors="replace")[-3000:]
            message = f"the RQ worker did not stop within 10 s; its log ends:\n{tail}"
            warnings.warn(message, stacklevel=2)


@pytest.fixture(scope="module")
def running_line(request, test_environment, tmp_path_factory):
    """The line for one test module; a module may set LINE_CONFIG to change its settings."""
    overrides = {"WAIT_TIMEOUT_SECONDS": WAIT_TIMEOUT, **getattr(request.module, "LINE_CONFIG", {})}
    with LiveServer(overrides) as server:
        config = server.app.config
        with Twin(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            phone_number=config["TWILIO_PHONE_NUMBER"],
            voice_url=server.url + "/twilio/voice",
            status_callback=server.url + "/twilio/voice/status",
            sms_url=server.url + "/twilio/sms",
            time_scale=getattr(request.module, "TWIN_TIME_SCALE", TIME_SCALE),
        ) as twin:
            # The twin stands in for Twilio's REST API and the payment provider's alike.
            config["TWILIO_API_BASE"] = config["STRIPE_API_BASE"] = twin.api_base
            environment = {
                **os.environ,
                "PUBLIC_BASE_URL": server.url,
                "TWILIO_API_BASE": twin.api_base,
                "STRIPE_API_BASE": twin.api_base,
                **{name: str(value) for name, value in overrides.items()},
            }
            worker_log = tmp_path_factory.mktemp("worker") / "worker.log"
            line = Line(server, twin, environment, worker_log)
            try:
                yield line
            finally:
                line.stop()


@pytest.fixture
def line(running_line):
    """The running line with empty tables and pool for this test."""
    _clean(running_line.app)
    yield running_line
    live = [c for c in list(running_line.twin.callers.values()) if not c.ended]
    for caller in live:
        caller.hang_up()
    for caller in live:
        caller.wait_until_ended(timeout=5)
    running_line.twin.wait_idle(timeout=5)
    _drain(running_line)


def _drain(line: Line, timeout: float = 15.0) -> None:
    """Let the worker finish the jobs this test left it before the next test empties the tables.

    SQLite hands out the ids of deleted rows again, so a job running late (a rescue after a
    hang-up, a purge) would otherwise act on the next test's call or text of the same id.
    """
    connection = redis.Redis.from_url(line.app.config["REDIS_URL"])
    queue = Queue(line.app.config["RQ_QUEUE"], connection=connection)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [w for w in Worker.all(connection=connection) if w.pid == line.worker.pid]
        busy = any(w.get_state() == "busy" for w in workers)
        if not busy and (queue.count == 0 or not workers):
            return
        time.sleep(0.05)
