"""The SMS webhooks: incoming texts (keywords) and delivery status of texts sent."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app import jobs
from app.db import db
from app.fusing import sessions as fusing_sessions
from app.identity import identify
from app.sms import outbox, subscribers, texts
from app.sms.models import TextMessage
from app.telephony import twiml
from app.telephony.signature import twilio_request

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")
FINAL = {"delivered", "undelivered", "failed", "read"}


def _fallback_zone() -> str:
    return fusing_sessions.rule_row().timezone


def join(raw_number: str, identity: str, source: str) -> bool:
    """Sign a caller or texter up for reminders; False if their number cannot get texts."""
    subscriber = subscribers.subscribe(raw_number, identity, source, _fallback_zone())
    if subscriber is None:
        return False
    if source == "call":  # a text confirms what they signed up for and how to stop
        outbox.queue_text(subscriber, "confirmation")
    return True


@bp.post("")
@twilio_request
def incoming():
    """A text to the line: STOP/START/HELP as carriers require, JOIN/REMIND to sign up."""
    sender = request.form["From"]
    caller = identify(sender, current_app.config["NUMBER_HASH_KEY"], request.form["MessageSid"])
    # With Twilio's Advanced Opt-Out, Twilio has answered the keyword itself: only record it.
    handled = request.form.get("OptOutType", "").lower()
    word = handled or texts.keyword(request.form.get("Body", ""))
    if caller.withheld:
        return twiml.text_reply(None if handled else texts.WITHHELD)
    if word == "stop":
        subscribers.stop(caller.identity)
        reply = texts.STOPPED
    elif word in ("start", "join"):
        join(sender, caller.identity, "text")
        reply = texts.CONFIRMATION
    elif word == "help":
        reply = texts.HELP.format(line=current_app.config["TWILIO_PHONE_NUMBER"])
    else:
        reply = texts.UNKNOWN if subscribers.first_unknown_text_today(caller.identity) else None
    return twiml.text_reply(None if handled else reply)


@bp.post("/status")
@twilio_request
def status():
    """Delivery status of a text the line sent; delivered ones are deleted at Twilio."""
    message = db.session.scalar(
        select(TextMessage).where(TextMessage.sid == request.form.get("MessageSid", ""))
    )
    state = request.form.get("MessageStatus", "")
    if message is None or not state:
        return "", 204
    if message.status not in FINAL:  # a late 'sent' must not overwrite 'delivered'
        message.status = state
    if request.form.get("ErrorCode"):
        message.error_code = int(request.form["ErrorCode"])
    db.session.commit()
    if state in FINAL and current_app.config["PURGE_TWILIO_RECORDS"]:
        jobs.PURGE_MESSAGE.enqueue(message.id)
    return "", 204


@bp.errorhandler(Exception)
def failed(error: Exception):
    """A failure answers Twilio with a retryable status and no message to the sender."""
    if isinstance(error, HTTPException):
        return error
    log.exception("SMS webhook %s failed", request.endpoint)
    db.session.rollback()
    return "", 503
