"""Call-back requests: asked at a menu, claimed by a caller who starts waiting (or for a
listener free with nobody waiting), closed when the call-back happened, was dropped or ran
out of time. The number goes when it closes."""

from __future__ import annotations

import logging
from collections.abc import Set
from datetime import datetime, timedelta
from enum import StrEnum

import phonenumbers
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app import identity_keys, jobs
from app.callbacks.models import CallbackRequest, CallbackState, DropReason
from app.db import db, utcnow
from app.identity import parse_e164
from app.infra import table_cache
from app.line import ringing, safety
from app.line.calls import hold_waiting, record, waiting_longest_first
from app.line.models import Call, CallState, Step
from app.listeners import offers
from app.settings import settings
from app.sms import outbox, subscribers
from app.sms.crypto import decrypt, encrypt
from app.sms.models import TextKind

log = logging.getLogger(__name__)
CANDIDATES = 20  # open requests looked at per claim, oldest first
SERVED_AT_ONCE = 20  # waiting callers looked at when a request may have opened
LOST_AFTER = timedelta(minutes=10)  # a call-back Twilio said nothing of this long: dropped
KEPT = timedelta(days=2)  # closed requests (no number) are kept for the daily limit, then go
DROP_REASONS = {"busy": DropReason.BUSY, "failed": DropReason.FAILED}


class Asked(StrEnum):
    """What came of asking for a call-back."""

    NOTED = "noted"
    WITHHELD = "withheld"
    ALREADY = "already"  # one open request per caller
    LIMIT = "limit"  # CALLBACKS_PER_DAY reached


def ask(call: Call, raw_number: str | None) -> Asked:
    """Open a call-back request for this caller; commits. The number is kept encrypted."""
    caller = identity_keys.caller(raw_number, call.sid)
    number = parse_e164(raw_number)
    if call.withheld or number is None or caller.identity != call.identity:
        return Asked.WITHHELD
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    now = utcnow()
    today = db.session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(
            CallbackRequest.identity.in_(identity_keys.forms(call.identity)),
            CallbackRequest.requested_at > now - timedelta(days=1),
        )
    )
    if open_request(call.identity) is not None:
        return Asked.ALREADY
    if today >= settings.CALLBACKS_PER_DAY:
        return Asked.LIMIT
    db.session.add(
        CallbackRequest(
            identity=call.identity,
            open_for=call.identity,
            language=call.language,
            number_encrypted=encrypt(e164),
            masked_number=caller.masked,
            requested_at=now,
            expires_at=now + timedelta(minutes=settings.CALLBACK_WINDOW_MINUTES),
            asked_on_call_id=call.id,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same caller asked on another call at this very moment
        db.session.rollback()
        return Asked.ALREADY
    offers.serve_soon()  # a listener free now calls them back
    return Asked.NOTED


def open_request(identity: str) -> CallbackRequest | None:
    """This caller's open (or calling) request, if any."""
    forms = identity_keys.forms(identity)
    return db.session.scalar(select(CallbackRequest).where(CallbackRequest.open_for.in_(forms)))


def by_id(request_id: int) -> CallbackRequest | None:
    """The request with this id."""
    return db.session.get(CallbackRequest, request_id)


def number_of(wanted: CallbackRequest) -> str:
    """The requester's number, decrypted for the one call that uses it."""
    if wanted.number_encrypted is None:
        raise ValueError("this call-back request no longer holds a number")
    return decrypt(wanted.number_encrypted)


def _ringing_for(call_id: int) -> CallbackRequest | None:
    """The call-back ringing for this waiting call now, if any."""
    return db.session.scalar(
        select(CallbackRequest).where(
            CallbackRequest.waiting_call_id == call_id,
            CallbackRequest.state == CallbackState.CALLING,
        )
    )


@ringing.for_a_waiting_caller
def calling_for(call_id: int) -> bool:
    """Whether a call-back is ringing for this waiting call now."""
    return _ringing_for(call_id) is not None


def _latest_open_expiry() -> datetime | None:
    return db.session.scalar(
        select(func.max(CallbackRequest.expires_at)).where(
            CallbackRequest.state == CallbackState.OPEN
        )
    )


# Requests are opened only by `ask` (an added row, which moves the cache's version); one closed
# since the cache was read only makes a claim look, and find nothing.
table_cache.watch("callback_requests", CallbackRequest)


def any_open() -> bool:
    """Whether a request may be open now (from the per-process cache: no query when none is)."""
    latest = table_cache.cached("callback_requests", _latest_open_expiry)
    return latest is not None and latest > utcnow()


def claim_for(call: Call, excluded: Set[str] | None = None) -> CallbackRequest | None:
    """Someone started waiting: claim the oldest open request they may meet, atomically,
    and queue the call to its requester; None when there is none (or one rings already).

    Their own open request is cancelled: they are on the line now. `excluded`: whom they may
    not meet, if the caller has read it already. The caller's row is locked while it claims,
    so two claims for one caller (their own wait, a job serving the waiting) call one
    requester. Commits.
    """
    if call.state != CallState.WAITING or not any_open():
        return None
    if not hold_waiting(call) or ringing.any_for(call.id):  # a listener's ring counts too
        db.session.commit()
        return None
    _close(
        CallbackRequest.open_for.in_(identity_keys.forms(call.identity)),
        {CallbackState.OPEN},
        CallbackState.CANCELLED,
        commit=False,  # with the claim below, or with nothing claimed
    )
    if excluded is None:
        excluded = safety.excluded_partners(call.identity)
    now = utcnow()
    candidates = db.session.scalars(
        select(CallbackRequest.id)
        .where(
            CallbackRequest.state == CallbackState.OPEN,
            CallbackRequest.expires_at > now,
            CallbackRequest.identity.notin_(excluded),
            CallbackRequest.language == call.language,  # the two must share a language
        )
        .order_by(CallbackRequest.requested_at, CallbackRequest.id)
        .limit(CANDIDATES)
        # A request another claim holds (being claimed, or its requester's own cancelled as
        # they start waiting) is passed over, not waited for: two requesters starting to
        # wait at once would each wait for the other's row.
        .with_for_update(skip_locked=True)
    ).all()
    for request_id in candidates:
        claimed = db.session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id == request_id, CallbackRequest.state == CallbackState.OPEN)
            .values(state=CallbackState.CALLING, waiting_call_id=call.id, claimed_at=now)
        ).rowcount
        if not claimed:  # another waiting caller took it a moment ago
            continue
        wanted = db.session.get(CallbackRequest, request_id)
        if safety.is_blocked(wanted.identity):
            db.session.commit()
            drop(wanted, DropReason.UNREACHABLE)  # which claims the next one for them
            return _ringing_for(call.id)
        record(call, Step.CALLBACK_CLAIMED, str(request_id))
        db.session.commit()
        jobs.PLACE_CALLBACK.enqueue(request_id)
        return wanted
    db.session.commit()
    return None


def serve_waiting_callers(limit: int = SERVED_AT_ONCE) -> int:
    """A request may open while callers wait (asked at the greeting, or by a caller who left
    a wait a moment before another began one): each caller waiting, longest first, with no
    listener's phone ringing for them, claims the oldest request they may meet, as on
    starting to wait. Returns how many call-backs were queued. Commits."""
    if not any_open():
        return 0
    return sum(claim_for(call) is not None for call in waiting_longest_first(limit))


def claiming_for_listeners() -> int:
    """How many call-backs ring now for a listener who was free (each holds one free
    listener until its requester answers or the call-back is dropped)."""
    return db.session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(CallbackRequest.state == CallbackState.CALLING, CallbackRequest.for_listener)
    )


def oldest_open(languages: Set[str], limit: int = CANDIDATES) -> list[CallbackRequest]:
    """The open requests within their window in one of these languages, oldest first (so
    the oldest in a language nobody free speaks do not hide the others)."""
    if not any_open() or not languages:
        return []
    return db.session.scalars(
        select(CallbackRequest)
        .where(
            CallbackRequest.state == CallbackState.OPEN,
            CallbackRequest.expires_at > utcnow(),
            CallbackRequest.language.in_(languages),
        )
        .order_by(CallbackRequest.requested_at, CallbackRequest.id)
        .limit(limit)
    ).all()


def claim_for_listener(wanted: CallbackRequest) -> bool:
    """A listener who may take this requester is free and nobody waits for them: claim the
    request, atomically, in the caller's transaction (which queues the call-back once it
    commits). False when another claim took it, or the requester is blocked."""
    if safety.is_blocked(wanted.identity):
        return False
    return bool(
        db.session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id == wanted.id, CallbackRequest.state == CallbackState.OPEN)
            .values(state=CallbackState.CALLING, for_listener=True, claimed_at=utcnow())
            .execution_options(synchronize_session="fetch")
        ).rowcount
    )


def serve_with_listeners() -> int:
    """Listeners are free and nobody waits for them: call back the requesters one of them
    may take, oldest request first, no more at once than there are listeners free (a
    requester who presses 1 waits, and a listener is rung for them at once). Returns how
    many call-backs were queued. Commits."""
    free = offers.free_on_hours()
    room = len(free) - claiming_for_listeners() if free else 0
    claimed = []
    spoken = {code for listener in free for code in listener.language_codes}
    for wanted in oldest_open(spoken) if room > 0 else []:
        if len(claimed) == room:
            break
        if offers.may_take(free, wanted.identity, wanted.language) and claim_for_listener(wanted):
            claimed.append(wanted.id)
    db.session.commit()  # the claims and the end of the listeners' lock, in one
    for request_id in claimed:
        jobs.PLACE_CALLBACK.enqueue(request_id)
    return len(claimed)


def placed(wanted: CallbackRequest, sid: str) -> None:
    """Twilio took the call to the requester: note its sid. Commits."""
    ringing.note_call_sid(wanted, sid)


def answering(wanted: CallbackRequest, sid: str) -> bool:
    """Whether this call is the request's call-back, and the request is still ringing."""
    return ringing.is_its_call(wanted, CallbackState.CALLING, sid)


def connected(wanted: CallbackRequest) -> bool:
    """The requester pressed 1: the call-back happened; the number goes. Commits."""
    return _close(CallbackRequest.id == wanted.id, {CallbackState.CALLING}, CallbackState.CONNECTED)


def drop(wanted: CallbackRequest, why: DropReason) -> bool:
    """The call-back did not reach its requester: close it (one text, with their consent),
    then try the next request for the caller still waiting. Commits; False if closed already."""
    waiting_id = wanted.waiting_call_id
    if not _close(
        CallbackRequest.id == wanted.id,
        {CallbackState.CALLING},
        CallbackState.DROPPED,
        drop_reason=why,
    ):
        return False
    subscriber = subscribers.consenting(wanted.identity)
    if subscriber is not None:
        outbox.queue_text(subscriber, TextKind.CALLBACK_MISSED)
    if wanted.for_listener:  # the listener it held is free for the next request
        jobs.SERVE_WAITING.enqueue()
    waiting = db.session.get(Call, waiting_id) if waiting_id else None
    if waiting is not None:
        db.session.refresh(waiting)
        if waiting.state == CallState.WAITING and claim_for(waiting) is None:
            # Nobody else to call back for them: a listener may be (one left unrung while
            # this rang), once they have waited long enough.
            jobs.SERVE_WAITING.enqueue()
    return True


def ended(wanted: CallbackRequest, sid: str, status: str) -> None:
    """The call-back's final status came: if it never reached the key, it is dropped."""
    if wanted.state != CallbackState.CALLING or wanted.call_sid not in (None, sid):
        return
    reason = DROP_REASONS.get(status, DropReason.NO_ANSWER)
    if status == "completed":  # answered, and hung up without pressing 1
        reason = DropReason.NO_KEY
    drop(wanted, reason)


def expire_due() -> dict[str, int]:
    """Close requests past their window and call-backs lost at Twilio; forget old ones."""
    now = utcnow()
    expired = _close(
        CallbackRequest.expires_at <= now, {CallbackState.OPEN}, CallbackState.EXPIRED, many=True
    )
    lost = 0
    stale = select(CallbackRequest).where(
        CallbackRequest.state == CallbackState.CALLING,
        CallbackRequest.claimed_at < now - LOST_AFTER,
    )
    for wanted in db.session.scalars(stale).all():
        lost += drop(wanted, DropReason.LOST)
    forgotten = db.session.execute(
        delete(CallbackRequest).where(
            CallbackRequest.requested_at < now - KEPT, CallbackRequest.open_for.is_(None)
        )
    ).rowcount
    db.session.commit()
    return {"expired": expired, "lost": lost, "forgotten": forgotten}


def _close(
    where,
    states: set[CallbackState],
    to: CallbackState,
    many: bool = False,
    commit: bool = True,
    **values,
):
    """Move matching requests in `states` to `to`, dropping their number; committed unless
    `commit` is False. Returns how many moved (a bool unless `many`)."""
    moved = db.session.execute(
        update(CallbackRequest)
        .where(where, CallbackRequest.state.in_(states))
        .values(state=to, open_for=None, number_encrypted=None, closed_at=utcnow(), **values)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if commit:
        db.session.commit()
    return moved if many else bool(moved)
