"""Live state in Redis: the connection, key names and the job queue."""

from __future__ import annotations

import contextlib
import threading
import time

import redis
from flask import Flask, current_app
from redis.commands.core import Script
from redis.sentinel import Sentinel, SentinelConnectionPool
from rq import Queue

from app.infra.local_redis import ensure_running
from app.settings import queue_names, settings, this_app

EXTENSION = "mindfuse.redis"
OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2, "health_check_interval": 30}
"""How every client of the app's Redis connects: a stalled server fails a request in 2 s."""
FOLLOW_SECONDS = 1.0
"""Through Sentinel: how often a process asks which server is the primary, at most."""
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


def sentinel_options(url: str | None) -> dict:
    """The connection options besides the address when Sentinels name the primary:
    the database index and credentials of REDIS_URL (its host is not used), the timeouts."""
    options = {key: value for key, value in OPTIONS.items() if key != "health_check_interval"}
    if url:
        parsed = redis.connection.parse_url(url)
        options.update({k: parsed[k] for k in ("db", "username", "password") if k in parsed})
    return options


class FollowingPool(SentinelConnectionPool):
    """A Sentinel pool that asks for the primary at most every FOLLOW_SECONDS as it hands out
    connections, and so drops those to a demoted primary.

    redis-py's own pool asks only when it connects, or when a server answers that it is a
    replica now; a primary demoted by `SENTINEL FAILOVER` goes on answering as a primary
    until the Sentinel reconfigures it (on its next look, up to 10 s on), and the writes it
    takes meanwhile are lost.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._asked = 0.0

    def get_connection(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._asked >= FOLLOW_SECONDS:
            self._asked = now
            with contextlib.suppress(redis.ConnectionError):  # none found: the connect says so
                self.get_master_address()  # a new address drops the idle connections
        return super().get_connection(*args, **kwargs)


def build(app: Flask) -> redis.Redis:
    """A client for the app's Redis: the primary the Sentinels name, or REDIS_URL's server.

    Through Sentinel the client asks for the primary's address on each new connection, and
    drops its connections when the server it reached says it is a replica now, so a
    promotion is followed without a restart (redis-py's SentinelConnectionPool).
    """
    sentinels = app.config.get("REDIS_SENTINELS")
    if sentinels:
        options = sentinel_options(app.config.get("REDIS_URL"))
        timeouts = {k: OPTIONS[k] for k in ("socket_timeout", "socket_connect_timeout")}
        manager = Sentinel(sentinels, sentinel_kwargs=timeouts, **options)
        return manager.master_for(
            app.config["REDIS_SENTINEL_MASTER"],
            health_check_interval=OPTIONS["health_check_interval"],
            connection_pool_class=FollowingPool,
        )
    return redis.Redis.from_url(redis_url(app), **OPTIONS)


def connection() -> redis.Redis:
    """The app's Redis client, built on first use by one thread only.

    A second client built by a racing thread would be dropped, and a dropped client closes
    its pool's connections, then in use by the requests that picked it up meanwhile.
    """
    client = this_app().extensions.get(EXTENSION)
    if client is None:
        with _building:
            client = current_app.extensions.get(EXTENSION)
            if client is None:
                client = build(current_app)
                current_app.extensions[EXTENSION] = client
    return client


def run(script: Script, keys: list[str], args: list) -> object:
    """Run a registered script on a connection of the client's pool, as `script(keys, args)`
    does, for the greeting every call makes.

    redis-py's command path (its retry wrapper, argument checks, events and metrics hooks)
    cost about as much CPU again as sending the command and reading the reply. The pool
    still hands out the connection (a Sentinel pool still follows the primary) and the
    connection still checks its health. A script the server does not know yet (after a
    restart or a failover) is loaded and run by `script`. A connection that fails is
    dropped and the error raised, as the client does (its connections are built without
    retries): the script is never sent twice, and a stalled server fails the request in
    one socket timeout.
    """
    pool = script.registered_client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        return conn.read_response()
    except redis.exceptions.NoScriptError:  # not run: the reply said so
        pass
    except (redis.ConnectionError, redis.TimeoutError):
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    return script(keys=keys, args=args)


def key(*parts: str) -> str:
    """A Redis key under the configured prefix."""
    return settings.REDIS_KEY_PREFIX + ":".join(parts)


def queue(name: str) -> Queue:
    """One of the line's RQ queues (app.jobs says which job goes on which)."""
    return Queue(name, connection=connection())


def queues() -> list[Queue]:
    """The line's RQ queues, urgent first, as a worker takes from them."""
    return [queue(name) for name in queue_names(settings.RQ_QUEUE)]


def scripts(name: str, *sources: str) -> tuple:
    """These Lua scripts registered on the app's Redis client, once per app under `name`."""
    found = this_app().extensions.get(name)
    if found is None:
        conn = connection()
        found = tuple(conn.register_script(source) for source in sources)
        current_app.extensions[name] = found
    return found
