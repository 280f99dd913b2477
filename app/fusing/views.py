"""Fusing Hour webhooks: the lobby, its countdown, the rooms, and the closing message."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from app import jobs, urls
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingSession
from app.line import calls
from app.line.models import Call
from app.telephony import twiml
from app.telephony.signature import twilio_request
from app.voice import prompts

bp = Blueprint("fusing", __name__, url_prefix="/twilio/fusing")


def room_url(room: str, late: bool = False) -> str:
    """Where a rotation (or a late joiner's partner) sends a guest: their new room."""
    return urls.public(f"{urls.FUSING_ROOM}?room={quote(room)}" + ("&late=1" if late else ""))


def _seconds_left(session: FusingSession) -> int:
    return max(60, int((session.ends_at - utcnow()).total_seconds()) + 60)


def _room(session: FusingSession, room: str, intro: str) -> Response:
    return twiml.conference_room(
        room,
        intro=intro,
        wait_url=urls.public(urls.HOLD),
        action=urls.public(urls.FUSING_BACK),
        time_limit=_seconds_left(session),
        max_participants=3,
        end_on_exit=False,
    )


def _round_placed(session: FusingSession) -> bool:
    number = sessions.occurrence_of(session).round_at(utcnow())
    return number is not None and any(r.number == number for r in session.rounds)


def to_lobby(call: Call, session: FusingSession, intro: str) -> Response:
    """Into the lobby; once this round's rooms are made, a late joiner meets another at once."""
    guest = sessions.guest_of(session, call)
    guest.state, guest.room = "lobby", None
    db.session.commit()
    if _round_placed(session):
        room, partner_call = sessions.pair_late_joiner(session, guest)
        if room:
            jobs.MOVE.enqueue(partner_call, room)
            return _room(session, room, prompts.FUSING_LATE_PAIR)
    return twiml.conference_room(
        sessions.lobby_name(session, guest),
        intro=intro,
        wait_url=urls.public(f"{urls.FUSING_COUNTDOWN}?session={session.id}"),
        action=urls.public(urls.FUSING_BACK),
        time_limit=_seconds_left(session),
        max_participants=250,
        start_on_enter=False,
        end_on_exit=False,
    )


def welcome(call: Call, session: FusingSession) -> Response:
    """A call during the Fusing Hour goes straight to the lobby."""
    call.mode = "fusing"
    calls.record(call, "fusing_lobby", str(session.id))
    db.session.commit()
    return to_lobby(call, session, prompts.FUSING_WELCOME)


def _call_and_session() -> tuple[Call, FusingSession | None]:
    call = calls.current(request.form["CallSid"], request.form.get("From"))
    return call, sessions.running_session()


@bp.post("/lobby")
@twilio_request
def lobby():
    """Back to the lobby (the partner left mid-round)."""
    call, session = _call_and_session()
    if session is None:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    return to_lobby(call, session, prompts.FUSING_BACK_TO_LOBBY)


@bp.post("/countdown")
@twilio_request
def countdown():
    """The lobby's wait music, with how long until the next round; fetched again when done."""
    number = request.args.get("session", "")
    session = db.session.get(FusingSession, int(number)) if number.isdigit() else None
    music = current_app.config["HOLD_MUSIC_URL"]
    if session is None:
        return twiml.say_and_play(prompts.HOLD, music)
    occurrence = sessions.occurrence_of(session)
    upcoming = [s for s in occurrence.round_starts() if s > utcnow()]
    if not upcoming:
        return twiml.say_and_play(prompts.FUSING_LAST_ROUND, music)
    seconds = (upcoming[0] - utcnow()).total_seconds()
    return twiml.say_and_play(prompts.countdown(seconds), music)


@bp.post("/room")
@twilio_request
def room():
    """Reached by REST redirect: the guest's room for this round."""
    call, session = _call_and_session()
    name = request.args.get("room", "")
    if session is None or not name:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    calls.record(call, "fusing_room", name)
    db.session.commit()
    intro = prompts.FUSING_LATE_PAIR if request.args.get("late") else prompts.FUSING_NEW_ROUND
    return _room(session, name, intro)


@bp.post("/back")
@twilio_request
def back():
    """A guest's Dial ended (pressed * or hung up): the lobby, unless the hour is over."""
    call, session = _call_and_session()
    if request.form.get("CallStatus") == "completed":
        return twiml.say_and_hang_up(prompts.GOODBYE)  # hung up; the status callback cleans up
    if session is None:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    guest = sessions.guest_of(session, call)
    if left := sessions.leave(guest, "lobby"):
        jobs.REGROUP.enqueue(session.id, left)
    return to_lobby(call, session, prompts.FUSING_BACK_TO_LOBBY)


@bp.post("/closing")
@twilio_request
def closing():
    """The end of the hour: everyone hears goodbye."""
    return twiml.say_and_hang_up(prompts.FUSING_CLOSING)


@bp.post("/round-ending")
@twilio_request
def round_ending():
    """Announced into each room shortly before a round ends."""
    return twiml.say(prompts.FUSING_ROUND_ENDING)


@bp.errorhandler(Exception)
def failed(error: Exception):
    """A guest on the line hears the same apology as any caller, never an error."""
    from app.voice.views import apologise  # noqa: PLC0415 - the voice views import this module

    return apologise(error)
