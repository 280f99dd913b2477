"""Helpers for the SMS tests: texts to the line as Twilio posts them, and what came of them."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

from sqlalchemy import select

from app.db import db
from app.identity import identify
from app.sms.models import Subscriber

NUMBER = "+447700900501"


def text(twilio, body: str, number: str = NUMBER, **extra):
    """Post an incoming text the way Twilio does; `extra` adds fields (OptOutType, ...)."""
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15550100000",
        "Body": body,
        "NumSegments": "1",
        **extra,
    }
    return twilio.post("/twilio/sms", form)


def reply(response) -> str:
    """The TwiML document the line answered with."""
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def replies(response) -> list[str]:
    """The texts the line's answer sends back (none, or one)."""
    return [m.text or "" for m in ET.fromstring(reply(response)).iter("Message")]


def subscriber(app, number: str = NUMBER) -> Subscriber | None:
    """The subscriber row of a number, detached, or None."""
    with app.app_context():
        identity = identify(number, app.config["NUMBER_HASH_KEY"], "x").identity
        found = db.session.scalar(select(Subscriber).where(Subscriber.identity == identity))
        db.session.expunge_all()
        return found
