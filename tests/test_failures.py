"""When Redis or the database is down, callers hear an apology in valid TwiML."""

from __future__ import annotations

import logging
import socket

import pytest
import redis
from sqlalchemy import select

from app import create_app
from app.db import db
from tests.support import Twilio, call_form, spoken, twiml


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_apology(response):
    root = twiml(response)
    assert "sorry" in spoken(root).lower()
    assert root[-1].tag == "Hangup"


def test_redis_down_gets_the_caller_an_apology(app, caplog):
    broken = create_app({"TESTING": True, "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"})
    twilio = Twilio(broken.test_client())
    form = call_form()
    with caplog.at_level(logging.ERROR):
        _assert_apology(twilio.post("/twilio/voice", form))
        _assert_apology(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))
    assert any("voice webhook" in r.getMessage() for r in caplog.records)
    assert "+15550100001" not in caplog.text


@pytest.mark.parametrize("uri", ["postgresql+psycopg://nobody@127.0.0.1:{port}/none"])
def test_database_down_gets_the_caller_an_apology(app, uri, caplog):
    broken = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri.format(port=_closed_port())}
    )
    twilio = Twilio(broken.test_client())
    with caplog.at_level(logging.ERROR):
        _assert_apology(twilio.post("/twilio/voice", call_form()))
    status = twilio.post("/twilio/voice/status", {**call_form(), "CallStatus": "completed"})
    assert status.status_code == 503  # a callback Twilio may retry, not a caller to talk to


def test_no_raw_number_is_kept_in_the_database_or_redis(twilio, app):
    numbers = ["+4915550000077", "+447700900177"]
    for number in numbers:
        form = call_form(number)
        twilio.post("/twilio/voice", form)
        twilio.post("/twilio/voice/menu", {**form, "Digits": "1"})
    needles = {n.lstrip("+") for n in numbers} | {n[-10:] for n in numbers}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                cells = " ".join(str(value) for value in row)
                assert not any(needle in cells for needle in needles), table.name
        conn = redis.Redis.from_url(app.config["REDIS_URL"])
        keys = list(conn.scan_iter("*"))  # the suite's own db index: pool, counters, RQ jobs
        assert any(name.startswith(b"rq:") for name in keys)
        for name in keys:
            kind = conn.type(name).decode()
            readers = {
                "hash": conn.hgetall,
                "zset": lambda k: conn.zrange(k, 0, -1),
                "set": conn.smembers,
                "list": lambda k: conn.lrange(k, 0, -1),
                "string": conn.get,
                "stream": conn.xrange,
            }
            value = readers[kind](name)
            blob = f"{name!r} {value!r}"
            assert not any(needle in blob for needle in needles), name
