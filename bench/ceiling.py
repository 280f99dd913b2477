"""The ceiling of the stack: a minimal Flask app returning constant TwiML."""

from __future__ import annotations

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello.</Say></Response>'


def create_app() -> Flask:
    """A Flask app with one endpoint and nothing else."""
    app = Flask(__name__)

    @app.post("/twilio/voice")
    def voice():
        return Response(TWIML, mimetype="text/xml")

    return app
