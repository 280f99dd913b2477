"""Live state in Redis: the connection, key names and the job queue."""

from __future__ import annotations

import threading
from datetime import timedelta

import redis
from flask import Flask, current_app
from rq import Queue, Retry

from app.infra.local_redis import ensure_running

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
    return current_app.config["REDIS_KEY_PREFIX"] + ":".join(parts)


def queue() -> Queue:
    """The RQ queue the web process enqueues jobs on."""
    return Queue(current_app.config["RQ_QUEUE"], connection=connection())


def enqueue(
    func: str,
    *args,
    delay: float = 0,
    job_id: str | None = None,
    backoff: tuple[int, ...] = (1, 5, 15),
    **options,
):
    """Enqueue a job by dotted path with ids as arguments, now or after `delay` seconds.

    A failing job is retried after each of the `backoff` intervals (seconds) in turn.
    """
    options.setdefault("job_timeout", 30)
    options.setdefault("retry", Retry(max=len(backoff), interval=list(backoff)))
    options.setdefault("result_ttl", 600)
    options.setdefault("failure_ttl", 7 * 24 * 3600)
    if job_id:
        options["job_id"] = job_id
    if delay > 0:
        return queue().enqueue_in(timedelta(seconds=delay), func, *args, **options)
    return queue().enqueue(func, *args, **options)
