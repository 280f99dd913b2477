"""Call-backs end to end: a caller nobody could take asks to be called back; the next caller
who waits has them rung, and on 1 the two talk. Not answered, busy, a machine, no key, and
the window running out each drop the request, and the waiting caller goes on waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import jobs
from app.callbacks.models import CallbackRequest
from app.db import db, utcnow
from app.line.models import Call, Purge
from tests.support import ask_for_call_back, callback_requests, drain, eventually, in_a_room
from twin import Callee, Pickup

# A call-back rings 25 simulated seconds, a little over a second here: the waiting caller's
# two-second timeout (tests.support.WAIT_TIMEOUT) must wait for it.
ANSWERS = Callee(press="1", cue="press 1 to talk now")


def _placed(line, *numbers: str) -> dict[str, set[str]]:
    """The calls placed so far to each number (the twin keeps a whole module's calls)."""
    return {n: {c.sid for c in line.twin.calls_to(n)} for n in numbers}


def _new_call(line, number: str, before: dict[str, set[str]]):
    """The first call placed to this number since `before`."""
    fresh = line.twin.wait_for(
        lambda: [c for c in line.twin.calls_to(number) if c.sid not in before[number]],
        timeout=10,
    )
    return fresh[0]


def _closed(line, state: str) -> CallbackRequest:
    def done():
        found = callback_requests(line)
        return found[0] if found and found[0].state == state else None

    return eventually(done)


def test_a_call_back_answered_with_1_puts_both_in_one_room(line):
    requester, waiter = "+15550100141", "+447700900141"
    line.twin.answer_as(requester, ANSWERS)
    ask_for_call_back(line, requester)
    seen = _placed(line, requester)
    alice = in_a_room(line, waiter)
    alice.wait_until_heard("we are calling someone who asked to talk")
    room = alice.conference
    phone = _new_call(line, requester, seen)
    phone.wait_until_heard("mindfuse calling you back")
    assert phone.wait_until_in_conference() == room
    assert sorted(line.twin.conferences()[room]) == sorted([alice.sid, phone.sid])
    wanted = _closed(line, "connected")
    assert wanted.number_encrypted is None and wanted.open_for is None
    assert line.twin.calls[phone.sid].answered_by == "human"
    with line.app.app_context():
        back = db.session.scalar(select(Call).where(Call.sid == phone.sid))
        assert back.outcome == "paired" and back.identity == wanted.identity
    phone.hang_up()
    alice.wait_until_heard("left the conversation")
    alice.hang_up()
    with line.app.app_context():  # the call-back's record at Twilio is deleted like any call
        eventually(lambda: db.session.scalar(select(Purge).where(Purge.sid == phone.sid)))


@pytest.mark.parametrize("pickup", [Pickup.NO_ANSWER, Pickup.BUSY])
def test_a_call_back_not_answered_is_dropped_with_one_text_and_the_next_is_tried(line, pickup):
    first, second, waiter = "+15550100142", "+15550100143", "+447700900142"
    confirmed = len(line.twin.inbox(first)) + 1  # the twin keeps a whole module's texts
    line.twin.send_sms(first, "JOIN")  # the first requester agreed to texts
    eventually(lambda: len(line.twin.inbox(first)) >= confirmed)
    line.twin.answer_as(first, Callee(pickup))
    line.twin.answer_as(second, ANSWERS)
    ask_for_call_back(line, first)
    ask_for_call_back(line, second)
    seen = _placed(line, first, second)
    alice = in_a_room(line, waiter)

    missed = _new_call(line, first, seen)
    assert missed.wait_until_ended(timeout=10) == str(pickup)
    phone = _new_call(line, second, seen)
    assert phone.wait_until_in_conference(timeout=10) == alice.conference
    dropped = _closed(line, "dropped")
    assert dropped.drop_reason == str(pickup) and dropped.number_encrypted is None
    texts = eventually(lambda: line.twin.inbox(first)[confirmed:])
    drain(line)
    texts = line.twin.inbox(first)[confirmed:]
    assert len(texts) == 1 and "could not reach you" in texts[0]
    assert not any("could not reach" in t for t in line.twin.inbox(second))  # no consent
    assert missed.heard == []
    with line.app.app_context():
        eventually(lambda: db.session.scalar(select(Purge).where(Purge.sid == missed.sid)))
    phone.hang_up()


@pytest.mark.parametrize(
    ("callee", "reason"),
    [
        (Callee(Pickup.MACHINE), "machine"),
        # Detection is a guess: a voicemail taken for a person still presses no key.
        (Callee(Pickup.MACHINE, detected_as="human"), "no-key"),
        (Callee(), "no-key"),  # a person who does not press 1
    ],
    ids=["machine", "machine-taken-for-a-person", "no-key"],
)
def test_a_call_back_that_no_person_takes_never_reaches_the_waiting_caller(line, callee, reason):
    requester, waiter = "+15550100144", "+447700900144"
    line.twin.answer_as(requester, callee)
    ask_for_call_back(line, requester)
    seen = _placed(line, requester)
    alice = in_a_room(line, waiter)
    phone = _new_call(line, requester, seen)
    phone.wait_until_ended(timeout=10)
    assert phone.conference is None and all("conference" not in h for h in phone.heard)
    if reason == "machine":
        assert phone.heard == []  # hung up on in silence: the voicemail keeps nothing
    assert _closed(line, "dropped").drop_reason == reason
    # Alice waits on as usual, and never shared a room with the call-back.
    alice.wait_until_heard("nobody is free", timeout=10)
    rooms = [set(c.members_ever) for c in line.twin.conference_history]
    assert not any(phone.sid in members for members in rooms)
    assert any(members == {alice.sid} for members in rooms)


def test_an_expired_request_keeps_no_number_and_nobody_is_called(line):
    requester, waiter = "+15550100145", "+447700900145"
    ask_for_call_back(line, requester)
    with line.app.app_context():
        db.session.execute(
            update(CallbackRequest).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        jobs.EXPIRE_CALLBACKS.enqueue()
    expired = _closed(line, "expired")
    assert expired.number_encrypted is None and expired.open_for is None
    seen = _placed(line, requester)
    alice = in_a_room(line, waiter)
    alice.wait_until_heard("finding someone")
    alice.wait_until_heard("nobody is free", timeout=10)
    assert _placed(line, requester) == seen


def test_a_caller_who_is_waiting_when_asked_for_is_not_called_back_to_themself(line):
    number = "+15550100146"
    line.twin.answer_as(number, ANSWERS)
    ask_for_call_back(line, number)
    seen = _placed(line, number)
    again = in_a_room(line, number)  # the same caller calls again and waits
    again.wait_until_heard("finding someone")
    again.wait_until_heard("nobody is free", timeout=10)
    assert _placed(line, number) == seen
    assert _closed(line, "cancelled").number_encrypted is None
