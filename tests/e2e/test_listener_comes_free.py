"""A listener who comes free is rung for a caller already waiting, end to end: the listener
takes one caller, hangs up, and once their rest is over is rung for the caller who started
waiting while they talked, in that same wait; never while they were on the call."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.db import db
from app.listeners import roster
from app.listeners.models import ListenerOffer
from tests.support import in_a_room
from twin import Callee

REST = 3.0  # seconds
LINE_CONFIG = {
    "LISTENER_AFTER_SECONDS": 1,
    "LISTENER_REST_MINUTES": REST / 60,
    "WAIT_TIMEOUT_SECONDS": 30,  # the second caller's wait outlasts the first conversation
}
TAKES = Callee(press="1", cue="press 1 to take the call")


def test_a_listener_whose_rest_ends_is_rung_for_the_caller_who_waited_meanwhile(line):
    number = "+15550100168"
    line.twin.answer_as(number, TAKES)
    with line.app.app_context():
        roster.add("Robin", number, ["en"], "Europe/Berlin", "mon-sun 00:00-24:00")
        db.session.commit()
    alice = in_a_room(line, "+447700900168")
    first = line.twin.wait_for(lambda: line.twin.calls_to(number), timeout=10)[0]
    assert first.wait_until_in_conference(timeout=10) == alice.conference
    bob = in_a_room(line, "+447700900169")
    time.sleep(3)  # Bob's listener offer (at 1 s) found the only listener on a call
    assert len(line.twin.calls_to(number)) == 1
    first.hang_up()
    hung_up = time.monotonic()
    alice.wait_until_heard("left the conversation")
    alice.hang_up()
    second = line.twin.wait_for(lambda: line.twin.calls_to(number)[1:], timeout=15)[0]
    rung_after = time.monotonic() - hung_up
    assert second.wait_until_in_conference(timeout=10) == bob.conference
    assert rung_after >= REST - 0.5  # a breather first
    assert not any("nobody is free" in h.lower() for h in bob.heard)  # the same wait
    with line.app.app_context():
        tokens = db.session.scalars(select(ListenerOffer.wait_token)).all()
        states = db.session.scalars(select(ListenerOffer.state).order_by(ListenerOffer.id)).all()
    assert states == ["taken", "taken"] and len(set(tokens)) == 2
    second.hang_up()
    bob.hang_up()
