"""Call-back jobs: ring a requester for a waiting caller; close requests past their window."""

from __future__ import annotations

from app import urls
from app.callbacks import requests as callbacks
from app.callbacks.models import CallbackState, DropReason
from app.db import db
from app.infra import redis
from app.settings import settings
from app.telephony import rest
from workers.waiting import retries_left

PLACING_TTL = 3600  # how long the note that a request's call was handed to Twilio is kept


def place_callback(request_id: int) -> str:
    """Ring the requester of a claimed request, once: a retry after Twilio took the call
    (the sid not yet noted) must not ring them twice."""
    wanted = callbacks.by_id(request_id)
    if wanted is None or wanted.state != CallbackState.CALLING:
        return "not calling"
    if wanted.call_sid is not None:
        return "placed"
    guard = redis.key("callback-placing", str(request_id))
    conn = redis.connection()
    if not conn.set(guard, 1, nx=True, ex=PLACING_TTL):
        return "placed"
    query = f"request={request_id}"
    try:
        sid = rest.place_call(
            callbacks.number_of(wanted),
            f"{urls.public(urls.CALLBACK_ANSWER)}?{query}",
            urls.callback(urls.CALLBACK_STATUS, query),
            settings.CALLBACK_RING_SECONDS,
        )
    except rest.TelephonyError as error:
        conn.delete(guard)
        if error.retryable and retries_left():
            raise  # RQ tries again after its backoff
        callbacks.drop(wanted, DropReason.UNREACHABLE)
        return "dropped"
    callbacks.placed(wanted, sid)
    return "placed"


def expire_callbacks() -> dict[str, int]:
    """Close requests whose window ended and call-backs Twilio never reported on."""
    counts = callbacks.expire_due()
    db.session.commit()
    return counts
