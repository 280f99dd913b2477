from __future__ import annotations

import time

import pytest
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


SCRIPT = "redis.call('INCR', KEYS[1]); return {redis.call('GET', KEYS[1]), ARGV[1]}"


def test_a_script_run_on_a_pooled_connection_answers_as_the_script_would(app):
    with app.app_context():
        (script,) = line_redis.scripts("tests.run", SCRIPT)
        key = line_redis.key("tests", "run")
        assert line_redis.run(script, [key], ["x"]) == [b"1", b"x"]
        assert script(keys=[key], args=["y"]) == [b"2", b"y"]
        assert line_redis.run(script, [key], [3]) == [b"3", b"3"]


def test_a_script_the_server_forgot_is_loaded_and_run_once(app):
    with app.app_context():
        (script,) = line_redis.scripts("tests.run", SCRIPT)
        key = line_redis.key("tests", "forgot")
        line_redis.connection().script_flush()  # as after a restart or a failover
        assert line_redis.run(script, [key], ["x"]) == [b"1", b"x"]
        assert line_redis.connection().get(key) == b"1"


def test_a_connection_that_fails_is_dropped_and_the_script_not_sent_again(app, monkeypatch):
    with app.app_context():
        (script,) = line_redis.scripts("tests.run", SCRIPT)
        key = line_redis.key("tests", "broken")
        client = line_redis.connection()
        pool = client.connection_pool
        broken = pool.get_connection()
        pool.release(broken)  # the next one handed out
        read, disconnect, dropped = broken.read_response, broken.disconnect, []

        def sent_then_lost(*args, **kwargs):  # the server ran it; the reply never came
            read(*args, **kwargs)
            raise redis.TimeoutError("Timeout reading from socket")

        def noted(*args, **kwargs):
            dropped.append(broken)
            disconnect(*args, **kwargs)

        monkeypatch.setattr(broken, "read_response", sent_then_lost)
        monkeypatch.setattr(broken, "disconnect", noted)
        with pytest.raises(redis.TimeoutError):
            line_redis.run(script, [key], ["x"])
        assert dropped == [broken]
        monkeypatch.undo()
        assert client.get(key) == b"1"  # run once: not sent again on another connection
        assert line_redis.run(script, [key], ["y"]) == [b"2", b"y"]  # a new connection
