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
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app, urls
from app.db import db
from app.infra.local_redis import ensure_running
from app.settings import database_uri
from tests import privacy
from tests.support import (
    AUTH_TOKEN,
    PUBLIC,
    PURGE_DELAY,
    RUN,
    TIME_SCALE,
    WAIT_TIMEOUT,
    Line,
    LiveServer,
    Twilio,
    clean,
    drain,
)
from twin import Twin

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test fails: what it needs must be installed there, not silently missed."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which must run every test: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Likewise for a module skipped whole at import (a missing package, say)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI (CI=true): {report.longrepr}"


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


@pytest.fixture
def app():
    """A fresh app over empty tables and an empty Redis namespace."""
    app = create_app({"TESTING": True})
    clean(app)
    yield app
    clean(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def within_one_hour(monkeypatch):
    """The greeting's clock, kept clear of the hour's end: calls are counted per clock hour,
    so a test that makes several calls must not see the allowance start again between them."""
    from app.db import utcnow  # noqa: PLC0415
    from app.voice import views  # noqa: PLC0415

    now = utcnow()
    shift = timedelta(minutes=15) if now.minute >= 50 else timedelta(0)
    monkeypatch.setattr(views, "utcnow", lambda: utcnow() - shift)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def twilio(client):
    return Twilio(client)


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


@pytest.fixture(scope="module")
def running_line(request, test_environment, tmp_path_factory):
    """The line for one test module; a module may set LINE_CONFIG to change its settings,
    and TWIN_TIME_SCALE and TWIN_OPTIONS for the twin's."""
    scale = getattr(request.module, "TWIN_TIME_SCALE", TIME_SCALE)
    overrides = {
        "WAIT_TIMEOUT_SECONDS": WAIT_TIMEOUT,
        "PURGE_DELAY_SECONDS": PURGE_DELAY,
        "SMS_SEGMENTS_PER_SECOND": 1 / scale,  # the twin's long code, on its time scale
        **getattr(request.module, "LINE_CONFIG", {}),
    }
    with LiveServer(overrides) as server:
        config = server.app.config
        with Twin(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            phone_number=config["TWILIO_PHONE_NUMBER"],
            voice_url=server.url + "/twilio/voice",
            # as `mindfuse urls` prints it: with the connection overrides for retries
            status_callback=f"{server.url}{urls.STATUS}#{urls.RETRIES}",
            sms_url=server.url + "/twilio/sms",
            time_scale=scale,
            **getattr(request.module, "TWIN_OPTIONS", {}),  # the twin's knobs, per module
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
    clean(running_line.app)
    yield running_line
    live = [c for c in list(running_line.twin.callers.values()) if not c.ended]
    for caller in live:
        caller.hang_up()
    for caller in live:
        caller.wait_until_ended(timeout=5)
    running_line.twin.wait_idle(timeout=5)
    drain(running_line)
    kept = privacy.stores(running_line.app, running_line.logs())
    assert privacy.leaks(kept, running_line.numbers()) == [], "a raw phone number was kept"
