"""Call-back jobs: ring a requester for a waiting caller or a free listener; close requests
past their window."""

from __future__ import annotations

from app import urls
from app.callbacks import requests as callbacks
from app.callbacks.models import CallbackState, DropReason
from app.db import db
from app.infra import redis
from app.listeners import offers
from app.settings import settings
from app.telephony import rest
from workers.waiting import retries_left

PLACING_TTL = 3600  # how long the note that a call was handed to Twilio is kept


class Unreachable(Exception):
    """Twilio refused the call for good (or its retries are used up)."""


def ring_once(what: str, row_id: int, number: str, answer: str, status: str, ring: int):
    """Hand Twilio the line's call for row `row_id` of `what`, once: its sid, or None when
    another run has already handed it over (a retry after Twilio took the call, its sid not
    yet noted, must not ring twice). A retryable failure is raised for RQ's backoff."""
    guard = redis.key(f"{what}-placing", str(row_id))
    conn = redis.connection()
    if not conn.set(guard, 1, nx=True, ex=PLACING_TTL):
        return None
    try:
        return rest.place_call(number, answer, status, ring)
    except rest.TelephonyError as error:
        conn.delete(guard)
        if error.retryable and retries_left():
            raise  # RQ tries again after its backoff
        raise Unreachable from error


def place_callback(request_id: int) -> str:
    """Ring the requester of a claimed request, once."""
    wanted = callbacks.by_id(request_id)
    if wanted is None or wanted.state != CallbackState.CALLING:
        return "not calling"
    if wanted.call_sid is not None:
        return "placed"
    query = f"request={request_id}"
    try:
        sid = ring_once(
            "callback",
            request_id,
            callbacks.number_of(wanted),
            f"{urls.public(urls.CALLBACK_ANSWER)}?{query}",
            urls.callback(urls.CALLBACK_STATUS, query),
            settings.CALLBACK_RING_SECONDS,
        )
    except Unreachable:
        callbacks.drop(wanted, DropReason.UNREACHABLE)
        return "dropped"
    if sid is not None:
        callbacks.placed(wanted, sid)
    return "placed"


def expire_callbacks() -> dict[str, int]:
    """Close requests whose window ended and call-backs Twilio never reported on; then call
    back for the callers waiting, offer the listeners free to those who have waited long
    enough, and call back for the listeners still free (a listener whose hours began since,
    or a search that could not be queued when the request was asked)."""
    counts = callbacks.expire_due()
    db.session.commit()
    counts["met"] = callbacks.serve_waiting_callers()
    counts["rung"] = offers.offer_to_the_waiting()
    counts["called back"] = callbacks.serve_with_listeners()
    return counts
