"""Fusing Hour webhooks: the lobby, its countdown, the rooms, and the closing message."""

from __future__ import annotations

from flask import Blueprint, request

from app import i18n, jobs, prompts, urls
from app.db import db, utcnow
from app.fusing import lobby, sessions
from app.fusing.models import FusingSession, GuestState
from app.line import calls
from app.line.models import Call
from app.settings import settings
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import CallRequest, DialResult, room_name

bp = Blueprint("fusing", __name__, url_prefix="/twilio/fusing")


@bp.before_request
def _language():
    """Speak the language the URL names (documents fetched without looking the call up)."""
    i18n.use(request.args.get(urls.LANGUAGE))


def _call_and_session(webhook: CallRequest) -> tuple[Call, FusingSession | None]:
    call = calls.current(webhook.call_sid, webhook.from_number, language=i18n.current())
    i18n.use(call.language)
    return call, sessions.running_session()


@bp.post("/lobby", endpoint="lobby")
@twilio_request
def back_to_lobby():
    """Back to the lobby (the partner left mid-round)."""
    call, session = _call_and_session(CallRequest.from_form(request.form))
    if session is None:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    return lobby.to_lobby(call, session, prompts.FUSING_BACK_TO_LOBBY)


@bp.post("/countdown")
@twilio_request
def countdown():
    """The lobby's wait music, with how long until the next round; it loops to itself."""
    number = request.args.get("session", "")
    session = db.session.get(FusingSession, int(number)) if number.isdigit() else None
    music = settings.HOLD_MUSIC_URL
    if session is None:
        return twiml.hold_music(music, prompts.HOLD)
    again = urls.public(f"{urls.FUSING_COUNTDOWN}?session={session.id}")
    occurrence = sessions.occurrence_of(session)
    upcoming = [s for s in occurrence.round_starts() if s > utcnow()]
    if not upcoming:
        return twiml.countdown(prompts.FUSING_LAST_ROUND, music, again)
    seconds = (upcoming[0] - utcnow()).total_seconds()
    return twiml.countdown(prompts.countdown(seconds), music, again)


@bp.post("/room")
@twilio_request
def room():
    """Reached by REST redirect: the guest's room for this round."""
    call, session = _call_and_session(CallRequest.from_form(request.form))
    name = room_name(request.args.get("room"))
    if session is None or not name:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    lobby.placed(call, name)
    intro = prompts.FUSING_LATE_PAIR if request.args.get("late") else prompts.FUSING_NEW_ROUND
    return lobby.to_room(session, name, intro)


@bp.post("/back")
@twilio_request
def back():
    """A guest's Dial ended (pressed * or hung up): the lobby, unless the hour is over or
    the line itself redirected the guest out of that room."""
    dialled = DialResult.from_form(request.form)
    call, session = _call_and_session(dialled)
    if dialled.hung_up:
        return twiml.say_and_hang_up(prompts.GOODBYE)  # hung up; the status callback cleans up
    if session is None:
        return twiml.say_and_hang_up(prompts.FUSING_CLOSING)
    guest = sessions.guest_of(session, call)
    if target := lobby.moving_to(session, guest, request.args.get("room")):
        return twiml.moving(target)  # asked because the line redirected it: nothing changes
    if left := sessions.leave(guest, GuestState.LOBBY):
        jobs.REGROUP.enqueue(session.id, left)
    return lobby.to_lobby(call, session, prompts.FUSING_BACK_TO_LOBBY)


@bp.post("/closing")
@twilio_request
def closing():
    """The end of the hour: everyone hears goodbye, each in their own language."""
    call = calls.by_sid(CallRequest.from_form(request.form).call_sid)
    if call is not None:
        i18n.use(call.language)
    return twiml.say_and_hang_up(prompts.FUSING_CLOSING)


@bp.post("/round-ending")
@twilio_request
def round_ending():
    """Announced into each room shortly before a round ends."""
    return twiml.say(prompts.FUSING_ROUND_ENDING)


answer_failures(
    bp,
    apology=prompts.APOLOGY,
    wait_documents=frozenset({"fusing.countdown"}),
    wait_apology=prompts.WAIT_APOLOGY,
)
