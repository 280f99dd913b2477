from __future__ import annotations

import threading
import time

import redis

from app import live


def test_threads_racing_to_the_first_redis_use_share_one_client(app, monkeypatch):
    built: list[redis.Redis] = []
    real = redis.Redis.from_url

    def slow_from_url(*args, **kwargs):
        time.sleep(0.05)  # widens the moment between looking for the client and storing it
        client = real(*args, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(redis.Redis, "from_url", slow_from_url)
    app.extensions[live.EXTENSION] = None  # as in a web process before its first request
    start, used = threading.Barrier(8), []

    def first_request() -> None:
        with app.app_context():
            start.wait()
            client = live.connection()
            client.ping()
            used.append(client)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert len(used) == 8 and all(client is built[0] for client in used)
