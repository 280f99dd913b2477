"""Listener jobs: offer a caller left waiting to a volunteer listener; ring the listener."""

from __future__ import annotations

from app import i18n, jobs, urls
from app.callbacks import requests as callbacks
from app.db import db
from app.line.models import Call, CallState
from app.listeners import offers, roster
from app.listeners.models import OfferState
from app.settings import settings
from app.telephony import rest
from workers.callbacks import Unreachable, ring_once


def offer_listener(call_id: int, token: str) -> str:
    """A caller has waited LISTENER_AFTER_SECONDS (or none at a slow pace): if still alone in
    this wait, and no call-back rings for them, claim a listener for them. An open call-back
    request they may meet comes first: this job may run before the wait's own request has
    claimed one."""
    call = db.session.get(Call, call_id)
    if call is None or call.wait_token != token or call.state != CallState.WAITING:
        return "not waiting"
    # The call-back may bring someone: look again after.
    if callbacks.calling_for(call_id) or callbacks.claim_for(call) is not None:
        jobs.OFFER_LISTENER.enqueue(call_id, token, delay=settings.RINGING_RECHECK_SECONDS)
        return "call-back ringing"
    return "calling" if offers.claim_for(call) is not None else "nobody free"


def serve_waiting(listener_id: int | None = None) -> str:
    """A listener came free (or a call-back was asked): a caller waiting meets a requester
    first; then whoever is free is offered to the callers who have waited long enough,
    longest first, then to the open call-back requests; with a listener's id, once that
    listener's rest is over."""
    if listener_id is not None:
        left = offers.rest_left(listener_id)
        if left > 0:  # RQ ran it a moment early: look again when the rest is over
            jobs.SERVE_WAITING.enqueue(listener_id, delay=left)
            return "resting"
    met = callbacks.serve_waiting_callers()
    rung = offers.offer_to_the_waiting()
    # Listeners still free, with nobody waiting long enough: they are someone free for the
    # requesters of call-backs.
    called_back = callbacks.serve_with_listeners()
    return f"{met} met, {rung} rung, {called_back} called back"


def place_listener_call(offer_id: int) -> str:
    """Ring the listener of a claimed offer, once."""
    offer = offers.by_id(offer_id)
    if offer is None or offer.state != OfferState.RINGING:
        return "not ringing"
    if offer.call_sid is not None:
        return "placed"
    waiting = db.session.get(Call, offer.waiting_call_id) if offer.waiting_call_id else None
    query = f"offer={offer_id}"
    # The listener hears the offer in the caller's language, which they speak.
    with i18n.speaking(waiting.language if waiting else None):
        answer = urls.public(f"{urls.LISTENER_ANSWER}?{query}")
    try:
        sid = ring_once(
            "listener",
            offer_id,
            roster.number_of(offers.listener_of(offer)),
            answer,
            urls.callback(urls.LISTENER_STATUS, query),
            settings.LISTENER_RING_SECONDS,
        )
    except Unreachable:
        offers.close(offer, OfferState.UNREACHABLE)
        return "unreachable"
    if sid is not None:
        offers.placed(offer, sid)
        db.session.refresh(offer)
        if offer.state == OfferState.ELSEWHERE:  # another took the caller while it was placed
            return stop_ringing(offer_id)
    return "placed"


def stop_ringing(offer_id: int) -> str:
    """Another listener rung with this one took the caller: stop this one's phone ringing
    (one who answered already hears so when they press 1)."""
    offer = offers.by_id(offer_id)
    if offer is None or offer.call_sid is None:  # not placed yet: placing it stops it
        return "not placed"
    try:
        rest.cancel_call(offer.call_sid)
    except rest.Gone:
        return "ended"
    return "stopped"
