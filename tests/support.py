"""Shared test helpers: the suite's constants, signing, call forms and TwiML parsing."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import xml.etree.ElementTree as ET

import redis
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.db import db

RUN = secrets.token_hex(4)
PUBLIC = "http://line.test"
AUTH_TOKEN = "test-auth-token-" + RUN
LINE = "+15550100000"


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    return RequestValidator(token).compute_signature(url, params)


def call_form(from_number: str = "+15550100001", sid: str | None = None, **extra) -> dict:
    """The form Twilio posts for an incoming call."""
    form = {
        "CallSid": sid or "CA" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": from_number,
        "To": LINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def twiml(response) -> ET.Element:
    """Parse a TwiML response, checking it is a valid document."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def spoken(root: ET.Element) -> str:
    """All the text a caller hears from a TwiML document."""
    return " ".join(node.text or "" for node in root.iter("Say"))


class Twilio:
    """Posts signed webhooks to the app the way Twilio does."""

    def __init__(self, client):
        self.client = client

    def post(self, path: str, data: dict, signature: str | None = None):
        header = signature if signature is not None else sign(PUBLIC + path, data)
        return self.client.post(path, data=data, headers={"X-Twilio-Signature": header})


def together(count: int, action, within=contextlib.nullcontext) -> None:
    """Run `action` in `count` threads released at the same moment (each already inside
    `within()`, an app context say), and wait for them all."""
    start = threading.Barrier(count)

    def released() -> None:
        with within():
            start.wait()
            action()

    threads = [threading.Thread(target=released) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def eventually(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy; return that, or fail at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate.__name__}")
        time.sleep(interval)


def dump_redis(url: str) -> str:
    """Every key and value in the suite's Redis db index, as text to search."""
    conn = redis.Redis.from_url(url)
    readers = {
        "string": conn.get,
        "hash": conn.hgetall,
        "zset": lambda k: conn.zrange(k, 0, -1),
        "set": conn.smembers,
        "list": lambda k: conn.lrange(k, 0, -1),
        "stream": conn.xrange,
    }
    return "\n".join(f"{k!r} {readers[conn.type(k).decode()](k)!r}" for k in conn.scan_iter())


def dump_database(app) -> str:
    """Every row of every table, as text to search."""
    with app.app_context():
        return "\n".join(
            " ".join(str(value) for value in row)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table))
        )
