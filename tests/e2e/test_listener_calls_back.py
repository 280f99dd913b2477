"""A free listener calls back, end to end: a caller waiting alone presses star, asks to be
called back, and hangs up; with a listener free and nobody waiting, the line calls them back
at once; on 1 they wait, a listener is rung for them at once, and on the listener's 1 the
two are in one room. Only one requester is called back for one free listener."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.line.models import Call, CallMode
from app.listeners import roster
from tests.support import ask_for_call_back, callback_requests, drain, eventually, in_a_room
from twin import Callee, Pickup

# The caller's own wait would bring a listener only after 30 s (as at a busy hour: at a quiet
# one, as every test's empty tables are, it would bring them at once), and time out after 40:
# what rings the listener here is the call-back.
LINE_CONFIG = {
    "LISTENER_AFTER_SECONDS": 30,
    "WAIT_TIMEOUT_SECONDS": 40,
    "LISTENER_AT_ONCE_BELOW": 0,
}
TAKES = Callee(press="1", cue="press 1 to take the call")
ANSWERS = Callee(press="1", cue="press 1 to talk now")


def _ask_from_the_wait(line, number: str) -> None:
    """Wait alone, press star, press 3: a call-back is noted, and the caller hangs up."""
    caller = in_a_room(line, number)
    caller.wait_until_heard("press star, then 3")
    caller.press("*")
    caller.wait_until_heard("press 3 to be called back")
    caller.press("3")
    caller.wait_until_heard("we will call you back")
    assert caller.wait_until_ended() == "completed"


def test_a_requester_is_called_back_for_a_free_listener_and_the_two_talk(line):
    listener, requester = "+15550100195", "+447700900195"
    line.twin.answer_as(listener, TAKES)
    line.twin.answer_as(requester, ANSWERS)
    with line.app.app_context():
        roster.add("Robin", listener, ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        db.session.commit()
    _ask_from_the_wait(line, requester)
    assert line.twin.calls_to(listener) == []  # the wait itself rang nobody
    (back,) = line.twin.wait_for(lambda: line.twin.calls_to(requester), timeout=10)
    back.wait_until_heard("mindfuse calling you back")
    back.wait_until_heard("calling one of our volunteer listeners")
    phone = line.twin.wait_for(lambda: line.twin.calls_to(listener), timeout=10)[0]
    phone.wait_until_heard("a caller is waiting")
    room = phone.wait_until_in_conference(timeout=10)
    assert room == back.wait_until_in_conference(timeout=10)
    assert sorted(line.twin.conferences()[room]) == sorted([back.sid, phone.sid])
    (wanted,) = callback_requests(line)
    assert wanted.state == "connected" and wanted.for_listener and wanted.number_encrypted is None
    with line.app.app_context():
        taker = db.session.scalar(select(Call).where(Call.sid == phone.sid))
        assert taker.mode == CallMode.LISTENER
    phone.hang_up()


def test_one_free_listener_has_one_requester_called_back_at_a_time(line):
    listener, first, second = "+15550100196", "+447700900196", "+447700900197"
    line.twin.answer_as(listener, TAKES)
    line.twin.answer_as(first, Callee(Pickup.NO_ANSWER))
    line.twin.answer_as(second, ANSWERS)
    with line.app.app_context():  # on the roster, paused while both ask
        robin = roster.add("Robin", listener, ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        robin.paused = True
        db.session.commit()
    for number in (first, second):
        ask_for_call_back(line, number)
    drain(line)  # what each request queued found the listener paused
    assert line.twin.calls_to(first) == [] and line.twin.calls_to(second) == []
    line.twin.send_sms(listener, "RESUME")  # the listener resumes by text
    (rung,) = line.twin.wait_for(lambda: line.twin.calls_to(first), timeout=10)
    assert line.twin.calls_to(second) == []  # the one listener is held for the first
    assert rung.wait_until_ended(timeout=15) == "no-answer"
    (back,) = line.twin.wait_for(lambda: line.twin.calls_to(second), timeout=10)
    phone = line.twin.wait_for(lambda: line.twin.calls_to(listener), timeout=10)[0]
    assert phone.wait_until_in_conference(timeout=10) == back.wait_until_in_conference(timeout=10)
    eventually(lambda: [r.state for r in callback_requests(line)] == ["dropped", "connected"])
    phone.hang_up()
