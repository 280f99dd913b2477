"""The ceiling of the stack: a minimal Flask app returning constant TwiML; and the floor of
any webhook that needs Redis: the same after one Redis round trip (a PING)."""

from __future__ import annotations

import os

import redis
from flask import Flask, Response

from app.infra.redis import OPTIONS

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello.</Say></Response>'


def create_app() -> Flask:
    """A Flask app with one endpoint and nothing else."""
    app = Flask(__name__)

    @app.post("/twilio/voice")
    def voice():
        return Response(TWIML, mimetype="text/xml")

    return app


def create_ping_app() -> Flask:
    """The ceiling's endpoint, but each request first makes one round trip to the line's
    Redis (REDIS_URL, the line's client options): what no greeting can do without."""
    app = Flask(__name__)
    client = redis.Redis.from_url(os.environ["REDIS_URL"], **OPTIONS)

    @app.post("/twilio/voice")
    def voice():
        client.ping()
        return Response(TWIML, mimetype="text/xml")

    return app
