from __future__ import annotations

import time

import redis

from app.infra import redis as line_redis
from tests.support import together


def test_threads_racing_to_the_first_redis_use_share_one_client(app, monkeypatch):
    built: list[redis.Redis] = []
    real = redis.Redis.from_url

    def slow_from_url(*args, **kwargs):
        time.sleep(0.05)  # widens the moment between looking for the client and storing it
        client = real(*args, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(redis.Redis, "from_url", slow_from_url)
    app.extensions[line_redis.EXTENSION] = None  # as in a web process before its first request
    used = []

    def first_request() -> None:
        client = line_redis.connection()
        client.ping()
        used.append(client)

    together(8, first_request, app.app_context)
    assert len(built) == 1
    assert len(used) == 8 and all(client is built[0] for client in used)
