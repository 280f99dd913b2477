"""The call-back's webhooks: the requester answers, presses 1 (or not), and the call ends.

Every URL carries the request's id, never the number; every view checks the signature.
"""

from __future__ import annotations

from flask import Blueprint, abort, request

from app import i18n, prompts, urls
from app.callbacks import requests as callbacks
from app.callbacks.models import CallbackRequest, DropReason
from app.db import db
from app.line import calls, pairing, purges
from app.line.models import RecordKind, Step
from app.settings import settings
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import AnsweredCall, CallStatusCallback, GatherResult, is_call_sid
from app.voice import flows

bp = Blueprint("callback", __name__, url_prefix="/twilio/voice/callback")


def _wanted() -> CallbackRequest | None:
    """The request the URL names (None: none, or one the line no longer has); 400 when the
    name is not an id."""
    text = request.args.get("request", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        abort(400, "not a call-back request id")
    return callbacks.by_id(int(text))


@bp.post("/answer")
@twilio_request
def answer():
    """The requester's phone answered: a machine is hung up on in silence; anyone else is
    asked for the key that says a person is there."""
    answered = AnsweredCall.from_form(request.form)
    wanted = _wanted()
    if wanted is None or not callbacks.answering(wanted, answered.call_sid):
        return twiml.hang_up()
    i18n.use(wanted.language)  # the language they asked in
    if answered.machine:
        callbacks.drop(wanted, DropReason.MACHINE)
        return twiml.hang_up()
    query = f"request={wanted.id}"
    return twiml.menu(prompts.CALLBACK_PROMPT, urls.public(urls.CALLBACK_CHOICE), query=query)


@bp.post("/choice")
@twilio_request
def choice():
    """1: the requester joins the caller waiting for them (or waits, if that one has gone);
    called back for a free listener, they wait, and a listener is rung for them at once."""
    gathered = GatherResult.from_form(request.form)
    wanted = _wanted()
    if wanted is None or not callbacks.answering(wanted, gathered.call_sid):
        return flows.goodbye()
    i18n.use(wanted.language)
    if gathered.digits != "1":
        callbacks.drop(wanted, DropReason.NO_KEY)
        return flows.goodbye()
    call = calls.current(gathered.call_sid, request.form.get("To"), language=wanted.language)
    calls.record(call, Step.CALLBACK, str(wanted.id))
    db.session.commit()
    partner_id, for_listener = wanted.waiting_call_id, wanted.for_listener
    callbacks.connected(wanted)
    if for_listener:  # called back because a listener was free: one is rung for them now
        return flows.wait(call, intro=prompts.CALLBACK_LISTENER, listener_now=True)
    seat = pairing.join_waiting(call, partner_id) if partner_id else None
    if seat is None:
        return flows.wait(call, intro=prompts.CALLBACK_PARTNER_LEFT)
    return flows.room(seat, prompts.CALLBACK_CONNECTING)


@bp.post("/status")
@twilio_request
def status():
    """The call-back's status callback: unanswered, it is dropped; its record goes at Twilio."""
    callback = CallStatusCallback.from_form(request.form)
    wanted = _wanted()
    if wanted is not None and callback.ended:
        callbacks.ended(wanted, callback.call_sid, callback.call_status)
    if calls.by_sid(callback.call_sid) is not None:  # it was answered with 1: a call like any
        calls.status_changed(callback)
    elif callback.ended and is_call_sid(callback.call_sid) and settings.PURGE_TWILIO_RECORDS:
        purges.schedule(callback.call_sid, RecordKind.CALL)
    return "", 204


answer_failures(bp, apology=prompts.APOLOGY, callbacks=frozenset({"callback.status"}))
