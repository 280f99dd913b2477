"""What a Fusing Hour guest's phone is told: the countdown loops itself; a Dial action that
the line's own redirect caused changes nothing."""

from __future__ import annotations

from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingSession, GuestState
from app.infra import redis
from app.line.models import Call
from tests.support import PUBLIC, call_form, spoken, twiml


def _session(app, starts_in: timedelta) -> int:
    with app.app_context():
        starts = utcnow().replace(microsecond=0) + starts_in
        session = FusingSession(
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            timezone="UTC",
            round_seconds=720,
            gap_seconds=30,
        )
        db.session.add(session)
        db.session.commit()
        return session.id


def test_the_countdown_speaks_plays_once_and_comes_back_to_itself(twilio, app):
    number = _session(app, timedelta(minutes=5))
    path = f"/twilio/fusing/countdown?session={number}"
    root = twiml(twilio.post(path, call_form()))
    assert [node.tag for node in root] == ["Say", "Play", "Redirect"]
    assert "about 5 minutes" in spoken(root)
    assert root.find("Play").get("loop") in (None, "1")  # one piece, then the countdown again
    # Twilio plays a waitUrl document once: the Redirect back is what keeps the lobby talking.
    assert root.find("Redirect").text == PUBLIC + path
    assert root.find("Redirect").get("method") == "POST"


def test_after_the_last_round_began_the_lobby_still_loops(twilio, app):
    number = _session(app, -timedelta(minutes=59))
    root = twiml(twilio.post(f"/twilio/fusing/countdown?session={number}", call_form()))
    assert "last round" in spoken(root).lower()
    assert root.find("Redirect").text.endswith(f"/twilio/fusing/countdown?session={number}")


def test_a_countdown_for_no_session_is_music_that_loops_by_itself(twilio):
    root = twiml(twilio.post("/twilio/fusing/countdown?session=999999", call_form()))
    assert root.find("Play").get("loop") == "0" and root.find("Redirect") is None


def _hour_soon(app) -> None:
    with app.app_context():
        start = utcnow().replace(microsecond=0) + timedelta(seconds=60)  # the lobby is open
        sessions.change_rule(weekday=start.weekday(), start_time=start.time(), timezone="UTC")


def _in_lobby(twilio, number: str) -> tuple[dict, str]:
    """A guest calls during the hour: the lobby; returns their form and the Dial's action."""
    form = call_form(number)
    dial = twiml(twilio.post("/twilio/voice", form)).find("Dial")
    assert dial.find("Conference").text in dial.get("action")  # the action names its room
    return form, dial.get("action")


def _guest(form) -> FusingGuest:
    call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
    return db.session.scalar(select(FusingGuest).where(FusingGuest.call_id == call.id))


def _back(twilio, action: str, form: dict):
    data = {**form, "CallStatus": "in-progress", "DialCallStatus": "completed"}
    return twiml(twilio.post(action.removeprefix(PUBLIC), data))


def _queued() -> list[str]:
    found = []
    for queue in redis.queues():
        later = ScheduledJobRegistry(queue=queue).get_job_ids()
        found += [job.func_name for job in queue.jobs + [queue.fetch_job(i) for i in later] if job]
    return found


def test_the_lobby_dial_action_of_a_guest_a_rotation_placed_changes_nothing(twilio, app):
    _hour_soon(app)
    form, action = _in_lobby(twilio, "+4915550600001")
    with app.app_context():  # what a rotation commits before it redirects the guest
        guest = _guest(form)
        guest.state, guest.room = GuestState.ROOM, "fusing-1-abc"
        db.session.commit()
    root = _back(twilio, action, form)
    assert [node.tag for node in root] == ["Pause", "Redirect"]
    assert root.find("Redirect").text == PUBLIC + "/twilio/fusing/room?room=fusing-1-abc"
    with app.app_context():
        guest = _guest(form)
        assert (guest.state, guest.room) == (GuestState.ROOM, "fusing-1-abc")
        assert _queued() == []  # nobody regrouped


def test_the_room_dial_action_of_a_guest_sent_back_to_the_lobby_changes_nothing(twilio, app):
    _hour_soon(app)
    form, _ = _in_lobby(twilio, "+4915550600002")
    with app.app_context():  # regroup places the guest in the lobby, then redirects
        guest = _guest(form)
        guest.state, guest.room = GuestState.LOBBY, None
        db.session.commit()
    root = _back(twilio, PUBLIC + "/twilio/fusing/back?room=fusing-1-abc", form)
    assert root.find("Redirect").text == PUBLIC + "/twilio/fusing/lobby"
    with app.app_context():
        assert _guest(form).state == GuestState.LOBBY and _queued() == []


def test_a_guest_who_leaves_their_room_with_star_goes_back_to_the_lobby(twilio, app):
    _hour_soon(app)
    form, _ = _in_lobby(twilio, "+4915550600003")
    with app.app_context():
        guest = _guest(form)
        guest.state, guest.room = GuestState.ROOM, "fusing-1-abc"
        db.session.commit()
    root = _back(twilio, PUBLIC + "/twilio/fusing/back?room=fusing-1-abc", form)
    assert "lobby" in root.find("Dial/Conference").text
    with app.app_context():
        assert _guest(form).state == GuestState.LOBBY
        assert _queued() == ["workers.fusing.regroup"]


def test_a_guest_who_leaves_the_lobby_with_star_stays_in_it(twilio, app):
    _hour_soon(app)
    form, action = _in_lobby(twilio, "+4915550600004")
    root = _back(twilio, action, form)
    assert root.find("Dial/Conference").text in action
