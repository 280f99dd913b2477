"""The database: Flask-SQLAlchemy with typed models, Alembic migrations via Flask-Migrate."""

from __future__ import annotations

import select
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Result, Select, event, exc, false, update
from sqlalchemy import select as sql_select  # `select` here is the standard library's
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

from app.private_files import touch_private

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Objects keep their loaded values after a commit: a webhook that commits and then reads
# what it just wrote should not pay another SELECT for it.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def dialect_insert(target):
    """An INSERT in the bound database's own dialect, which has ON CONFLICT (upsert) clauses.

    The line runs on PostgreSQL or SQLite; both spell it the same way.
    """
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(target)


def locked(statement: Select, key_share: bool = False) -> Result:
    """Run `statement` FOR UPDATE (on PostgreSQL FOR NO KEY UPDATE with `key_share`, which
    lets other transactions insert rows referring to them): its rows are held until the
    transaction ends, so two transactions that check and then claim them run one after the
    other, the second seeing what the first committed.

    SQLite has no row locks and leaves FOR UPDATE out: there the transaction first takes the
    database's one write lock (an UPDATE of no row), and then reads the rows as they stand.
    That holds with pysqlite's own transactions (a read begins none, the UPDATE begins one
    and, being its first statement, waits for the lock on the newest data): a driver mode
    that begins on reads would need BEGIN IMMEDIATE here instead.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        table = statement.get_final_froms()[0]
        key = next(iter(table.primary_key.columns))
        db.session.execute(update(table).where(false()).values({key: key}))
    return db.session.execute(statement.with_for_update(key_share=key_share))


def locked_in_order(key, ids: Collection) -> None:
    """Hold the rows with these keys (a primary key column) until the transaction ends,
    taken in the order of the keys, as every transaction that holds several rows of one
    table takes them (a flush writes rows in that order too): two such transactions never
    each wait for a row the other holds."""
    if ids:
        locked(sql_select(key).where(key.in_(ids)).order_by(key)).all()


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets web, worker and scheduler read while one of them writes.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Pool, "checkout")
def _closed_by_server(dbapi_connection, _record, _proxy):
    """Replace a pooled connection the server (or a proxy) has closed, without a round trip.

    An idle connection has nothing to read unless its peer hung up: a readable socket means
    EOF, or an error the server sent before closing. Pinging instead would cost every
    request a round trip to the database. The pool retries the checkout on a new connection.
    """
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None or type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    poller = select.poll()
    try:
        poller.register(fileno(), select.POLLIN)
    except (OSError, ValueError) as error:  # already closed on our side
        raise exc.DisconnectionError() from error
    if poller.poll(0):  # readable, hung up or in error: not a connection to use
        raise exc.DisconnectionError()


def _private_sqlite_file(uri: str, instance_path: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would make it 0644).

    SQLite gives its -wal and -shm files the database file's mode, so they follow.
    """
    name = make_url(uri).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(instance_path) / name  # Flask-SQLAlchemy reads a relative one there too
    if not path.parent.is_dir():
        return  # SQLite will say what is wrong with the path
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file == path or file.exists():  # companions made with an older mode are tightened
            touch_private(file)


def init_app(app: Flask) -> None:
    """Bind the database and the migration commands to the app."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        _private_sqlite_file(uri, app.instance_path)
    else:
        options.setdefault("connect_args", {"connect_timeout": 3})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
