"""Redirecting a call out of its <Dial> makes Twilio request that Dial's action first.

Measured on a real account (see docs/providers.md): the action comes about 0.3 s after the
redirect, with DialCallStatus=completed, and its answer is discarded. The twin does that by
default; every test here runs with it, with no delay, and with no action request at all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from rq.registry import (
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from sqlalchemy import select

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingRoom, GuestState
from app.infra import redis
from app.line.models import Call
from tests.support import call_form, eventually, sign, tuned
from workers.fusing import rotate

KNOBS = {
    "measured": {"redirect_requests_action": True, "redirect_action_delay": 0.3},
    "at once": {"redirect_requests_action": True, "redirect_action_delay": 0.0},
    "no action": {"redirect_requests_action": False},
}


@pytest.fixture(params=list(KNOBS))
def knobs(request, line):
    """The line's twin with one of the answers to "does a redirect ask the Dial's action?"."""
    with tuned(line.twin, **KNOBS[request.param]):
        yield KNOBS[request.param]


def _steps(line, sid: str) -> list[tuple[str, str | None]]:
    with line.app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == sid))
        return [(event.kind, event.detail) for event in call.events]


def _id(line, caller) -> int:
    with line.app.app_context():
        return db.session.scalar(select(Call.id).where(Call.sid == caller.sid))


def _state(line, sid: str) -> str:
    with line.app.app_context():
        return db.session.scalar(select(Call.state).where(Call.sid == sid))


def _ran(line, function: str) -> list[tuple]:
    """The arguments of every job of this function queued so far, run or not."""
    with line.app.app_context():
        kept = (ScheduledJobRegistry, StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry)
        jobs = []
        for queue in redis.queues():
            ids = queue.job_ids + [i for kind in kept for i in kind(queue=queue).get_job_ids()]
            jobs += [queue.fetch_job(i) for i in ids]
        return [tuple(job.args) for job in jobs if job and job.func_name.endswith(function)]


def _actions(line, sid: str, path: str) -> list[dict]:
    return [
        w.params
        for w in line.twin.webhooks
        if w.url.split("?")[0].endswith(path) and w.params["CallSid"] == sid
    ]


def _talk_now(line, number: str):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    return caller


def test_the_queue_timeout_redirect_changes_nothing_through_the_dial_action(line, knobs):
    alice = _talk_now(line, "+15550100201")
    room = alice.wait_until_in_conference()
    alice.wait_until_heard("nobody is free", timeout=15)
    asked = _actions(line, alice.sid, "/twilio/voice/after")
    if knobs["redirect_requests_action"]:
        assert [(a["CallStatus"], a["DialCallStatus"]) for a in asked] == [
            ("in-progress", "completed")
        ]
    else:
        assert asked == []
    assert "left" not in [kind for kind, _ in _steps(line, alice.sid)]
    assert _state(line, alice.sid) == "timed_out"
    assert [args for args in _ran(line, "rescue_partner") if args[0] == _id(line, alice)] == []
    assert not any("left the conversation" in h for h in alice.heard)
    # Where the redirect put her: the menu; keep waiting, and someone new comes.
    alice.press("1")
    again = alice.wait_until_in_conference()
    assert again != room
    bob = _talk_now(line, "+15550100202")
    assert bob.wait_until_in_conference() == again


def test_a_rescued_partner_is_not_rescued_twice_through_the_dial_action(line, knobs):
    alice = _talk_now(line, "+15550100203")
    room = alice.wait_until_in_conference()
    # Bob is matched with Alice but hangs up before his phone joins the room.
    bob = {**call_form("+15550100204"), "Digits": "1"}
    for path in ("/twilio/voice", "/twilio/voice/menu"):
        url = line.server.url + path
        requests.post(url, data=bob, headers={"X-Twilio-Signature": sign(url, bob)}, timeout=5)
    status = {**bob, "CallStatus": "completed", "CallDuration": "2"}
    url = line.server.url + "/twilio/voice/status"
    requests.post(url, data=status, headers={"X-Twilio-Signature": sign(url, status)}, timeout=5)
    alice.wait_until_heard("left before you could talk", timeout=15)
    assert alice.wait_until_in_conference() != room
    assert len(_actions(line, alice.sid, "/twilio/voice/after")) == int(
        knobs["redirect_requests_action"]
    )

    def rescued() -> list[str] | None:
        # Recorded once Twilio has answered the redirect: perhaps after Alice hears its TwiML.
        kinds = [kind for kind, _ in _steps(line, alice.sid)]
        return kinds if "rescued" in kinds else None

    kinds = eventually(rescued)
    assert "left" not in kinds and kinds.count("rescued") == 1
    assert [args for args in _ran(line, "rescue_partner") if args[0] == _id(line, alice)] == []


def _room_of(line, sid: str) -> tuple[str, str | None]:
    with line.app.app_context():
        guest = db.session.scalar(
            select(FusingGuest).join(Call, Call.id == FusingGuest.call_id).where(Call.sid == sid)
        )
        return guest.state, guest.room


def test_a_rotation_moves_every_guest_and_the_dial_actions_change_nothing(line, knobs):
    with line.app.app_context():
        start = (utcnow() + timedelta(seconds=60)).replace(microsecond=0)  # the lobby is open
        sessions.change_rule(weekday=start.weekday(), start_time=start.time(), timezone="UTC")
        session_id = sessions.running_session().id
    guests = [line.dial(f"+4915550700{i:03d}") for i in range(4)]
    for guest in guests:
        guest.wait_until_heard("welcome to the fusing hour")
        assert "lobby" in guest.wait_until_in_conference()
    for number in (0, 1):  # from the lobby into rooms, then from those rooms into new ones
        with line.app.app_context():
            assert rotate(session_id, number)["moved"] == 4
        for guest in guests:
            state, room = _room_of(line, guest.sid)
            assert state == GuestState.ROOM
            eventually(lambda g=guest, r=room: g.conference == r, timeout=10)
    with line.app.app_context():
        rooms = db.session.scalars(select(FusingRoom.room)).all()
    assert len(rooms) == 4 and {g.conference for g in guests} <= set(rooms)
    asked = [a for g in guests for a in _actions(line, g.sid, "/twilio/fusing/back")]
    assert len(asked) == (8 if knobs["redirect_requests_action"] else 0)
    assert [args for args in _ran(line, "regroup") if args[0] == session_id] == []
    assert not any("back in the lobby" in h for g in guests for h in g.heard)
    assert not any(g.errors for g in guests)
