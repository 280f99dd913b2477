"""When Redis or the database is down, callers hear an apology in valid TwiML."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app import create_app
from app.db import db
from tests.support import Twilio, call_form, dump_database, dump_redis, spoken, twiml


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
    assert status.status_code == 503  # a failed callback, not a caller to talk to


def test_every_twilio_blueprint_answers_a_failure_as_twilio_can_use(app):
    """The Fusing Hour's guests hear the apology; texts and callbacks get a 503."""
    uri = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none"
    twilio = Twilio(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri}).test_client())
    _assert_apology(twilio.post("/twilio/fusing/lobby", call_form()))
    # The countdown is a waitUrl document, which may not hang up (error 13238): it
    # apologises over music that loops, and the guest stays in the lobby.
    wait = twiml(twilio.post("/twilio/fusing/countdown?session=1", call_form()))
    assert "sorry" in spoken(wait).lower() and wait.find("Hangup") is None
    assert [node.tag for node in wait] == ["Say", "Play"] and wait.find("Play").get("loop") == "0"
    text = {"MessageSid": "SM" + "1" * 32, "From": "+15550100002", "Body": "hello"}
    assert twilio.post("/twilio/sms", text).status_code == 503
    status = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    assert twilio.post("/twilio/sms/status", status).status_code == 503
    assert twilio.post("/twilio/voice/conference", call_form()).status_code == 503


def test_no_raw_number_is_kept_in_the_database_or_redis(twilio, app):
    numbers = ["+4915550000077", "+447700900177"]
    for number in numbers:
        form = call_form(number)
        twilio.post("/twilio/voice", form)
        twilio.post("/twilio/voice/menu", {**form, "Digits": "1"})
    needles = {n.lstrip("+") for n in numbers} | {n[-10:] for n in numbers}
    stored = dump_database(app)
    live = dump_redis(app.config["REDIS_URL"])  # the suite's own db index: pool, counters, jobs
    assert "rq:job" in live and "+44 ••• •••• 77" in stored
    for needle in needles:
        assert needle not in stored and needle not in live


def test_a_pooled_connection_the_server_closed_is_replaced_unnoticed(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a server that closes connections needs PostgreSQL")
        first = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool, idle
        outside = create_engine(db.engine.url, poolclass=NullPool)
        with outside.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            deadline = time.monotonic() + 5  # until the server has let it go
            while time.monotonic() < deadline and conn.scalar(_ALIVE, {"pid": first}):
                time.sleep(0.05)
        outside.dispose()
        second = db.session.scalar(text("SELECT pg_backend_pid()"))  # no error: a new connection
        assert second != first


_ALIVE = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
