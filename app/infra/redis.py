"""Live state in Redis: the connection, key names and the job queue."""

from __future__ import annotations

import threading

import redis
from flask import Flask, current_app
from rq import Queue

from app.infra.local_redis import ensure_running
from app.settings import settings

EXTENSION = "mindfuse.redis"
_building = threading.Lock()


def init_app(app: Flask) -> None:
    """Register the lazily built Redis connection."""
    app.extensions[EXTENSION] = None


def redis_url(app: Flask | None = None) -> str:
    """The configured Redis URL, or that of the embedded local server."""
    app = app or current_app
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = ensure_running(app.instance_path)
    return app.config["REDIS_URL"]


def connection() -> redis.Redis:
    """The app's Redis client, built on first use by one thread only.

    A second client built by a racing thread would be dropped, and a dropped client closes
    its pool's connections, then in use by the requests that picked it up meanwhile.
    """
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        with _building:
            client = current_app.extensions.get(EXTENSION)
            if client is None:
                client = redis.Redis.from_url(
                    redis_url(),
                    socket_timeout=2,
                    socket_connect_timeout=2,
                    health_check_interval=30,
                )
                current_app.extensions[EXTENSION] = client
    return client


def key(*parts: str) -> str:
    """A Redis key under the configured prefix."""
    return settings.REDIS_KEY_PREFIX + ":".join(parts)


def queue() -> Queue:
    """The RQ queue every job goes on (app.jobs enqueues them)."""
    return Queue(settings.RQ_QUEUE, connection=connection())


def scripts(name: str, *sources: str) -> tuple:
    """These Lua scripts registered on the app's Redis client, once per app under `name`."""
    found = current_app.extensions.get(name)
    if found is None:
        conn = connection()
        found = tuple(conn.register_script(source) for source in sources)
        current_app.extensions[name] = found
    return found
