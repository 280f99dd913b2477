"""Waiting and pairing: put a caller with a waiting caller, or let them wait; time waits out."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update

from app import identity_keys, jobs, urls
from app.db import db, utcnow
from app.line import pace, pool, safety
from app.line.calls import epoch_ms, record, set_outcome
from app.line.models import (
    Call,
    CallEvent,
    CallState,
    ConferenceEvent,
    Conversation,
    Outcome,
    Participant,
    Step,
)
from app.settings import settings
from app.telephony.webhooks import PARTICIPANT_LEAVE

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 50  # each failed attempt consumes one stale pool entry


@dataclass(frozen=True)
class Seat:
    """The room a caller goes to, and whether someone is already there."""

    room: str
    paired: bool
    excluded: frozenset[str] | None = None  # whom the caller may not meet, when it was read


def start_waiting(call: Call, listener_now: bool = False) -> Seat | None:
    """Pair the caller with a compatible waiting caller, or have them wait in a new room;
    None if the caller hung up meanwhile. `listener_now`: a listener is offered as soon as
    they wait (they were called back because one was free).

    What the request recorded before calling (the key pressed) is committed with the wait
    or the pairing; the caller commits it when neither happens (a repeated request, a
    caller who hung up meanwhile).
    """
    if call.state == CallState.WAITING:  # a repeated request: keep the seat already given
        return Seat(call.room, False)
    if call.state == CallState.MATCHED and call.room:  # repeated after it paired them
        return Seat(call.room, True)
    excluded = safety.excluded_partners(call.identity)
    # When someone is waiting already (as in a busy hour), pair without a room of one's own.
    for _ in range(MAX_ATTEMPTS):
        placement = pool.take(identity_keys.newest(call.identity), excluded, language=call.language)
        if placement is None:
            break
        claimed = _claim(call, placement.partner_call_id, placement.room)
        if claimed is not False:
            return Seat(placement.room, True) if claimed else None
    token = secrets.token_hex(8)
    room = "room-" + secrets.token_hex(10)
    # Known empty: if a partner is found at once, this row is deleted without reading them.
    own = Conversation(room=room, participants=[], events=[])
    db.session.add(own)
    call.state, call.wait_token = CallState.WAITING, token
    call.start_wait(utcnow())
    call.room = room
    record(call, Step.WAITING)
    # Committed before touching the pool, so whoever pairs with us finds our row and room.
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        placement = pool.match_or_wait(
            token,
            identity_keys.newest(call.identity),
            room,
            call.id,
            excluded,
            language=call.language,
        )
        if not placement.paired:
            jobs.EXPIRE_WAIT.enqueue(
                call.id,
                token,
                delay=settings.WAIT_TIMEOUT_SECONDS,
                job_id=f"expire-{token}",
            )
            jobs.OFFER_LISTENER.enqueue(
                call.id,
                token,
                delay=0.0 if listener_now else listener_after(call),
                job_id=f"listener-{token}",
            )
            return Seat(room, False, frozenset(excluded))
        claimed = _claim(call, placement.partner_call_id, placement.room, own)
        if claimed is not False:
            return Seat(placement.room, True) if claimed else None
    raise RuntimeError("no usable partner after many stale pool entries")


def listener_after(call: Call) -> float:
    """Seconds into this wait before a listener is offered: none at a slow pace, else
    LISTENER_AFTER_SECONDS (`pace.listener_after_seconds`), counting the caller's earlier waits
    on this call too, so one who waits on after "nobody is free" is offered one at once."""
    return max(0.0, pace.listener_after_seconds() - (call.earlier_wait_seconds or 0))


def join_waiting(call: Call, partner_id: int) -> Seat | None:
    """Pair this call with one particular waiting caller (it is their call-back); None when
    they are no longer waiting, or this call hung up meanwhile.

    The partner leaves the pool by the same atomic removal a timeout uses, so a caller
    pairing with them at this moment, or their timeout, and this join: exactly one wins.
    """
    partner = db.session.get(Call, partner_id)
    if partner is None or partner.state != CallState.WAITING or not partner.wait_token:
        return None
    if not pool.leave(partner.wait_token):
        return None
    claimed = _claim(call, partner_id, partner.room)
    return Seat(partner.room, True) if claimed else None


def _claim(call: Call, partner_id: int, room: str, own: Conversation | None = None) -> bool | None:
    """Move both calls into the partner's room: True. False if the partner is no longer
    waiting; None if the caller hung up meanwhile (the partner is put back to wait).

    `own` is the room the caller opened to wait in, given up now; a caller paired at once
    had none, and waited no time at all. Runs in a savepoint, so a claim that fails undoes
    only itself: what the request recorded before (the key pressed) is committed with it,
    or by the caller after a failed claim.
    """
    now = utcnow()
    attempt = db.session.begin_nested()
    claimed = db.session.execute(
        update(Call)
        .where(Call.id == partner_id, Call.state == CallState.WAITING)
        .values(state=CallState.MATCHED, matched_at=now, outcome=Outcome.PAIRED, wait_ended_at=now)
    ).rowcount
    if not claimed:  # the partner hung up or timed out a moment ago: try the next one
        attempt.rollback()
        return False
    mine = {"state": CallState.MATCHED, "matched_at": now, "outcome": Outcome.PAIRED, "room": room}
    if own is None:  # paired at once: a wait of no time at all, after any earlier ones
        mine.update(call.next_wait(now, ended=True))
    else:
        mine["wait_ended_at"] = now
    # Only while the caller is on the line: an end recorded meanwhile must not be undone.
    stayed = db.session.execute(
        update(Call).where(Call.id == call.id, Call.state != CallState.ENDED).values(**mine)
    ).rowcount
    if not stayed:
        attempt.rollback()
        restore_waiting(db.session.get(Call, partner_id))
        return None
    conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
    # The partner by id only: its row is not needed here, and reading it costs a round trip.
    db.session.add_all(
        [
            Participant(conversation=conversation, call_id=partner_id, matched_at=now),
            Participant(conversation=conversation, call=call, matched_at=now),
            CallEvent(call_id=partner_id, kind=Step.MATCHED, detail=room, at=now),
        ]
    )
    record(call, Step.MATCHED, room, at=now)
    if own is not None:
        db.session.delete(own)
    attempt.commit()
    db.session.commit()
    return True


def expire_wait(call_id: int, token: str) -> bool:
    """Time out a caller still waiting with this token; False when pairing won the race."""
    call = db.session.get(Call, call_id)
    if call is None or call.wait_token != token or call.state != CallState.WAITING:
        return False
    if not pool.leave(token):
        return False
    return _mark_timed_out(call)


def _mark_timed_out(call: Call) -> bool:
    done = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.state == CallState.WAITING)
        .values(state=CallState.TIMED_OUT, wait_ended_at=utcnow())
    ).rowcount
    if not done:
        db.session.rollback()
        return False
    set_outcome(call, Outcome.TIMED_OUT)
    record(call, Step.TIMED_OUT)
    db.session.commit()
    return True


# Where the line is sending a call it marked, before redirecting it, as leaving its room.
MOVES = {CallState.TIMED_OUT: urls.TIMEOUT, CallState.MOVED: urls.PARTNER_GONE}


def moving_to(call: Call) -> str | None:
    """Where the line is moving this call out of its room, if it is (else None).

    A REST redirect of a call in a <Dial> makes Twilio request that Dial's action too. The
    line commits the move (TIMED_OUT, MOVED) before it redirects, so such a request always
    finds it, whether the redirecting job has finished or not.
    """
    return MOVES.get(call.state)


def leave_room(call: Call, dial_status: str, hung_up: bool) -> str:
    """The caller's Dial ended. Returns why: time_up, partner_left, you_left, alone or ended."""
    if call.state == CallState.ENDED:  # the status callback came first
        return "ended"
    reason = "alone"
    if call.state == CallState.WAITING and pool.leave(call.wait_token):
        call.end_wait(utcnow())
        if hung_up:
            set_outcome(call, Outcome.HUNG_UP_WAITING)
    elif call.state in (CallState.WAITING, CallState.MATCHED):
        # Matched, perhaps a moment ago: if the two never met, the other one must not wait alone.
        jobs.RESCUE_PARTNER.enqueue(call.id, call.room)
        reason = _why_room_ended(call, hung_up)
    # A status callback that ended the call meanwhile (this request can wait for a leave
    # event) is not overwritten.
    moved = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.state != CallState.ENDED)
        .values(state=CallState.AFTER)
    ).rowcount
    record(call, Step.LEFT, f"{reason} ({dial_status})")
    db.session.commit()
    return reason if moved else "ended"


def _why_room_ended(call: Call, hung_up: bool) -> str:
    if not call.participations:
        return "alone"
    conversation = call.participations[-1].conversation
    if conversation.time_up_at is not None:
        return "time_up"
    # A caller who hung up hears nothing of it: their Dial's action does not wait for the
    # leave event (a request held a second per hang-up would fill the host's threads).
    leaver = _first_to_leave(conversation.id, patience=0.0 if hung_up else 1.0)
    if leaver is not None:
        return "you_left" if leaver == call.sid else "partner_left"
    # No leave event yet: whoever's Dial ended first is taken to have left first.
    first = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.first_to_leave.is_(None))
        .values(first_to_leave=call.id)
    ).rowcount
    return "you_left" if first else "partner_left"


def _first_to_leave(conversation_id: int, patience: float = 1.0) -> str | None:
    """The CallSid of the first participant-leave in sequence order, waiting briefly for it.

    Twilio sends the events apart, in any order: a leave counts as the first only once
    every event numbered before it has arrived (the numbers run 1, 2, 3, ... per room).
    """
    query = (
        select(ConferenceEvent.sequence, ConferenceEvent.event, ConferenceEvent.call_sid)
        .where(ConferenceEvent.conversation_id == conversation_id)
        .order_by(ConferenceEvent.sequence)
    )
    deadline = time.monotonic() + patience
    while True:
        for expected, (sequence, event, sid) in enumerate(db.session.execute(query), start=1):
            if sequence != expected:
                break  # an earlier event is still on its way
            if event == PARTICIPANT_LEAVE:
                return sid
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)  # the conference's leave event is usually a few ms behind the Dial


def unpaired(call: Call) -> None:
    """The call's match never met: unless it talked to someone before, it no longer counts
    as paired. A call that ended so hung up waiting; for one still going, what comes next
    says how it went."""
    met = any(p.conversation.started_at is not None for p in call.participations)
    if call.outcome == Outcome.PAIRED and not met:
        call.outcome = Outcome.HUNG_UP_WAITING if call.state == CallState.ENDED else None
        db.session.commit()


def partner_of(call: Call) -> Call | None:
    """The other caller in this call's latest conversation."""
    if not call.participations:
        return None
    conversation = call.participations[-1].conversation
    others = [p.call for p in conversation.participants if p.call_id != call.id]
    return others[0] if others else None


def restore_waiting(call: Call) -> None:
    """Put a waiting call back into the pool after Redis lost it."""
    since = epoch_ms(call.wait_started_at)
    pool.restore(
        call.wait_token,
        identity_keys.newest(call.identity),
        call.room,
        call.id,
        since,
        call.language,
    )
