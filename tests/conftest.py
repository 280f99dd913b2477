"""Fixtures after Flask's tutorial: app, client, runner; a fresh schema per run, clean per test.

DATABASE_URL and REDIS_URL point the suite at real servers (CI: PostgreSQL and Redis on
loopback). Without them it uses a SQLite file and a local Redis it starts itself. The suite
isolates itself: its own PostgreSQL schema, its own Redis db index and key prefix.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from app import create_app
from app.db import db, utcnow
from app.fusing import sessions
from app.infra.local_redis import ensure_running
from app.settings import database_uri
from tests.support import AUTH_TOKEN, PUBLIC, RUN, Twilio


def _test_database(tmp: Path) -> tuple[str, str | None]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'test.db'}", None
    schema = f"test_{RUN}"
    admin = create_engine(database_uri(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}", schema


def _test_redis(tmp: Path) -> str:
    url = os.environ.get("REDIS_URL") or ensure_running(str(tmp / "redis"))
    index = os.environ.get("TEST_REDIS_DB", "15")
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={index}"  # urlunsplit would drop the empty host
    return urlunsplit(parts._replace(path=f"/{index}"))


@pytest.fixture(scope="session", autouse=True)
def test_environment():
    """Point the app (and any worker process the tests start) at the suite's own stores."""
    tmp = Path(tempfile.mkdtemp(prefix="mindfuse-test-"))
    db_url, schema = _test_database(tmp)
    environment = {
        "DATABASE_URL": db_url,
        "REDIS_URL": _test_redis(tmp),
        "REDIS_KEY_PREFIX": f"mft{RUN}:",
        "RQ_QUEUE": f"mft{RUN}",
        "SECRET_KEY": secrets.token_hex(16),
        "NUMBER_HASH_KEY": secrets.token_hex(16),
        "NUMBER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 24 + RUN,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC,
        "MINDFUSE_ENV": "development",
    }
    saved = {k: os.environ.get(k) for k in environment}
    os.environ.update(environment)
    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade  # noqa: PLC0415

        upgrade()
        db.engine.dispose()
    yield environment
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if not saved["REDIS_URL"]:  # the suite started its own Redis: stop it
        # shutdown closes the very connection it was sent on
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(environment["REDIS_URL"]).shutdown(nosave=True)
    if schema:
        admin = create_engine(database_uri(saved["DATABASE_URL"]))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


def _clean(app) -> None:
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        conn = redis.Redis.from_url(app.config["REDIS_URL"])
        for name in conn.scan_iter(app.config["REDIS_KEY_PREFIX"] + "*"):
            conn.delete(name)
        for name in conn.scan_iter(f"rq:*{app.config['RQ_QUEUE']}*"):
            conn.delete(name)
        # The default Fusing Hour (Sundays 10:00 Berlin) would send every call of a test run
        # then to its lobby: tests start with the weekly rule three days away from today.
        sessions.change_rule(weekday=(utcnow().weekday() + 3) % 7)


@pytest.fixture
def app():
    """A fresh app over empty tables and an empty Redis namespace."""
    app = create_app({"TESTING": True})
    _clean(app)
    yield app
    _clean(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def twilio(client):
    return Twilio(client)


class LiveServer:
    """The app served over real HTTP on loopback, in a background thread."""

    def __init__(self, overrides: dict | None = None):
        self._app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = create_app({"TESTING": True, "PUBLIC_BASE_URL": self.url, **(overrides or {})})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def __enter__(self):
        _clean(self.app)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        _clean(self.app)
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_server():
    """The app on a real HTTP server; PUBLIC_BASE_URL is its loopback address."""
    with LiveServer() as server:
        yield server


@pytest.fixture
def twin_api(app):
    """A twin in this process answering the app's REST calls (no phones dialling)."""
    from twin import Twin  # noqa: PLC0415

    config = app.config
    with Twin(
        account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"]
    ) as tw:
        config["TWILIO_API_BASE"] = tw.api_base
        yield tw
