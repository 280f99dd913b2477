"""Offering a waiting caller to a volunteer listener: claim one atomically, ring them, and
on anything but their 1 try the next; with nobody left, the caller waits on as usual."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import Select, and_, case, func, or_, select, update

from app import jobs
from app.db import db, locked, locked_in_order, utcnow
from app.line import pace, ringing, safety
from app.line.calls import hold_waiting, record, waiting_longest_first
from app.line.models import Call, CallState, Step
from app.listeners import hours
from app.listeners.models import Listener, ListenerOffer, OfferState
from app.settings import settings

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=2)  # past its ring time, a ringing offer no news came of
# A listener's call the line never heard end holds them no longer than this (a conversation
# ends at CONVERSATION_LIMIT_SECONDS, and the reconciler closes calls whose end was missed).
HELD_AT_MOST = timedelta(hours=2)
SERVED_AT_ONCE = 20  # waiting callers looked at when listeners come free
ENDED_AS = {"busy": OfferState.BUSY, "failed": OfferState.FAILED}
# How a ring may end that the listener may simply have missed: tried again on that wait.
MISSED = (OfferState.NO_ANSWER, OfferState.BUSY, OfferState.MACHINE, OfferState.LOST)


def by_id(offer_id: int) -> ListenerOffer | None:
    """The offer with this id."""
    return db.session.get(ListenerOffer, offer_id)


def _lost_before() -> datetime:
    """A ringing offer started before this is one no news came of (its callback was lost)."""
    return utcnow() - timedelta(seconds=settings.LISTENER_RING_SECONDS) - LOST_AFTER


@ringing.for_a_waiting_caller
def ringing_for(call_id: int) -> bool:
    """Whether a listener's phone is ringing for this waiting call now."""
    found = db.session.scalar(
        select(ListenerOffer.id).where(
            ListenerOffer.waiting_call_id == call_id,
            ListenerOffer.state == OfferState.RINGING,
            ListenerOffer.started_at > _lost_before(),
        )
    )
    return found is not None


def close_lost() -> int:
    """Close the ringing offers no news came of; a caller still waiting on one is offered
    the next listener. Returns how many were closed."""
    lost = select(ListenerOffer).where(
        ListenerOffer.state == OfferState.RINGING, ListenerOffer.started_at <= _lost_before()
    )
    return sum(close(offer, OfferState.LOST) for offer in db.session.scalars(lost).all())


def _ringing() -> Select:
    """The listeners whose phone rings for a waiting caller now."""
    return select(ListenerOffer.listener_id).where(
        ListenerOffer.state == OfferState.RINGING, ListenerOffer.started_at > _lost_before()
    )


def _busy(now: datetime) -> Select:
    """The listeners on a call they took, or whose last one ended within their rest
    (LISTENER_REST_MINUTES, counted from the end of the call)."""
    rested = now - timedelta(minutes=settings.LISTENER_REST_MINUTES)
    return (
        select(ListenerOffer.listener_id)
        .outerjoin(Call, Call.sid == ListenerOffer.call_sid)
        .where(
            ListenerOffer.state == OfferState.TAKEN,
            ListenerOffer.started_at > now - HELD_AT_MOST,
            or_(
                and_(Call.id.is_not(None), Call.state != CallState.ENDED),
                func.coalesce(Call.ended_at, ListenerOffer.closed_at) > rested,
            ),
        )
    )


def _free(now: datetime) -> tuple:
    """The conditions on a listener who may be rung now: not paused, neither on a call nor
    resting, not being rung."""
    return (
        Listener.paused.is_(False),
        Listener.id.notin_(_busy(now)),
        Listener.id.notin_(_ringing()),
    )


def _candidates(call: Call) -> list[Listener]:
    """Listeners who may take this caller now, least recently called first: those not yet
    rung on this wait; with none of them, those whose phone was not answered for it (no
    answer, busy, a machine, no news), rung fewer than LISTENER_RINGS_PER_WAIT times.

    Only a ring the listener may have missed is tried again: one who answered and let the
    caller pass, or whose number failed, is not rung again for that wait.
    """
    now = utcnow()
    rung, missed = _rung_on(call.wait_token)
    rows = db.session.scalars(
        select(Listener)
        .where(*_free(now), Listener.identity.notin_(safety.excluded_partners(call.identity)))
        .order_by(Listener.last_called_at.asc().nulls_first(), Listener.id)
    ).all()
    may = [
        listener
        for listener in rows
        if call.language in listener.language_codes and _ringable(listener, now)
    ]
    fresh = [listener for listener in may if listener.id not in rung]
    if fresh:
        return fresh
    again = max(1, settings.LISTENER_RINGS_PER_WAIT)
    return [listener for listener in may if missed.get(listener.id, again) < again]


def _rung_on(wait_token: str) -> tuple[set[int], dict[int, int]]:
    """The listeners rung on this wait; and for each whose every ring on it was one they may
    have missed (MISSED), how many times."""
    missed = func.sum(case((ListenerOffer.state.in_(MISSED), 1), else_=0))
    rows = db.session.execute(
        select(ListenerOffer.listener_id, func.count(), missed)
        .where(ListenerOffer.wait_token == wait_token)
        .group_by(ListenerOffer.listener_id)
    ).all()
    return {row[0] for row in rows}, {lid: count for lid, count, m in rows if m == count}


def _ringable(listener: Listener, now: datetime) -> bool:
    """Whether a free listener may be rung at all now: in their hours, and not blocked."""
    on_hours = hours.available(listener.hours, listener.time_zone, now)
    return on_hours and not safety.is_blocked(listener.identity)


def free_on_hours() -> list[Listener]:
    """The listeners who may be rung now for anyone (free, on their hours, not blocked),
    their rows locked until the caller's transaction ends: two claims of call-backs for free
    listeners at once (a request asked as a listener comes free) count them one after the
    other."""
    now = utcnow()
    free = locked(select(Listener).where(*_free(now)).order_by(Listener.id)).scalars().all()
    return [listener for listener in free if _ringable(listener, now)]


def may_take(free: list[Listener], identity: str, language: str) -> bool:
    """Whether one of these free listeners (`free_on_hours`) may take this caller: speaks
    their language, and no report between them."""
    excluded = safety.excluded_partners(identity)
    return any(
        language in listener.language_codes and listener.identity not in excluded
        for listener in free
    )


def serve_soon() -> None:
    """After a commit that may have given a free listener someone to take (a call-back
    asked, a listener added or resumed): queue SERVE_WAITING. With Redis down nothing is
    lost: the minute's EXPIRE_CALLBACKS and each waiting caller's own offer look too."""
    try:
        jobs.SERVE_WAITING.enqueue()
    except RedisError:
        log.warning("the free listeners could not be looked for at once")


def any_free() -> bool:
    """Whether some listener not paused is neither on a call, resting nor being rung (their
    hours and languages aside)."""
    return db.session.scalar(select(Listener.id).where(*_free(utcnow()))) is not None


def claim_for(call: Call) -> ListenerOffer | None:
    """Claim available listeners for this waiting caller, atomically, up to
    LISTENERS_RUNG_AT_ONCE, and queue the calls to them; the first offer, or None when
    nobody may take them (or a listener is ringing for them already).

    The caller's row is locked while it claims, so two claims for one caller (their offer
    job, a listener coming free) ring one group of listeners. Then every candidate's row is
    locked, all at once and in the order of their ids, as every transaction that holds
    several listeners takes them: two claims, or a claim and a count of the free listeners,
    never each wait for a row the other holds. Each listener is claimed by a conditional
    update on the time they were last called, read with them, so two callers claiming one
    listener at once: one wins. Commits.
    """
    if call.state != CallState.WAITING or not call.wait_token:
        return None
    if not hold_waiting(call) or ringing.any_for(call.id):  # a call-back's ring counts too
        db.session.commit()
        return None
    now = utcnow()
    wanted = max(1, settings.LISTENERS_RUNG_AT_ONCE)
    candidates = _candidates(call)
    locked_in_order(Listener.id, [listener.id for listener in candidates])
    claimed: list[ListenerOffer] = []
    for listener in candidates:
        if len(claimed) == wanted:
            break
        if not _claim(listener, now):  # another caller took them a moment ago, or they paused
            continue
        offer = ListenerOffer(
            listener_id=listener.id, waiting_call_id=call.id, wait_token=call.wait_token
        )
        db.session.add(offer)
        db.session.flush()
        record(call, Step.LISTENER_CLAIMED, str(offer.id))
        claimed.append(offer)
    db.session.commit()
    for offer in claimed:
        jobs.PLACE_LISTENER_CALL.enqueue(offer.id)
    return claimed[0] if claimed else None


def _claim(listener: Listener, now: datetime) -> bool:
    """Hold this listener for a ring, if nobody claimed them since they were read."""
    was = listener.last_called_at
    unchanged = Listener.last_called_at.is_(None) if was is None else Listener.last_called_at == was
    return bool(
        db.session.execute(
            update(Listener)
            .where(
                Listener.id == listener.id,
                unchanged,
                *_free(now),
            )
            .values(last_called_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def taken_elsewhere(offer: ListenerOffer) -> None:
    """This offer's listener took the caller: the others rung with them stop ringing, and
    are free for another caller. Commits."""
    others = db.session.scalars(
        select(ListenerOffer).where(
            ListenerOffer.wait_token == offer.wait_token,
            ListenerOffer.id != offer.id,
            ListenerOffer.state == OfferState.RINGING,
        )
    ).all()
    for other in others:
        if close(other, OfferState.ELSEWHERE, try_next=False):
            jobs.STOP_RINGING.enqueue(other.id)


def waited_long_enough(limit: int = SERVED_AT_ONCE) -> list[Call]:
    """The callers waiting now who have waited LISTENER_AFTER_SECONDS on this call in all
    (their waits before this one counted), or at all at a slow pace
    (`pace.listener_after_seconds`), longest first."""
    now = utcnow()
    waiting = waiting_longest_first(limit)
    after = pace.listener_after_seconds() if waiting else 0.0
    return [
        call
        for call in waiting
        if (call.earlier_wait_seconds or 0) + (now - call.wait_started_at).total_seconds() >= after
    ]


def offer_to_the_waiting() -> int:
    """Offer the free listeners to the callers who have waited long enough, longest first;
    how many were rung for."""
    rung = 0
    for call in waited_long_enough():
        if not any_free():
            break
        # None for a caller a call-back rings for (it may bring someone): claim_for looks.
        rung += claim_for(call) is not None
    return rung


def placed(offer: ListenerOffer, sid: str) -> None:
    """Twilio took the call to the listener: note its sid. Commits."""
    ringing.note_call_sid(offer, sid)


def answering(offer: ListenerOffer, sid: str) -> bool:
    """Whether this call is the offer's, and the offer is still ringing."""
    return ringing.is_its_call(offer, OfferState.RINGING, sid)


def close(offer: ListenerOffer, to: OfferState, try_next: bool = True) -> bool:
    """Close a ringing offer; for anything but TAKEN the listener's rest is what it was
    before this ring, and the next listener is tried for the caller still waiting.
    Commits; False if it was closed already."""
    moved = db.session.execute(
        update(ListenerOffer)
        .where(ListenerOffer.id == offer.id, ListenerOffer.state == OfferState.RINGING)
        .values(state=to, closed_at=utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if moved and to != OfferState.TAKEN:
        _unrest(offer.listener_id)
    db.session.commit()
    if not moved:
        return False
    if to == OfferState.TAKEN:
        return True
    waiting = db.session.get(Call, offer.waiting_call_id) if offer.waiting_call_id else None
    if try_next and waiting is not None:
        db.session.refresh(waiting)
        if waiting.state == CallState.WAITING and waiting.wait_token == offer.wait_token:
            claim_for(waiting)
    jobs.SERVE_WAITING.enqueue()  # the listener is free again, for another caller waiting
    return True


def call_ended(offer: ListenerOffer) -> None:
    """The call a listener took ended: once their rest is over, they are offered to whoever
    is waiting then."""
    if offer.state == OfferState.TAKEN:
        jobs.SERVE_WAITING.enqueue(offer.listener_id, delay=rest_left(offer.listener_id))


def rest_left(listener_id: int) -> float:
    """Seconds until this listener's rest after their last call ends (0: rested; also while
    they are on a call, which ends it)."""
    ended = db.session.scalar(
        select(func.max(func.coalesce(Call.ended_at, ListenerOffer.closed_at)))
        .select_from(ListenerOffer)
        .outerjoin(Call, Call.sid == ListenerOffer.call_sid)
        .where(ListenerOffer.listener_id == listener_id, ListenerOffer.state == OfferState.TAKEN)
    )
    if ended is None:
        return 0.0
    rest = timedelta(minutes=settings.LISTENER_REST_MINUTES)
    return max(0.0, (ended + rest - utcnow()).total_seconds())


def _unrest(listener_id: int) -> None:
    """A ring that came to nothing (not answered, passed, a machine, the caller gone) rests
    nobody: the listener's rest runs from the last call they took again, as before the claim
    (which set it to hold them while their phone rang). Same transaction as the close."""
    taken = (
        select(func.max(ListenerOffer.started_at))
        .where(ListenerOffer.listener_id == listener_id, ListenerOffer.state == OfferState.TAKEN)
        .scalar_subquery()
    )
    db.session.execute(
        update(Listener)
        .where(Listener.id == listener_id)
        .values(last_called_at=taken)
        .execution_options(synchronize_session=False)
    )


def ended(offer: ListenerOffer, sid: str, status: str) -> None:
    """The listener's call ended before any 1: what came of it, and the next listener."""
    if offer.state != OfferState.RINGING or offer.call_sid not in (None, sid):
        return
    state = ENDED_AS.get(status, OfferState.NO_ANSWER)
    if status == "completed":  # answered, and hung up without pressing 1
        state = OfferState.DECLINED
    close(offer, state)


def listener_of(offer: ListenerOffer) -> Listener:
    """The listener the offer rings."""
    return db.session.get(Listener, offer.listener_id)
