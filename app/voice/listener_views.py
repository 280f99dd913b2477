"""A volunteer listener's webhooks: they answer, press 1 (or not), and the call ends.

Every URL carries the offer's id, never a number; every view checks the signature.
"""

from __future__ import annotations

from flask import Blueprint, abort, request

from app import i18n, prompts, urls
from app.db import db
from app.line import calls, pairing, purges
from app.line.models import Call, CallMode, RecordKind, Step
from app.listeners import offers
from app.listeners.models import ListenerOffer, OfferState
from app.settings import settings
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import AnsweredCall, CallStatusCallback, GatherResult, is_call_sid
from app.voice import flows

bp = Blueprint("listener", __name__, url_prefix="/twilio/voice/listener")


@bp.before_request
def _language():
    """Speak the caller's language, which the URL names."""
    i18n.use(request.args.get(urls.LANGUAGE))


def _offer() -> ListenerOffer | None:
    """The offer the URL names (None: none, or one the line no longer has); 400 when the
    name is not an id."""
    text = request.args.get("offer", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        abort(400, "not a listener offer id")
    return offers.by_id(int(text))


def _taken_elsewhere(offer: ListenerOffer | None, sid: str) -> bool:
    """Whether this call is the offer's, and another listener rung with it took the caller."""
    return offer is not None and offer.call_sid == sid and offer.state == OfferState.ELSEWHERE


@bp.post("/answer")
@twilio_request
def answer():
    """The listener's phone answered: a machine is hung up on in silence (the next listener
    is tried); a person is asked for the key that takes the call, or told that another
    listener rung with them took it."""
    answered = AnsweredCall.from_form(request.form)
    offer = _offer()
    if offer is None or not offers.answering(offer, answered.call_sid):
        if _taken_elsewhere(offer, answered.call_sid) and not answered.machine:
            return twiml.say_and_hang_up(prompts.LISTENER_CALLER_GONE)
        return twiml.hang_up()
    if answered.machine:
        offers.close(offer, OfferState.MACHINE)
        return twiml.hang_up()
    action = urls.public(f"{urls.LISTENER_CHOICE}?offer={offer.id}")
    return twiml.menu(prompts.LISTENER_PROMPT, action)


@bp.post("/choice")
@twilio_request
def choice():
    """1: the listener joins the waiting caller's room (the others rung with them stop
    ringing); anything else lets the call pass."""
    gathered = GatherResult.from_form(request.form)
    offer = _offer()
    if offer is None or not offers.answering(offer, gathered.call_sid):
        if _taken_elsewhere(offer, gathered.call_sid):
            return twiml.say_and_hang_up(prompts.LISTENER_CALLER_GONE)
        return flows.goodbye()
    if gathered.digits != "1":
        offers.close(offer, OfferState.DECLINED)
        return twiml.say_and_hang_up(prompts.LISTENER_PASSED)
    call = calls.current(gathered.call_sid, request.form.get("To"), language=i18n.current())
    call.mode = CallMode.LISTENER  # the call log shows it as a listener's
    calls.record(call, Step.LISTENER, str(offer.id))
    db.session.commit()
    seat = pairing.join_waiting(call, offer.waiting_call_id) if offer.waiting_call_id else None
    if seat is None:  # the caller was paired, timed out or hung up a moment ago
        offers.close(offer, OfferState.GONE, try_next=False)
        return twiml.say_and_hang_up(prompts.LISTENER_CALLER_GONE)
    offers.close(offer, OfferState.TAKEN)
    offers.taken_elsewhere(offer)  # the others rung with this one stop ringing
    waiting = db.session.get(Call, offer.waiting_call_id)
    calls.record(waiting, Step.LISTENER_JOINED, str(offer.listener_id))
    db.session.commit()
    return flows.room(seat, prompts.LISTENER_CONNECTING)


@bp.post("/status")
@twilio_request
def status():
    """The listener call's status callback: one that never took the caller tries the next
    listener; one that did ends the listener's call, and their rest begins; its record goes
    at Twilio."""
    callback = CallStatusCallback.from_form(request.form)
    offer = _offer()
    if offer is not None and callback.ended:
        offers.ended(offer, callback.call_sid, callback.call_status)
    if calls.by_sid(callback.call_sid) is not None:  # it took the caller: a call like any
        calls.status_changed(callback)
        if offer is not None and callback.ended:  # free again once rested
            offers.call_ended(offer)
    elif callback.ended and is_call_sid(callback.call_sid) and settings.PURGE_TWILIO_RECORDS:
        purges.schedule(callback.call_sid, RecordKind.CALL)
    return "", 204


answer_failures(bp, apology=prompts.APOLOGY, callbacks=frozenset({"listener.status"}))
