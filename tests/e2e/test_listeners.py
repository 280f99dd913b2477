"""Volunteer listeners end to end: a caller who has waited LISTENER_AFTER_SECONDS alone has
an available listener rung; on 1 the listener joins the caller's room. A listener who lets
it pass has the next one tried; with nobody left, the caller waits on to the usual timeout.
Listeners pause and resume themselves by text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.line import pool
from app.line.models import Call, CallState, Report, Step
from app.listeners import roster
from app.listeners.models import Listener, ListenerOffer
from tests.support import drain, eventually, in_a_room
from twin import Callee, Pickup

# The caller waits one second before a listener is called, and times out at four (the
# timeout waits while a listener's phone rings). RQ keeps delayed jobs to the whole second and
# looks for them once a second: with the suite's two-second timeout, the offer and the
# time-out could come due in one look and race on a loaded machine.
LINE_CONFIG = {"LISTENER_AFTER_SECONDS": 1, "WAIT_TIMEOUT_SECONDS": 4}
TAKES = Callee(press="1", cue="press 1 to take the call")
PASSES = Callee(press="2", cue="press 1 to take the call")
ALWAYS = "mon-sun 00:00-24:00"


def _enlist(line, alias: str, number: str, callee: Callee, languages=("en",)) -> int:
    line.twin.answer_as(number, callee)
    with line.app.app_context():
        listener = roster.add(alias, number, list(languages), "Europe/Berlin", ALWAYS)
        db.session.commit()
        return listener.id


def _offers(line) -> list[ListenerOffer]:
    with line.app.app_context():
        found = db.session.scalars(select(ListenerOffer).order_by(ListenerOffer.id)).all()
        db.session.expunge_all()
        return found


def _call(line, sid: str) -> Call:
    with line.app.app_context():
        found = db.session.scalar(select(Call).where(Call.sid == sid))
        kinds = [event.kind for event in found.events] if found else []
        db.session.expunge_all()
        return found, kinds


def _rooms_with(line, sid: str) -> list[set[str]]:
    return [set(c.members_ever) for c in line.twin.conference_history if sid in c.members_ever]


def test_a_listener_who_presses_1_joins_the_waiting_callers_room(line):
    number, waiter = "+15550100161", "+447700900161"
    _enlist(line, "Robin", number, TAKES)
    alice = in_a_room(line, waiter)
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    phone.wait_until_heard("a caller is waiting")
    assert phone.wait_until_in_conference(timeout=10) == alice.conference
    assert sorted(line.twin.conferences()[alice.conference]) == sorted([alice.sid, phone.sid])
    placed = line.twin.calls[phone.sid]
    assert placed.answered_by == "human"
    assert placed.from_ == line.twin.phone_number  # the line's number, never the caller's
    assert eventually(lambda: [o.state for o in _offers(line)] == ["taken"])
    caller, steps = _call(line, alice.sid)
    assert Step.LISTENER_CLAIMED in steps and Step.LISTENER_JOINED in steps
    assert caller.outcome == "paired"
    listener_call, steps = _call(line, phone.sid)
    assert Step.LISTENER in steps and listener_call.outcome == "paired"
    assert listener_call.mode == "listener" and caller.mode == "pairing"
    with line.app.app_context():  # the listener is not called again within the rest
        rested = db.session.scalar(select(Listener))
        assert rested.last_called_at is not None
    phone.hang_up()
    alice.wait_until_heard("left the conversation")
    alice.hang_up()


@pytest.mark.parametrize("key", ["1", "2"])
def test_a_listener_whose_caller_hung_up_may_report_them_and_is_never_made_to_wait(line, key):
    number, waiter = f"+1555010015{key}", f"+44770090015{key}"  # the twin keeps the module's calls
    _enlist(line, "Lou", number, TAKES)
    alice = in_a_room(line, waiter)
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    phone.wait_until_in_conference(timeout=10)
    mark = phone.mark()
    alice.hang_up()
    menu = phone.wait_until_heard("thank you for listening", since=mark, timeout=10)
    assert "press 1" not in menu.lower() and "press 2 to report" in menu.lower()
    phone.press(key)  # 1 is a caller's "someone new": a listener's ends the call
    assert phone.wait_until_ended(timeout=10) == "completed"
    assert eventually(lambda: _call(line, phone.sid)[0].state == CallState.ENDED)
    listener_call, steps = _call(line, phone.sid)
    assert Step.WAITING not in steps
    caller, _ = _call(line, alice.sid)
    with line.app.app_context():
        assert pool.waiting_count() == 0
        reports = [(r.reporter, r.reported) for r in db.session.scalars(select(Report))]
    said = " ".join(phone.heard[mark:]).lower()
    if key == "2":
        assert reports == [(listener_call.identity, caller.identity)]
        assert "not be asked to take their calls again" in said
    else:
        assert reports == [] and "thank you. goodbye." in said and "mindfuse" not in said


def test_a_listener_who_declines_lets_the_caller_wait_on_to_the_timeout(line):
    number, waiter = "+15550100162", "+447700900162"
    _enlist(line, "Sam", number, PASSES)
    alice = in_a_room(line, waiter)
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    phone.wait_until_heard("ask someone else")
    assert phone.wait_until_ended(timeout=10) == "completed"
    alice.wait_until_heard("nobody is free", timeout=15)
    assert [o.state for o in _offers(line)] == ["declined"]
    assert _rooms_with(line, phone.sid) == []
    assert len(line.twin.calls_to(number)) == 1  # tried once per wait: not rung again for them


def test_two_listeners_in_a_row_decline_then_the_normal_timeout(line):
    first, second, waiter = "+15550100163", "+15550100164", "+447700900163"
    _enlist(line, "Ada", first, PASSES)
    _enlist(line, "Bo", second, PASSES)
    _enlist(line, "Cy", "+15550100165", TAKES, languages=("de",))  # speaks no English
    alice = in_a_room(line, waiter)
    phones = line.twin.wait_for(
        lambda: (
            [*line.twin.calls_to(first), *line.twin.calls_to(second)][1:]
            and [
                *line.twin.calls_to(first),
                *line.twin.calls_to(second),
            ]
        ),
        timeout=15,
    )
    for phone in phones:
        phone.wait_until_ended(timeout=10)
    alice.wait_until_heard("nobody is free", timeout=15)
    assert [o.state for o in _offers(line)] == ["declined", "declined"]
    assert line.twin.calls_to("+15550100165") == []
    assert all(_rooms_with(line, phone.sid) == [] for phone in phones)
    assert {frozenset(r) for r in _rooms_with(line, alice.sid)} == {frozenset({alice.sid})}


@pytest.mark.parametrize(
    ("callee", "state"),
    [(Callee(Pickup.MACHINE), "machine"), (Callee(Pickup.NO_ANSWER), "no-answer")],
    ids=["machine", "no-answer"],
)
def test_a_machine_or_no_answer_has_the_next_listener_tried(line, callee, state):
    # The twin keeps a whole module's calls: each run has numbers of its own.
    end = "7" if state == "machine" else "8"
    first, second, waiter = f"+1555010019{end}", f"+1555010018{end}", f"+44770090018{end}"
    _enlist(line, "Dee", first, callee)
    alice = in_a_room(line, waiter)
    missed = line.twin.wait_for(lambda: line.twin.calls_to(first), timeout=10)[0]
    _enlist(line, "Eli", second, TAKES)  # on the roster once the first is being rung
    phone = line.twin.wait_for(lambda: line.twin.calls_to(second), timeout=15)[0]
    assert phone.wait_until_in_conference(timeout=10) == alice.conference
    assert missed.heard == [] and _rooms_with(line, missed.sid) == []
    assert [o.state for o in _offers(line)] == [state, "taken"]
    phone.hang_up()


def test_a_listener_who_missed_the_ring_is_rung_once_more_and_takes_the_caller(line):
    number, waiter = "+15550100167", "+447700900167"
    _enlist(line, "Fay", number, Callee(Pickup.NO_ANSWER))
    alice = in_a_room(line, waiter)
    missed = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    line.twin.answer_as(number, TAKES)  # picks up the second time
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number)[1:], timeout=15)[0]
    assert phone.wait_until_in_conference(timeout=10) == alice.conference
    assert missed.heard == [] and line.twin.calls[missed.sid].status == "no-answer"
    assert eventually(lambda: [o.state for o in _offers(line)] == ["no-answer", "taken"])
    assert not any(h for h in alice.heard if "nobody is free" in h.lower())
    phone.hang_up()


@pytest.mark.parametrize("pickup", [Pickup.NO_ANSWER, Pickup.BUSY], ids=["no-answer", "busy"])
def test_a_listener_who_missed_both_rings_leaves_the_caller_to_the_timeout(line, pickup):
    end = "8" if pickup == Pickup.NO_ANSWER else "9"
    number, waiter = f"+1555010016{end}", f"+44770090016{end}"
    _enlist(line, "Gus", number, Callee(pickup))
    alice = in_a_room(line, waiter)
    alice.wait_until_heard("nobody is free", timeout=20)
    assert len(line.twin.calls_to(number)) == 2  # LISTENER_RINGS_PER_WAIT, then no more
    assert [o.state for o in _offers(line)] == [pickup.value] * 2


def test_a_listener_pauses_and_resumes_by_text(line):
    number, waiter = "+15550100166", "+447700900166"
    listener_id = _enlist(line, "Kim", number, TAKES)
    reply = line.twin.send_sms(number, "PAUSE")
    assert any("paused as a listener" in r for r in reply.replies)

    def paused() -> bool:
        with line.app.app_context():
            return db.session.get(Listener, listener_id).paused

    assert paused()
    alice = in_a_room(line, waiter)
    alice.wait_until_heard("nobody is free", timeout=15)
    assert line.twin.calls_to(number) == []
    alice.hang_up()
    drain(line)

    reply = line.twin.send_sms(number, "resume")
    assert any("listener again" in r for r in reply.replies) and not paused()
    bob = in_a_room(line, "+447700900167")
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    assert phone.wait_until_in_conference(timeout=10) == bob.conference
    phone.hang_up()


def test_pause_from_a_number_not_on_the_roster_is_no_listener_keyword(line):
    reply = line.twin.send_sms("+15550100168", "PAUSE")
    assert not any("listener" in r for r in reply.replies)
