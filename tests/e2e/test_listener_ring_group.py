"""Free listeners rung at once for one waiting caller, end to end: the first to press 1
takes the caller, the phones of the others stop ringing, and one who answered too and
presses 1 hears that the caller is no longer waiting; nobody but the first ever joins."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.listeners import roster
from app.listeners.models import ListenerOffer
from tests.support import in_a_room
from twin import Callee

# The listener's phone rings up to 60 simulated s here (3 real s), long enough for a slow
# listener still to be ringing when a quick one has taken the caller.
LINE_CONFIG = {"LISTENER_AFTER_SECONDS": 1, "LISTENER_RING_SECONDS": 60}
CUE = "press 1 to take the call"


def _enlist(line, alias: str, number: str, callee: Callee) -> None:
    line.twin.answer_as(number, callee)
    with line.app.app_context():
        roster.add(alias, number, ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        db.session.commit()


def _states(line) -> list[str]:
    with line.app.app_context():
        return sorted(db.session.scalars(select(ListenerOffer.state)).all())


def _rooms_of(line, sid: str) -> list[str]:
    return [c.friendly_name for c in line.twin.conference_history if sid in c.members_ever]


def test_the_quicker_of_two_listeners_takes_the_caller_and_the_other_stops_ringing(line):
    quick, slow = "+15550100171", "+15550100172"
    _enlist(line, "Ada", quick, Callee(press="1", cue=CUE, ring_seconds=1))
    _enlist(line, "Bo", slow, Callee(press="1", cue=CUE, ring_seconds=50))
    alice = in_a_room(line, "+447700900171")
    taker = line.twin.wait_for(lambda: line.twin.calls_to(quick), timeout=10)[0]
    other = line.twin.wait_for(lambda: line.twin.calls_to(slow), timeout=10)[0]
    assert taker.wait_until_in_conference(timeout=10) == alice.conference
    assert other.wait_until_ended(timeout=10) == "canceled"  # before its 50 s of ringing
    assert other.heard == [] and _rooms_of(line, other.sid) == []
    assert _states(line) == ["elsewhere", "taken"]
    assert sorted(line.twin.conferences()[alice.conference]) == sorted([alice.sid, taker.sid])
    taker.hang_up()


def test_two_listeners_who_both_press_1_one_joins_and_the_other_is_told(line):
    first, second = "+15550100173", "+15550100174"
    for alias, number in (("Cy", first), ("Dee", second)):
        _enlist(line, alias, number, Callee(press="1", cue=CUE, ring_seconds=1))
    alice = in_a_room(line, "+447700900173")
    phones = [
        line.twin.wait_for(lambda n=n: line.twin.calls_to(n), timeout=10)[0]
        for n in (first, second)
    ]
    line.twin.wait_for(
        lambda: len(line.twin.conferences().get(alice.conference, [])) == 2, timeout=10
    )
    joined = [p for p in phones if _rooms_of(line, p.sid)]
    assert len(joined) == 1 and joined[0].sid in line.twin.conferences()[alice.conference]
    (told,) = [p for p in phones if p is not joined[0]]
    assert told.wait_until_ended(timeout=10) in ("completed", "canceled")
    assert _rooms_of(line, told.sid) == []
    if told.heard:  # it answered before its phone was stopped: it heard the caller was taken
        assert any("no longer waiting" in h.lower() for h in told.heard)
    assert _states(line) in (["elsewhere", "taken"], ["gone", "taken"])
    joined[0].hang_up()
