"""The SMS webhooks: incoming texts (keywords) and delivery status of texts sent."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from app import i18n, identity_keys
from app.db import db
from app.line import purges
from app.line.models import RecordKind
from app.listeners import roster
from app.settings import settings
from app.sms import outbox, subscribers, texts
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import (
    InboundText,
    MessageStatusCallback,
    OptOut,
    called_number,
)

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


@bp.post("")
@twilio_request
def incoming():
    """A text to the line: one answer to each, none where Twilio answered or will not text."""
    text = InboundText.from_form(request.form)
    caller = identity_keys.caller(text.from_number, text.message_sid)
    i18n.use(subscribers.language_of(caller.identity, called_number(request.form)))
    answered = text.answered_by_twilio  # Twilio has replied to this keyword: only record it
    if caller.withheld:
        return _answer(text, None if answered else texts.WITHHELD)
    if not answered and (word := texts.listener_keyword(text.body)):
        listener = roster.by_identity(caller.identity)
        if listener is not None:  # a listener's PAUSE or RESUME, before subscriber keywords
            return _answer(text, _listener_said(listener, word))
    reply = _act(answered or texts.keyword(text.body), text, caller.identity, answered)
    if answered or subscribers.opted_out(caller.identity):  # Twilio refuses texts to them
        reply = None
    return _answer(text, reply)


def _act(word: str, text: InboundText, identity: str, answered: OptOut | None) -> str | None:
    """Do what the text asks; the line's own answer to it."""
    if word == "stop":
        subscribers.stop(text.from_number, identity, at_provider=answered == OptOut.STOP)
        return texts.STOPPED
    if word in ("start", "join"):
        if answered == OptOut.START:  # Twilio texts this number again
            subscribers.opt_in(identity)
        joined = subscribers.join(text.from_number, identity, "text")
        return texts.CONFIRMATION if joined else None
    if word == "help":
        return texts.HELP.format(line=settings.TWILIO_PHONE_NUMBER)
    return texts.UNKNOWN if subscribers.first_unknown_text_today(identity) else None


def _listener_said(listener, word: str) -> str:
    """Pause or resume the listener texting; the answer, in their first language."""
    roster.set_paused(listener, word == "pause")
    db.session.commit()
    roster.offered_now(listener)
    i18n.use(listener.language_codes[0] if listener.language_codes else None)
    return str(texts.LISTENER_PAUSED if listener.paused else texts.LISTENER_RESUMED)


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
    if callback.message_sid and callback.status:
        outbox.record_status(callback)
    return "", 204


answer_failures(bp)  # a 503, and no message to the sender
