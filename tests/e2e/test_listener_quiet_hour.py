"""At a quiet hour (fewer than LISTENER_AT_ONCE_BELOW calls in the last hour, as in this
module: only its own) a caller left alone has a listener rung as soon as the wait begins, not
LISTENER_AFTER_SECONDS into it; a peer who comes while the listener's phone rings still meets
the caller, and the listener, on 1, hears the caller is no longer waiting."""

from __future__ import annotations

import time

from app.db import db
from app.listeners import roster
from tests.e2e.test_listeners import _offers
from tests.support import eventually, in_a_room
from twin import Callee

# LISTENER_AFTER_SECONDS is far beyond the time this module allows a listener to come: only
# the quiet hour can ring them. A slow listener's phone rings 5 s (100 s on the twin's clock),
# long enough for a peer to dial in, within its time-out (10 s).
LINE_CONFIG = {
    "LISTENER_AFTER_SECONDS": 30,
    "WAIT_TIMEOUT_SECONDS": 40,
    "LISTENER_RING_SECONDS": 200,
}
TAKES = Callee(press="1", cue="press 1 to take the call")
SLOW = Callee(press="1", cue="press 1 to take the call", ring_seconds=100)
SOON = 12  # seconds from the caller's room to the listener's arrival in it, at most


def _enlist(line, number: str, callee: Callee) -> None:
    line.twin.answer_as(number, callee)
    with line.app.app_context():
        roster.add("Robin", number, ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        db.session.commit()


def test_at_a_quiet_hour_the_listener_is_rung_as_the_wait_begins(line):
    number, waiter = "+15550100191", "+447700900191"
    _enlist(line, number, TAKES)
    alice = in_a_room(line, waiter)
    waiting_since = time.monotonic()
    phone = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=SOON)[0]
    assert phone.wait_until_in_conference(timeout=SOON) == alice.conference
    assert time.monotonic() - waiting_since < SOON < LINE_CONFIG["LISTENER_AFTER_SECONDS"]
    assert eventually(lambda: [o.state for o in _offers(line)] == ["taken"])
    phone.hang_up()
    alice.hang_up()


def test_a_peer_who_comes_while_the_listener_rings_takes_the_caller_first(line):
    number, waiter, peer = "+15550100192", "+447700900192", "+447700900193"
    _enlist(line, number, SLOW)
    alice = in_a_room(line, waiter)
    line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=SOON)
    bob = in_a_room(line, peer)
    assert bob.conference == alice.conference
    assert sorted(line.twin.conferences()[alice.conference]) == sorted([alice.sid, bob.sid])
    # The listener answers, presses 1 and hears the caller is no longer waiting.
    assert eventually(lambda: [o.state for o in _offers(line)] == ["gone"], timeout=20)
    (phone,) = line.twin.calls_to(number)
    phone.wait_until_heard("no longer waiting")
    assert phone.wait_until_ended(timeout=10) == "completed"
    assert phone.sid not in line.twin.conferences().get(alice.conference, [])
    alice.hang_up()
    bob.hang_up()
