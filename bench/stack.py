"""The line as in production, on loopback, for benchmarks: gunicorn web, the twin, stores."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app.config import database_uri
from bench.common import BIN, free_port, gunicorn
from twin import Twin


class Stack:
    """A fresh database schema, a Redis namespace, the twin and a gunicorn web process."""

    def __init__(self, web_workers: int = 2, web_threads: int = 8, **settings: str):
        self.run = secrets.token_hex(3)
        self.tmp = Path(tempfile.mkdtemp(prefix="mindfuse-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.schema: str | None = None
        self.admin_url = os.environ.get("DATABASE_URL")
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
        self.twin: Twin | None = None
        self.web = None

    def _database(self) -> str:
        url = self.admin_url
        if not url:
            return f"sqlite:///{self.tmp / 'bench.db'}"
        self.schema = f"bench_{self.run}"
        engine = create_engine(database_uri(url))
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        engine.dispose()
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}options={quote(f'-csearch_path={self.schema}')}"

    def __enter__(self) -> Stack:
        self._saved = {name: os.environ.get(name) for name in self.settings}
        os.environ.update(self.settings)  # the benchmark's own app instance reads these too
        subprocess.run(
            [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.twin = Twin(
            account_sid=self.env["TWILIO_ACCOUNT_SID"],
            auth_token=self.env["TWILIO_AUTH_TOKEN"],
            voice_url=self.url + "/twilio/voice",
            status_callback=self.url + "/twilio/voice/status",
            sms_url=self.url + "/twilio/sms",
            callback_workers=16,
        ).start()
        self._saved.setdefault("TWILIO_API_BASE", os.environ.get("TWILIO_API_BASE"))
        self.env["TWILIO_API_BASE"] = os.environ["TWILIO_API_BASE"] = self.twin.api_base
        self.web = gunicorn("app:create_app()", self.port, self.env, *self.web_options)
        return self

    def __exit__(self, *exc) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self.twin is not None:
            self.twin.stop()
        if self.web is not None:
            self.web.terminate()
            self.web.wait(timeout=10)
        if self.schema:
            engine = create_engine(database_uri(self.admin_url))
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()
