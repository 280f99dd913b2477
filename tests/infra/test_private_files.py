"""instance/ is the owner's alone: folders 0700 and files 0600 from the moment they exist,
not after a chmod (the tests make every chmod a no-op and the umask permissive)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import text

from app import create_app
from app import db as database
from app.infra.local_redis import ensure_running
from app.private_files import private_folder
from app.settings import local_secrets

# Another process asks for the write lock at once: "locked" while this one holds it.
OTHER_WRITER = """
import sqlite3, sys
try:
    sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    print("acquired")
except sqlite3.OperationalError:
    print("locked")
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def careless(monkeypatch):
    """A permissive umask (0) and no chmod: a mode can only come from the creating call."""
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    monkeypatch.setattr(Path, "chmod", lambda *args, **kwargs: None)
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def test_development_secrets_are_written_0600_into_a_0700_folder(tmp_path, careless):
    instance = tmp_path / "instance"
    local_secrets(str(instance))
    assert _mode(instance) == 0o700
    assert _mode(instance / "secrets.json") == 0o600
    assert sorted(p.name for p in instance.iterdir()) == ["secrets.json"]  # no tmp left


def test_the_sqlite_file_and_its_journal_are_0600(tmp_path, careless):
    uri = f"sqlite:///{tmp_path / 'line.db'}"
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS={})
    database.init_app(app)
    with app.app_context():
        database.db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        database.db.session.execute(text("INSERT INTO t VALUES (1)"))
        database.db.session.commit()
        files = sorted(tmp_path.glob("line.db*"))
        assert [f.name for f in files] == ["line.db", "line.db-shm", "line.db-wal"]
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        database.db.engine.dispose()


def test_another_app_on_the_sqlite_file_keeps_this_process_s_locks(tmp_path):
    # SQLite locks its files with POSIX locks, which a close of any descriptor of the file
    # in this process drops: making the file private again must not open it.
    path = tmp_path / "line.db"
    held = sqlite3.connect(path, isolation_level=None)
    held.execute("PRAGMA journal_mode=WAL")
    held.execute("CREATE TABLE t (x INTEGER)")
    held.execute("BEGIN IMMEDIATE")  # this process holds the write lock
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLALCHEMY_ENGINE_OPTIONS={})
    database.init_app(app)
    other = subprocess.run(
        [sys.executable, "-c", OTHER_WRITER, str(path)], capture_output=True, text=True
    )
    held.execute("ROLLBACK")
    held.close()
    assert other.stdout.strip() == "locked"


def test_an_older_loose_sqlite_file_and_instance_folder_are_tightened(tmp_path):
    loose = tmp_path / "instance"
    loose.mkdir(mode=0o755)
    (loose / "mindfuse.db").touch(mode=0o644)
    os.chmod(loose / "mindfuse.db", 0o644)
    os.chmod(loose, 0o755)
    private_folder(loose)
    app = Flask(__name__, instance_path=str(loose))
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite:///mindfuse.db")  # relative: instance/
    database.init_app(app)
    assert _mode(loose) == 0o700 and _mode(loose / "mindfuse.db") == 0o600


def test_the_app_keeps_its_instance_folder_private():
    instance = Path(create_app({"TESTING": True}).instance_path)
    os.chmod(instance, 0o755)  # as an older version left it
    create_app({"TESTING": True})
    assert _mode(instance) == 0o700


def test_the_local_redis_keeps_its_socket_pid_file_log_and_lock_private(tmp_path, careless):
    instance = tmp_path / "instance"
    url = ensure_running(str(instance))
    try:
        names = ["redis.lock", "redis.log", "redis.pid", "redis.sock"]
        assert sorted(p.name for p in instance.iterdir()) == names
        assert _mode(instance) == 0o700
        assert {name: _mode(instance / name) for name in names} == dict.fromkeys(names, 0o600)
    finally:
        with contextlib.suppress(redis.ConnectionError):  # it closes the connection it is sent
            redis.Redis.from_url(url).shutdown(nosave=True)
