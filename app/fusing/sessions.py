"""Fusing Hour sessions: which one runs now, who is in it, and where each guest goes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import identity_keys
from app.db import db, locked_in_order, utcnow
from app.fusing.lineup import Pair, met_pairs
from app.fusing.models import (
    DateKind,
    FusingDate,
    FusingGuest,
    FusingRoom,
    FusingRule,
    FusingSeat,
    FusingSession,
    GuestState,
)
from app.fusing.schedule import Extra, Occurrence, Rule, current_occurrence, next_occurrence
from app.infra import table_cache
from app.line import pool
from app.line.models import Call
from app.settings import this_app

table_cache.watch("schedule", FusingRule, FusingDate)
LOBBY_SIZE = 200  # Twilio conferences hold 250; lobbies fill to 200 and then shard
LOBBY_OPENS_BEFORE = timedelta(minutes=2)
QUIET = "mindfuse.fusing.quiet_until"  # (schedule, from, until): no Fusing Hour in between
# What an admin may set, in minutes (inclusive): the CLI and the admin form both use these.
DURATION_MINUTES = (5, 600)
ROUND_MINUTES = (2, 120)


def rule_row() -> FusingRule:
    """The weekly rule, created with the defaults on first use."""
    rule = db.session.scalar(select(FusingRule).limit(1))
    if rule is None:
        rule = FusingRule()
        db.session.add(rule)
        db.session.commit()
    return rule


def schedule() -> tuple[Rule, list[Extra], list]:
    """The rule, one-off sessions and cancelled dates, as the schedule module takes them."""
    return table_cache.cached("schedule", _load_schedule)


def _load_schedule() -> tuple[Rule, list[Extra], list]:
    row = rule_row()
    rule = Rule(
        weekday=row.weekday,
        start=row.start_time,
        tz=row.timezone,
        duration=timedelta(seconds=row.duration_seconds),
        round_length=timedelta(seconds=row.round_seconds),
        gap=timedelta(seconds=row.gap_seconds),
    )
    dates = db.session.scalars(select(FusingDate)).all()
    extras = [
        Extra(
            d.day,
            d.start_time,
            timedelta(seconds=d.duration_seconds) if d.duration_seconds else None,
        )
        for d in dates
        if d.kind == DateKind.EXTRA and d.start_time is not None
    ]
    cancelled = [d.day for d in dates if d.kind == DateKind.CANCELLED]
    return rule, extras, cancelled


def change_rule(**fields) -> FusingRule:
    """Set fields of the weekly rule and save it (ValueError, nothing saved, if impossible)."""
    rule = rule_row()
    for name, value in fields.items():
        setattr(rule, name, value)
    save_schedule()
    return rule


def save_schedule() -> None:
    """Commit pending rule and date changes, or roll back and raise ValueError if impossible."""
    try:
        # Built from the pending rows, not the cache: refuses an impossible rule.
        _load_schedule()
    except ValueError:
        db.session.rollback()
        raise
    db.session.commit()


def upcoming(now: datetime | None = None) -> Occurrence | None:
    """The next Fusing Hour that has not started yet."""
    rule, extras, cancelled = schedule()
    return next_occurrence(rule, now or utcnow(), extras, cancelled)


def running_occurrence(now: datetime | None = None) -> Occurrence | None:
    """The Fusing Hour in progress now, or whose lobby is already open, if any.

    Every incoming call asks. Between Fusing Hours the answer stays "none" until the next
    lobby opens, so the process notes that moment and skips the computation until then
    (or until the schedule it was computed from is reloaded).
    """
    plan = schedule()
    now = now or utcnow()
    quiet = this_app().extensions.get(QUIET)
    if quiet and quiet[0] is plan and quiet[1] <= now < quiet[2]:
        return None
    rule, extras, cancelled = plan
    found = current_occurrence(rule, now, extras, cancelled)
    if found is None:  # early arrivals wait in the lobby for the first round
        found = next_occurrence(rule, now, extras, cancelled)
        if found is not None and now < found.starts_at - LOBBY_OPENS_BEFORE:
            current_app.extensions[QUIET] = (plan, now, found.starts_at - LOBBY_OPENS_BEFORE)
            found = None
    return found


def session_for(occurrence: Occurrence) -> FusingSession:
    """The session row of an occurrence, created once."""
    found = db.session.scalar(
        select(FusingSession).where(FusingSession.starts_at == occurrence.starts_at)
    )
    if found is not None:
        return found
    session = FusingSession(
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        timezone=occurrence.tz,
        round_seconds=int(occurrence.round_length.total_seconds()),
        gap_seconds=int(occurrence.gap.total_seconds()),
    )
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError:  # another process created it first
        db.session.rollback()
        return session_for(occurrence)
    return session


def session_at(starts_at: datetime) -> FusingSession | None:
    """The session that starts at this moment."""
    return db.session.scalar(select(FusingSession).where(FusingSession.starts_at == starts_at))


def running_session(now: datetime | None = None) -> FusingSession | None:
    """The session in progress now (not closed), if any."""
    occurrence = running_occurrence(now)
    if occurrence is None:
        return None
    session = session_for(occurrence)
    return None if session.closed_at else session


def occurrence_of(session: FusingSession) -> Occurrence:
    """The timing of a session, as the schedule describes it."""
    return Occurrence(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        tz=session.timezone,
        round_length=timedelta(seconds=session.round_seconds),
        gap=timedelta(seconds=session.gap_seconds),
    )


def guest_of(session: FusingSession, call: Call) -> FusingGuest:
    """The call's guest row in the session, created when they first arrive."""
    guest = db.session.scalar(
        select(FusingGuest).where(
            FusingGuest.session_id == session.id, FusingGuest.call_id == call.id
        )
    )
    if guest is None:
        guest = FusingGuest(session_id=session.id, call_id=call.id, identity=call.identity)
        db.session.add(guest)
        db.session.commit()
    return guest


def met_in(session_id: int) -> set[Pair]:
    """Every pair of identities who shared a room in this session."""
    rows = db.session.execute(
        select(FusingRoom.id, FusingSeat.identity)
        .join(FusingSeat, FusingSeat.room_id == FusingRoom.id)
        .where(FusingRoom.session_id == session_id)
    )
    rooms: dict[int, list[str]] = {}
    for room_id, identity in rows:
        rooms.setdefault(room_id, []).append(identity)
    return met_pairs(rooms.values())


def lobby_name(session: FusingSession, guest: FusingGuest) -> str:
    """The lobby conference for a guest: lobbies shard so none outgrows a conference."""
    earlier = db.session.scalar(
        select(db.func.count())
        .select_from(FusingGuest)
        .where(FusingGuest.session_id == session.id, FusingGuest.id < guest.id)
    )
    return f"fusing-{session.id}-lobby-{earlier // LOBBY_SIZE}"


def is_lobby(session: FusingSession, room: str) -> bool:
    """Whether a conference name is one of this session's lobbies (see lobby_name)."""
    return room.startswith(f"fusing-{session.id}-lobby-")


def pool_name(session_id: int) -> str:
    """The Redis pool where late joiners of a session wait for each other."""
    return f"fusing:{session_id}:pool"


def open_room(session_id: int, round_number: int | None, guests: list[FusingGuest]) -> str:
    """Record a new room for these guests (not committed) and return its conference name."""
    name = f"fusing-{session_id}-" + secrets.token_hex(6)
    room = FusingRoom(session_id=session_id, round_number=round_number, room=name)
    db.session.add(room)
    for guest in guests:
        room.seats.append(FusingSeat(call_id=guest.call_id, identity=guest.identity))
        guest.state, guest.room = GuestState.ROOM, name
    return name


def pair_late_joiner(session: FusingSession, guest: FusingGuest) -> tuple[str | None, int | None]:
    """Pair a guest with another waiting late joiner they have not met; else let them wait.

    Returns (room, partner call id) when paired, (None, None) when the guest waits.
    """
    excluded = {guest.identity} | {
        other for pair in met_in(session.id) if guest.identity in pair for other in pair
    }
    token = f"{session.id}-{guest.id}-{secrets.token_hex(4)}"
    while True:
        placement = pool.match_or_wait(
            token,
            identity_keys.newest(guest.identity),
            "lobby",
            guest.call_id,
            excluded,
            pool_name=pool_name(session.id),
            stale_after=session.round_seconds + 120,
            language=db.session.get(Call, guest.call_id).language,  # late joiners of one language
        )
        if not placement.paired:
            return None, None
        partner = db.session.scalar(
            select(FusingGuest).where(
                FusingGuest.session_id == session.id,
                FusingGuest.call_id == placement.partner_call_id,
            )
        )
        # Both rows held in the order of their ids, as the round's flush moves guests.
        locked_in_order(FusingGuest.id, (partner.id, guest.id))
        claimed = db.session.execute(
            update(FusingGuest)
            .where(FusingGuest.id == partner.id, FusingGuest.state == GuestState.LOBBY)
            .values(state=GuestState.ROOM)
        ).rowcount
        if claimed:
            db.session.refresh(partner)
            name = open_room(session.id, None, [partner, guest])
            db.session.commit()
            return name, partner.call_id
        db.session.rollback()  # they were placed or left meanwhile: look again


def leave(guest: FusingGuest, state: GuestState = GuestState.GONE) -> str | None:
    """Take a guest out of their room (to the lobby, or gone); returns the room they left."""
    room = guest.room
    guest.state, guest.room = state, None
    if state == GuestState.GONE:
        guest.left_at = utcnow()
    db.session.commit()
    return room


def left_in_room(session_id: int, room: str) -> list[FusingGuest]:
    """The guests still in a room."""
    return db.session.scalars(
        select(FusingGuest).where(
            FusingGuest.session_id == session_id,
            FusingGuest.room == room,
            FusingGuest.state == GuestState.ROOM,
        )
    ).all()
