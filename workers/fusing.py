"""Fusing Hour jobs: schedule a session's rounds, rotate guests, warn, regroup, close."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import select

from app import i18n, jobs, urls
from app.db import db, utcnow
from app.fusing import lineup, sessions
from app.fusing.lineup import Pair
from app.fusing.lobby import room_url
from app.fusing.models import (
    FusingGuest,
    FusingRoom,
    FusingRound,
    FusingSeat,
    FusingSession,
    GuestState,
)
from app.infra import redis
from app.line import pool
from app.line.models import Call, CallEvent, CallState, Step
from app.settings import settings
from app.telephony import rest

log = logging.getLogger(__name__)
LOOKAHEAD = timedelta(minutes=5)


def tick() -> int | None:
    """Recurring: when a session is near or running, queue its rotations, warnings and close.

    Times come from the schedule in the session's own zone, converted to UTC here, so a
    local 10:00 stays 10:00 across daylight-saving changes. Returns the session id, if any.
    """
    now = utcnow()
    occurrence = sessions.running_occurrence(now)
    if occurrence is None:
        occurrence = sessions.upcoming(now)
        if occurrence is None or occurrence.starts_at - now > LOOKAHEAD:
            return None
    session = sessions.session_for(occurrence)
    if session.closed_at or not redis.connection().set(
        redis.key("fusing", str(session.id), "scheduled"), 1, nx=True, ex=24 * 3600
    ):
        return session.id
    starts = occurrence.round_starts()
    for number, start in enumerate(starts):
        _at(start, jobs.ROTATE, session.id, number, f"rotate-{number}")
        warning = occurrence.round_end(number) - occurrence.gap
        if number < len(starts) - 1 and warning > start:
            _at(warning, jobs.WARN_ROUND, session.id, number, f"warn-{number}")
    _at(occurrence.ends_at, jobs.CLOSE_HOUR, session.id, None, "close")
    return session.id


def _at(when, job: jobs.Job, session_id: int, number: int | None, name: str) -> None:
    args = (session_id,) if number is None else (session_id, number)
    delay = max(0.0, (when - utcnow()).total_seconds())
    job.enqueue(*args, delay=delay, job_id=f"fusing-{session_id}-{name}")


def _present(session_id: int) -> list[FusingGuest]:
    return db.session.scalars(
        select(FusingGuest)
        .join(Call, Call.id == FusingGuest.call_id)
        .where(
            FusingGuest.session_id == session_id,
            FusingGuest.state.in_((GuestState.LOBBY, GuestState.ROOM)),
            Call.state != CallState.ENDED,
        )
        .order_by(FusingGuest.id)
    ).all()


def _guest_pairs_met(session_id: int, guests: list[FusingGuest]) -> set[Pair]:
    by_identity: dict[str, list[int]] = {}
    for guest in guests:
        by_identity.setdefault(guest.identity, []).append(guest.id)
    met = {Pair((a, b)) for ids in by_identity.values() for a in ids for b in ids if a != b}
    for pair in sessions.met_in(session_id):
        first, second = tuple(pair)
        for a in by_identity.get(first, ()):
            met.update(Pair((a, b)) for b in by_identity.get(second, ()))
    return met


def rotate(session_id: int, number: int) -> dict:
    """At a round boundary: everyone present goes to a new room with someone new.

    The rooms are decided and committed first; the moves follow. A retry after a crash
    finds the rooms made and moves only the guests who have not reached theirs.
    """
    started = time.monotonic()
    session = db.session.get(FusingSession, session_id)
    if session is None or session.closed_at:
        return {"skipped": "closed"}
    record = next((r for r in session.rounds if r.number == number), None)
    if record is None:
        record = _plan_round(session_id, number)
    elif record.seconds is not None:
        return {"skipped": "done"}
    return _seat_everyone(record, started)


def _languages(call_ids: list[int]) -> dict[int, str]:
    """The language of each of these calls."""
    rows = db.session.execute(select(Call.id, Call.language).where(Call.id.in_(call_ids)))
    return dict(rows.all())


def _plan_round(session_id: int, number: int) -> FusingRound:
    guests = _present(session_id)
    met = _guest_pairs_met(session_id, guests)
    spoken = _languages([g.call_id for g in guests])
    by_language: dict[str, list[int]] = {}
    for guest in guests:  # each language's guests rotate among themselves
        by_language.setdefault(spoken[guest.call_id], []).append(guest.id)
    groups = [room for ids in by_language.values() for room in lineup.group(ids, met)]
    by_id = {g.id: g for g in guests}
    record = FusingRound(session_id=session_id, number=number, guests=len(guests), rest_calls=0)
    db.session.add(record)
    for group in groups:
        if len(group) > 1:  # a single guest stays in the lobby for a late joiner
            sessions.open_room(session_id, number, [by_id[i] for i in group])
    db.session.commit()
    pool.clear(sessions.pool_name(session_id))
    return record


def _seat_everyone(record: FusingRound, started: float) -> dict:
    # Two queries for the whole round, not two per guest: this runs at the round boundary.
    seats = db.session.execute(
        select(FusingRoom.room, Call.id, Call.sid)
        .join(FusingSeat, FusingSeat.room_id == FusingRoom.id)
        .join(Call, Call.id == FusingSeat.call_id)
        .where(
            FusingRoom.session_id == record.session_id,
            FusingRoom.round_number == record.number,
            Call.state != CallState.ENDED,
        )
    ).all()
    arrived = set(
        db.session.execute(
            select(CallEvent.call_id, CallEvent.detail).where(
                CallEvent.call_id.in_([call_id for _, call_id, _ in seats]),
                CallEvent.kind == Step.FUSING_ROOM,
            )
        ).all()
    )
    moves = {sid: room_url(room) for room, call_id, sid in seats if (call_id, room) not in arrived}
    rooms = {room for room, _, _ in seats}
    burst = rest.redirect_many(moves, settings.FUSING_MAX_IN_FLIGHT)
    _forget(record.session_id, burst.gone)
    record.rest_calls += burst.requests
    record.seconds = time.monotonic() - started
    db.session.commit()
    log.info(
        "round %d: %d guests in %d rooms, %d REST requests, %.2f s",
        record.number,
        record.guests,
        len(rooms),
        burst.requests,
        record.seconds,
    )
    return {
        "guests": record.guests,
        "moved": len(burst.done),
        "gone": len(burst.gone),
        "failed": len(burst.failed),
        "requests": burst.requests,
    }


def _forget(session_id: int, sids: list[str]) -> None:
    if not sids:
        return
    calls = db.session.scalars(select(Call.id).where(Call.sid.in_(sids))).all()
    for guest in db.session.scalars(
        select(FusingGuest).where(
            FusingGuest.session_id == session_id, FusingGuest.call_id.in_(calls)
        )
    ):
        guest.state, guest.room, guest.left_at = GuestState.GONE, None, utcnow()


def warn_round(session_id: int, number: int) -> int:
    """Shortly before a round ends, each of its rooms hears that it is time to say goodbye."""
    rooms = db.session.execute(
        select(FusingRoom.room, db.func.min(Call.language))
        .join(FusingSeat, FusingSeat.room_id == FusingRoom.id)
        .join(Call, Call.id == FusingSeat.call_id)
        .where(FusingRoom.session_id == session_id, FusingRoom.round_number == number)
        .group_by(FusingRoom.room)
    ).all()
    by_language: dict[str, list[str]] = {}
    for room, language in rooms:  # a room's guests share a language
        by_language.setdefault(language, []).append(room)
    done = 0
    for language, names in by_language.items():
        with i18n.speaking(language):
            url = urls.public(urls.FUSING_ROUND_ENDING)
        done += len(rest.announce_many(names, url, settings.FUSING_MAX_IN_FLIGHT).done)
    return done


def close(session_id: int) -> int:
    """The hour is over: everyone still on the line hears the closing message."""
    session = db.session.get(FusingSession, session_id)
    if session is None:
        return 0
    if session.closed_at is None:
        session.closed_at = utcnow()
        db.session.commit()
    guests = _present(session_id)
    sids = db.session.scalars(select(Call.sid).where(Call.id.in_([g.call_id for g in guests])))
    moves = dict.fromkeys(sids, urls.public(urls.FUSING_CLOSING))
    burst = rest.redirect_many(moves, settings.FUSING_MAX_IN_FLIGHT)
    for guest in guests:
        guest.state, guest.room, guest.left_at = GuestState.GONE, None, utcnow()
    db.session.commit()
    return len(burst.done)


def move(call_id: int, room: str) -> str:
    """Send a waiting late joiner to the room another late joiner just opened with them."""
    call = db.session.get(Call, call_id)
    if call is None or call.state == CallState.ENDED:
        return "gone"
    try:
        rest.redirect_call(call.sid, room_url(room, late=True))
    except rest.Gone:
        return "gone"
    return "moved"


def regroup(session_id: int, room: str) -> str:
    """Someone left a room mid-round: a guest now alone there goes back to the lobby."""
    session = db.session.get(FusingSession, session_id)
    remaining = sessions.left_in_room(session_id, room)
    if session is None or session.closed_at or len(remaining) != 1:
        return "nothing to do"
    alone = remaining[0]
    call = db.session.get(Call, alone.call_id)
    # Placed in the lobby before the redirect: the action request Twilio makes for the Dial
    # it interrupts then finds the guest moved, whenever it comes.
    sessions.leave(alone, GuestState.LOBBY)
    try:
        rest.redirect_call(call.sid, urls.public(urls.FUSING_LOBBY))
    except rest.Gone:
        sessions.leave(alone, GuestState.GONE)
        return "gone"
    except rest.TelephonyError:
        alone.state, alone.room = GuestState.ROOM, room  # still in the room: a retry finds it
        db.session.commit()
        raise
    return "back to lobby"


def guest_left(call_id: int) -> int:
    """A Fusing Hour call ended: it leaves its session, and its room is regrouped."""
    guests = db.session.scalars(
        select(FusingGuest).where(
            FusingGuest.call_id == call_id, FusingGuest.state != GuestState.GONE
        )
    ).all()
    for guest in guests:
        if room := sessions.leave(guest, GuestState.GONE):
            regroup(guest.session_id, room)
    return len(guests)
