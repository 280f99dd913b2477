"""Jobs that redirect a call out of its <Dial> commit the move first, and undo it if the
redirect fails: Twilio requests the interrupted Dial's action, which must find the move."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, GuestState
from app.line.models import Call, CallState
from app.telephony import rest
from tests.support import call_form, twiml
from workers import fusing, waiting


def _committed(model_column, where) -> object:
    """A value as another connection sees it: only what was committed."""
    with db.engine.connect() as other:
        return other.scalar(select(model_column).where(where))


def _matched_pair(twilio) -> tuple[dict, dict, str]:
    alice, bob = call_form("+15550100081"), call_form("+15550100082")
    twilio.post("/twilio/voice", alice)
    room = twiml(twilio.post("/twilio/voice/menu", {**alice, "Digits": "1"}))
    twilio.post("/twilio/voice", bob)
    twilio.post("/twilio/voice/menu", {**bob, "Digits": "1"})
    return alice, bob, room.find("Dial/Conference").text


def _ids(*forms) -> list[int]:
    return [db.session.scalar(select(Call.id).where(Call.sid == f["CallSid"])) for f in forms]


def test_a_rescue_marks_the_partner_moved_before_it_redirects(twilio, app, monkeypatch):
    alice, bob, room = _matched_pair(twilio)
    seen = []

    def redirect(sid, url):
        seen.append(_committed(Call.state, Call.sid == sid))

    monkeypatch.setattr(rest, "live_room", lambda name: rest.LiveRoom(False, [alice["CallSid"]]))
    monkeypatch.setattr(rest, "redirect_call", redirect)
    with app.app_context():
        _, bob_id = _ids(alice, bob)
        assert waiting.rescue_partner(bob_id, room) == "redirected"
    assert seen == [CallState.MOVED]


def test_a_rescue_whose_redirect_fails_leaves_the_partner_matched(twilio, app, monkeypatch):
    alice, bob, room = _matched_pair(twilio)

    def refused(sid, url):
        raise rest.TelephonyError("redirect: HTTP 500", 500)

    monkeypatch.setattr(rest, "live_room", lambda name: rest.LiveRoom(False, [alice["CallSid"]]))
    monkeypatch.setattr(rest, "redirect_call", refused)
    with app.app_context():
        _, bob_id = _ids(alice, bob)
        with pytest.raises(rest.TelephonyError):
            waiting.rescue_partner(bob_id, room)
        # Still in the room, as Twilio has it: a retry finds it there and tries again.
        assert _committed(Call.state, Call.sid == alice["CallSid"]) == CallState.MATCHED


def _two_in_a_room(twilio, app) -> tuple[int, FusingGuest, str]:
    with app.app_context():
        start = utcnow().replace(microsecond=0) + timedelta(seconds=60)
        sessions.change_rule(weekday=start.weekday(), start_time=start.time(), timezone="UTC")
    forms = [call_form("+4915550800001"), call_form("+4915550800002")]
    for form in forms:
        twilio.post("/twilio/voice", form)  # into the lobby
    with app.app_context():
        session = sessions.running_session()
        guests = db.session.scalars(select(FusingGuest).order_by(FusingGuest.id)).all()
        room = sessions.open_room(session.id, 0, guests)
        sessions.leave(guests[1], GuestState.GONE)  # one hung up: the other is alone
        return session.id, guests[0].id, room


def test_regroup_places_the_guest_in_the_lobby_before_it_redirects(twilio, app, monkeypatch):
    session_id, guest_id, room = _two_in_a_room(twilio, app)
    seen = []
    monkeypatch.setattr(
        rest,
        "redirect_call",
        lambda sid, url: seen.append(_committed(FusingGuest.state, FusingGuest.id == guest_id)),
    )
    with app.app_context():
        assert fusing.regroup(session_id, room) == "back to lobby"
    assert seen == [GuestState.LOBBY]


def test_regroup_whose_redirect_fails_keeps_the_guest_in_the_room(twilio, app, monkeypatch):
    session_id, guest_id, room = _two_in_a_room(twilio, app)

    def refused(sid, url):
        raise rest.TelephonyError("redirect: HTTP 503", 503)

    monkeypatch.setattr(rest, "redirect_call", refused)
    with app.app_context():
        with pytest.raises(rest.TelephonyError):
            fusing.regroup(session_id, room)
        guest = db.session.get(FusingGuest, guest_id)
        assert (guest.state, guest.room) == (GuestState.ROOM, room)
