"""The line as in production, on loopback, for benchmarks: gunicorn web, the twin, stores."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from app.db import db, utcnow
from app.fusing import sessions
from app.settings import database_uri
from twin import Twin, launcher
from twin.faults import RestPace
from twin.remote import RemoteTwin


class Stack:
    """A fresh database schema, a Redis namespace, the twin and a gunicorn web process."""

    def __init__(
        self,
        web_workers: int = 2,
        web_threads: int = 8,
        db_port: int | None = None,
        twin_pace: RestPace | None = None,
        twin_process: bool = False,
        web_target: str = "app:create_app()",
        twin_options: dict | None = None,
        **settings: str,
    ):
        self.run = secrets.token_hex(3)
        self.tmp = Path(tempfile.mkdtemp(prefix="mindfuse-bench-"))
        self.port = launcher.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.schema: str | None = None
        self.admin_url = os.environ.get("DATABASE_URL")
        self.db_port = db_port  # the app reaches PostgreSQL through this port (a drill's proxy)
        self.settings = {
            "DATABASE_URL": self._database(),
            "REDIS_KEY_PREFIX": f"bench{self.run}:",
            "RQ_QUEUE": f"bench{self.run}",
            "SECRET_KEY": secrets.token_hex(16),
            "NUMBER_HASH_KEY": secrets.token_hex(16),
            "NUMBER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "PUBLIC_BASE_URL": self.url,
            "CALLS_PER_HOUR_LIMIT": "1000000",
            **settings,
        }
        self.env = {**os.environ, **self.settings}
        self.web_options = (web_workers, web_threads)
        self.twin_pace = twin_pace  # the twin's REST latency, 429s and concurrency limit
        # The twin in a process of its own (driven through its control API, self.remote):
        # then this process's threads do not share its interpreter lock.
        self.twin_process: subprocess.Popen | None = None
        self.remote: RemoteTwin | None = None
        self._twin_own_process = twin_process
        self.web_target = web_target  # what gunicorn serves (a benchmark may wrap the app)
        self.twin_options = twin_options or {}  # more of the Twin's knobs (time_scale, ...)
        self.twin: Twin | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _database(self) -> str:
        url = self.admin_url
        if not url:
            return f"sqlite:///{self.tmp / 'bench.db'}"
        self.schema = f"bench_{self.run}"
        engine = create_engine(database_uri(url))
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        engine.dispose()
        if self.db_port:
            parts = urlsplit(url)
            url = urlunsplit(
                parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{self.db_port}")
            )
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}options={quote(f'-csearch_path={self.schema}')}"

    def __enter__(self) -> Stack:
        self._saved = {name: os.environ.get(name) for name in self.settings}
        os.environ.update(self.settings)  # the benchmark's own app instance reads these too
        try:
            self._start()
        except BaseException:  # a failed start leaves no process, schema or keys behind
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        launcher.migrate(self.env)
        self._quiet_schedule()
        if self._twin_own_process:
            self._start_twin_process()
        else:
            self._start_twin()
        workers, threads = self.web_options
        self.web = launcher.start_web(
            self.port,
            self.env,
            target=self.web_target,
            workers=workers,
            threads=threads,
            log_level="warning",
        )

    def _start_twin_process(self) -> None:
        port, token = launcher.free_port(), secrets.token_urlsafe(32)
        args = ["--voice-url", self.url + "/twilio/voice", "--callback-workers", "16"]
        args += ["--status-callback", self.url + "/twilio/voice/status"]
        args += ["--sms-url", self.url + "/twilio/sms"]
        self.twin_process = launcher.start_twin(
            port, args, token=token, env=self.env, log=self.tmp / "twin.log"
        )
        base = f"http://127.0.0.1:{port}"
        self.remote = RemoteTwin(base, token)
        self._saved.setdefault("TWILIO_API_BASE", os.environ.get("TWILIO_API_BASE"))
        self.env["TWILIO_API_BASE"] = os.environ["TWILIO_API_BASE"] = base

    def _start_twin(self) -> None:
        self.twin = Twin(
            account_sid=self.env["TWILIO_ACCOUNT_SID"],
            auth_token=self.env["TWILIO_AUTH_TOKEN"],
            voice_url=self.url + "/twilio/voice",
            status_callback=self.url + "/twilio/voice/status",
            sms_url=self.url + "/twilio/sms",
            **{"callback_workers": 16, "rest_pace": self.twin_pace, **self.twin_options},
        ).start()
        self._saved.setdefault("TWILIO_API_BASE", os.environ.get("TWILIO_API_BASE"))
        self.env["TWILIO_API_BASE"] = os.environ["TWILIO_API_BASE"] = self.twin.api_base

    @staticmethod
    def _quiet_schedule() -> None:
        """Put the weekly Fusing Hour three days away: a run of the normal line must not meet
        the default one (Sundays 10:00 Berlin). Benchmarks of the Fusing Hour set their own."""
        app = create_app()
        with app.app_context():
            sessions.change_rule(weekday=(utcnow().weekday() + 3) % 7)
            db.engine.dispose()

    def worker(self, *options: str, log_name: str = "worker.log") -> subprocess.Popen:
        """Start an RQ worker (with its scheduler) on the stack's queue and wait until it runs.

        It runs in a session of its own and logs to `log_name` in the stack's directory (appended,
        so a second worker on the same name adds to it). A drill that kills it must kill its work
        horse too: RQ puts each horse in a process group of its own.
        """
        process = launcher.start_worker(self.env, self.tmp / log_name, *options)
        self.workers.append(process)
        return process

    def _forget_redis(self) -> None:
        url = self.env.get("REDIS_URL")
        if not url:
            return
        conn = redis.Redis.from_url(url)
        for pattern in (
            self.settings["REDIS_KEY_PREFIX"] + "*",
            f"rq:*{self.settings['RQ_QUEUE']}*",
        ):
            for name in conn.scan_iter(pattern, count=1000):
                conn.delete(name)

    def __exit__(self, *exc) -> None:
        launcher.stop(*self.workers)
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self.twin is not None:
            self.twin.stop()
        if self.twin_process is not None:
            launcher.stop(self.twin_process, timeout=20)
        if self.web is not None:
            launcher.stop(self.web, timeout=20)  # time to drain a herd's callbacks
        self._forget_redis()
        if self.schema:
            engine = create_engine(database_uri(self.admin_url))
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()
