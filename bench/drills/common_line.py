"""Helpers the drills share: a throwaway Redis, dialling callers, reading the line's state."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import func, select

from app.db import db
from app.line.models import Call
from twin import launcher


class ThrowawayRedis:
    """A redis-server of the drill's own on a free loopback port, never the shared one."""

    def __init__(self):
        self.port = launcher.free_port()
        self.log = Path(tempfile.mkdtemp(prefix="mindfuse-drill-")) / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/4"

    def _pings(self, _process: subprocess.Popen) -> bool:
        try:
            return redis.Redis(port=self.port).ping()
        except redis.ConnectionError:
            return False

    def start(self) -> ThrowawayRedis:
        """Start the server (again, empty, after a stop) and wait until it answers."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no"]
        self.process = launcher.spawn("redis-server", command, None, self._pings, log=self.log)
        return self

    def stop(self) -> None:
        """Stop the server; with no save configured, everything in memory is gone."""
        if self.process is not None:
            launcher.stop(self.process)


def dial_and_press(twin, number: str, digits: str = "1"):
    """A caller who hears the greeting and presses a key."""
    caller = twin.dial(number)
    caller.wait_until_heard("press 1", timeout=20)
    caller.press(digits)
    return caller


def states(app) -> dict[str, int]:
    """How many calls are in each state, from the database."""
    with app.app_context():
        rows = db.session.execute(select(Call.state, func.count()).group_by(Call.state)).all()
        db.session.remove()
    return {state: count for state, count in rows}


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    """Poll until the predicate holds or the time is up; True if it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
