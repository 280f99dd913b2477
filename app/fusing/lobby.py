"""What a Fusing Hour guest hears: the welcome, the lobby, and their room for a round."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from app import i18n, jobs, prompts, urls
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingSession, GuestState
from app.line import calls
from app.line.models import Call, CallMode, Outcome, Step
from app.telephony import twiml


def room_url(room: str, late: bool = False) -> str:
    """Where a rotation (or a late joiner's partner) sends a guest: their new room."""
    return urls.public(f"{urls.FUSING_ROOM}?room={quote(room)}" + ("&late=1" if late else ""))


def back_url(room: str) -> str:
    """The action of a guest's Dial into `room`: the room is named, so that the request
    Twilio makes when the line redirects the guest out of it can be told apart."""
    return urls.public(f"{urls.FUSING_BACK}?room={quote(room)}")


def moving_to(session: FusingSession, guest: FusingGuest, room: str | None) -> str | None:
    """Where the line is moving a guest whose Dial into `room` ended, if it is (else None).

    A REST redirect of a call in a <Dial> makes Twilio request that Dial's action too.
    Every move the line makes (a rotation, a late pairing, back to the lobby) places the
    guest before it redirects them, so the Dial that ended is not where the guest is placed.
    """
    if not room:  # a Dial from before rooms were named in its action: taken as the guest's
        return None
    if guest.state == GuestState.ROOM and guest.room and guest.room != room:
        return room_url(guest.room)
    if guest.state == GuestState.LOBBY and not sessions.is_lobby(session, room):
        return urls.public(urls.FUSING_LOBBY)
    return None


def seconds_left(session: FusingSession) -> int:
    """The Dial time limit for a guest: the rest of the hour and a minute (at least one)."""
    return max(60, int((session.ends_at - utcnow()).total_seconds()) + 60)


def to_room(session: FusingSession, name: str, intro: str) -> Response:
    """Into a round's room of two (or three)."""
    return twiml.conference_room(
        name,
        intro=intro,
        wait_url=urls.public(urls.HOLD),
        action=back_url(name),
        time_limit=seconds_left(session),
        max_participants=3,
        end_on_exit=False,
    )


def placed(call: Call, room: str) -> None:
    """Note on the guest's call that they are in a room with someone: they were paired."""
    calls.record(call, Step.FUSING_ROOM, room)
    calls.set_outcome(call, Outcome.PAIRED)
    db.session.commit()


def round_placed(session: FusingSession) -> bool:
    """Whether the rooms of the round now running are made (late joiners pair at once)."""
    number = sessions.occurrence_of(session).round_at(utcnow())
    return number is not None and any(r.number == number for r in session.rounds)


def to_lobby(call: Call, session: FusingSession, intro: str) -> Response:
    """Into the lobby; once this round's rooms are made, a late joiner meets another at once."""
    guest = sessions.guest_of(session, call)
    guest.state, guest.room = GuestState.LOBBY, None
    db.session.commit()
    if round_placed(session):
        found, partner_call = sessions.pair_late_joiner(session, guest)
        if found:
            jobs.MOVE.enqueue(partner_call, found)
            placed(call, found)
            return to_room(session, found, prompts.FUSING_LATE_PAIR)
    lobby = sessions.lobby_name(session, guest)
    return twiml.conference_room(
        lobby,
        intro=intro,
        wait_url=urls.public(f"{urls.FUSING_COUNTDOWN}?session={session.id}"),
        action=back_url(lobby),
        time_limit=seconds_left(session),
        max_participants=250,
        start_on_enter=False,
        end_on_exit=False,
    )


def welcome(call: Call, session: FusingSession) -> Response:
    """A call during the Fusing Hour goes straight to the lobby."""
    call.mode = CallMode.FUSING
    calls.record(call, Step.FUSING_LOBBY, str(session.id))
    db.session.commit()
    welcome = str(prompts.FUSING_WELCOME)
    if len(i18n.offered()) > 1:  # each language's guests rotate among themselves: say so
        welcome += " " + str(prompts.FUSING_SAME_LANGUAGE)
    return to_lobby(call, session, welcome)
