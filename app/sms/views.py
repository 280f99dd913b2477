"""The SMS webhooks: incoming texts (keywords) and delivery status of texts sent."""

from __future__ import annotations

import logging

from flask import Blueprint, request
from sqlalchemy import select

from app.db import db
from app.identity import identify
from app.line import purges
from app.line.models import RecordKind
from app.settings import settings
from app.sms import subscribers, texts
from app.sms.models import TextMessage
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import FINAL_MESSAGE_STATUSES, InboundText, MessageStatusCallback

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


@bp.post("")
@twilio_request
def incoming():
    """A text to the line: STOP/START/HELP as carriers require, JOIN/REMIND to sign up."""
    text = InboundText.from_form(request.form)
    sender = text.from_number
    caller = identify(sender, settings.NUMBER_HASH_KEY, text.message_sid)
    # With Twilio's Advanced Opt-Out, Twilio has answered the keyword itself: only record it.
    handled = text.opt_out
    word = handled or texts.keyword(text.body)
    if caller.withheld:
        return _answer(text, None if handled else texts.WITHHELD)
    if word == "stop":
        subscribers.stop(caller.identity)
        reply = texts.STOPPED
    elif word in ("start", "join"):
        subscribers.join(sender, caller.identity, "text")
        reply = texts.CONFIRMATION
    elif word == "help":
        reply = texts.HELP.format(line=settings.TWILIO_PHONE_NUMBER)
    else:
        reply = texts.UNKNOWN if subscribers.first_unknown_text_today(caller.identity) else None
    return _answer(text, None if handled else reply)


def _answer(text: InboundText, reply: str | None):
    """Reply (or not), noting the text and the reply for deletion at Twilio: both are records
    there, with the sender's number and the words."""
    if settings.PURGE_TWILIO_RECORDS:
        purges.schedule(text.message_sid, RecordKind.INBOUND_TEXT, replies=int(reply is not None))
    return twiml.text_reply(reply)


@bp.post("/status")
@twilio_request
def status():
    """Delivery status of a text the line sent (deleted at Twilio once final)."""
    callback = MessageStatusCallback.from_form(request.form)
    if callback.final and settings.PURGE_TWILIO_RECORDS:  # even one the line lost track of
        purges.schedule(callback.message_sid, RecordKind.MESSAGE)
    message = db.session.scalar(select(TextMessage).where(TextMessage.sid == callback.message_sid))
    if message is None or not callback.status:
        return "", 204
    if message.status not in FINAL_MESSAGE_STATUSES:  # a late 'sent' must not undo 'delivered'
        message.status = callback.status
    if (code := callback.error_number()) is not None:
        message.error_code = code
    db.session.commit()
    return "", 204


answer_failures(bp)  # a 503, and no message to the sender
