"""Jobs for waiting callers: the queue timeout, rescuing a lonely partner, reconciliation."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy import select, update

from app import i18n, jobs, urls
from app.callbacks import requests as callbacks
from app.db import db, utcnow
from app.infra import redis
from app.line import calls, languages, pairing, pool
from app.line.models import Call, CallState, Conversation, Outcome, Step
from app.listeners import offers
from app.settings import settings
from app.telephony import rest
from app.telephony.webhooks import TERMINAL_STATUSES

log = logging.getLogger(__name__)
RESCUE_LOOKS = 5  # how often a rescue looks for the partner alone in the room
RESCUE_PAUSE = 2  # seconds between looks (RQ schedules in whole seconds)


def _redirect(call: Call, path: str, kind: Step, detail: str) -> str:
    """Redirect a live call once; a retried job does not redirect it again."""
    if any(event.kind == kind and event.detail == detail for event in call.events):
        return "already"
    with i18n.speaking(call.language):  # the document it fetches speaks the caller's language
        url = urls.public(path)
    try:
        rest.redirect_call(call.sid, url)
    except rest.Gone:
        calls.end(call, "completed", None, utcnow())
        return "gone"
    except rest.TelephonyError as error:
        if error.retryable and retries_left():
            raise  # RQ tries again after its backoff
        calls.record(call, Step.REDIRECT_FAILED, f"{kind}: HTTP {error.status}")
        db.session.commit()
        raise  # the job is kept among the failed ones, and the call's record says why
    calls.record(call, kind, detail)
    db.session.commit()
    return "redirected"


def retries_left() -> bool:
    """Whether RQ will run the current job again if it fails now."""
    job = get_current_job()
    return bool(job and job.retries_left)


def expire_wait(call_id: int, token: str) -> str:
    """WAIT_TIMEOUT_SECONDS after a caller started waiting: time them out if still unpaired.

    While a call-back or a listener is ringing for them, the timeout waits: either may
    press 1.
    """
    if callbacks.calling_for(call_id):
        jobs.EXPIRE_WAIT.enqueue(call_id, token, delay=settings.RINGING_RECHECK_SECONDS)
        return "call-back ringing"
    if offers.ringing_for(call_id):  # a listener may press 1
        jobs.EXPIRE_WAIT.enqueue(call_id, token, delay=settings.RINGING_RECHECK_SECONDS)
        return "listener ringing"
    _not_before_timeout(call_id)
    pairing.expire_wait(call_id, token)
    call = db.session.get(Call, call_id)
    # A retry after a failed redirect finds the call already timed out: redirect it again.
    if call is None or call.wait_token != token or call.state != CallState.TIMED_OUT:
        return "not waiting"
    try:
        return _redirect(call, urls.TIMEOUT, Step.TIMEOUT_REDIRECT, token)
    except rest.TelephonyError:
        if not retries_left():  # Twilio stays unreachable: let them be paired meanwhile
            call.state, call.wait_ended_at = CallState.WAITING, None  # the wait goes on
            pairing.restore_waiting(call)
            db.session.commit()
        raise


def _not_before_timeout(call_id: int) -> None:
    # RQ keeps scheduled times in whole seconds and may run a job up to a second early.
    call = db.session.get(Call, call_id)
    if call is None or call.wait_started_at is None:
        return
    waited = (utcnow() - call.wait_started_at).total_seconds()
    early = settings.WAIT_TIMEOUT_SECONDS - waited
    if 0 < early <= 2:
        time.sleep(early)


def rescue_partner(call_id: int, room: str, look: int = 1) -> str:
    """A matched caller left `room`: if the two never met, send the other one to find
    someone else.

    Whether they met is asked of Twilio (the room's conference), since the conference's
    callbacks may reach the line after the call's end.
    """
    conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
    if conversation is None or call_id not in {p.call_id for p in conversation.participants}:
        return "no conversation"  # also when the id was handed out again (SQLite)
    if conversation.started_at is not None:
        return "they met"
    partner = next((p.call for p in conversation.participants if p.call_id != call_id), None)
    if partner is None or partner.state != CallState.MATCHED or partner.room != room:
        return "partner moved on"
    found = rest.live_room(room)
    if found is not None and found.started:
        return "they met"  # the room is ending: the partner's Dial action takes over
    if found is not None and found.members == [partner.sid]:
        pairing.unpaired(db.session.get(Call, call_id))  # it left before they met
        return _rescue(partner, room)
    if look < RESCUE_LOOKS:  # the partner is on the way into the room, or out of it
        jobs.RESCUE_PARTNER.enqueue(call_id, room, look + 1, delay=RESCUE_PAUSE)
        return "looking again"
    # Not alone in a room: somewhere in their TwiML (a menu), not waiting in silence.
    log.warning("rescue: call %s never showed up alone in %s; left where it is", partner.id, room)
    return "not alone in the room"


def _rescue(partner: Call, room: str) -> str:
    """Redirect the partner out of `room`, marked MOVED first: the action request Twilio
    makes for the Dial it interrupts must find the move, however fast it comes."""
    if not _set_state(partner, CallState.MATCHED, CallState.MOVED):
        return "partner moved on"  # it left or hung up a moment ago
    pairing.unpaired(partner)
    try:
        return _redirect(partner, urls.PARTNER_GONE, Step.RESCUED, room)
    except rest.TelephonyError:
        partner.outcome = Outcome.PAIRED  # still matched, as before the move was tried
        _set_state(partner, CallState.MOVED, CallState.MATCHED)  # still there: a retry looks
        raise


def _set_state(call: Call, was: CallState, now: CallState) -> bool:
    """Move a call from one state to another, only if it is still in the first; committed."""
    done = db.session.execute(
        update(Call).where(Call.id == call.id, Call.state == was).values(state=now)
    ).rowcount
    db.session.commit()
    return bool(done)


def reconcile_waiting() -> dict[str, int]:
    """Rebuild the waiting pool from the database (after a Redis restart) and expire the
    overdue; close the listener offers whose end Twilio's callbacks never told."""
    timeout = settings.WAIT_TIMEOUT_SECONDS
    now = utcnow()
    settled = now - timedelta(seconds=5)  # a match in progress takes milliseconds
    waiting = db.session.scalars(
        select(Call).where(Call.state == CallState.WAITING, Call.wait_started_at < settled)
    ).all()
    languages.restore()  # the callers' chosen languages too, if Redis lost them
    counts = {"restored": 0, "expired": 0}
    for call in waiting:
        if pool.is_waiting(call.wait_token):
            continue
        # Read again now the pool says no: a caller paired since the list was read has left
        # the pool that way, and must not be put back (the pairing takes them from the pool
        # a moment before it commits their match, so this leaves only that moment).
        db.session.refresh(call)
        if call.state != CallState.WAITING:
            continue
        overdue = (now - call.wait_started_at).total_seconds() >= timeout
        pairing.restore_waiting(call)
        remaining = 0 if overdue else timeout - (now - call.wait_started_at).total_seconds()
        jobs.EXPIRE_WAIT.enqueue(
            call.id,
            call.wait_token,
            delay=remaining,
            job_id=f"expire-{call.wait_token}",
        )
        counts["expired" if overdue else "restored"] += 1
    counts["dropped"] = _drop_stale(settled)
    counts["lost_offers"] = offers.close_lost()
    return counts


def _drop_stale(settled: datetime) -> int:
    """Take out of the pool the settled entries of calls no longer waiting (one put back by
    a rebuild as it was being paired); pairing skips them anyway, but they count as waiting.
    A caller's row says WAITING before they enter the pool, so no live wait is taken out."""
    tokens = pool.settled_tokens(calls.epoch_ms(settled))
    if not tokens:
        return 0
    live = set(
        db.session.scalars(
            select(Call.wait_token).where(
                Call.state == CallState.WAITING, Call.wait_token.in_(tokens)
            )
        )
    )
    return sum(pool.leave(token) for token in tokens - live)


def reconcile_calls() -> dict[str, int]:
    """Close calls whose end the line missed (a status callback lost while the database was down).

    Each call the database still thinks is live is checked with Twilio at most every few
    minutes; a call Twilio reports as finished (or no longer knows) is ended here.
    """
    quiet = utcnow() - timedelta(seconds=60)
    candidates = db.session.scalars(
        select(Call).where(Call.state != CallState.ENDED, Call.arrived_at < quiet)
    ).all()
    conn = redis.connection()
    due = [c for c in candidates if conn.set(redis.key("checked", str(c.id)), 1, nx=True, ex=300)]
    in_flight = settings.RECONCILE_MAX_IN_FLIGHT
    found, gone = rest.fetch_calls([c.sid for c in due], in_flight)
    ended = 0
    for call in due:
        remote = found.get(call.sid)
        if call.sid in gone or (remote is not None and remote.status in TERMINAL_STATUSES):
            duration = remote.duration if remote else None
            calls.end(call, remote.status if remote else "completed", duration, utcnow())
            ended += 1
    return {"checked": len(due), "ended": ended}
