"""Conference events lost on the way: the line rebuilds the conversation from Twilio's records."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import jobs
from app.billing.models import Membership
from app.db import db
from app.line.models import Call, Conversation
from tests.support import eventually

LINE_CONFIG = {
    "CONVERSATION_LIMIT_SECONDS": 6,
    "CONVERSATION_WARNING_SECONDS": 3,
    "FREE_CONVERSATION_MIN_SECONDS": 1,
    "CONVERSATION_CHECK_SECONDS": 0,  # ask Twilio at once: the events are not coming
}
TWIN_TIME_SCALE = 1.0  # the Dial's own timeLimit must run in real time next to the app's jobs
LOST = "conference-status"


@pytest.fixture
def lost(line):
    """The line, with every conference event lost on the way to it."""
    line.twin.webhook_client.drop.add(LOST)
    yield line
    line.twin.webhook_client.drop.discard(LOST)


def _paired(line, *numbers: str) -> tuple[list, str]:
    callers = []
    for number in numbers:
        caller = line.dial(number)
        caller.wait_until_heard("press 1")
        caller.press("1")
        callers.append(caller)
    room = callers[0].wait_until_in_conference()
    assert callers[1].wait_until_in_conference() == room
    return callers, room


def _conversation(line, room: str) -> Conversation | None:
    with line.app.app_context():
        query = select(Conversation).where(Conversation.room == room)
        return db.session.scalar(query.options(selectinload(Conversation.events)))


def _identities(line) -> set[str]:
    with line.app.app_context():
        return set(db.session.scalars(select(Call.identity)))


def _free_used(line) -> set[str]:
    with line.app.app_context():
        rows = db.session.scalars(select(Membership).where(Membership.free_used_at.isnot(None)))
        return {row.identity for row in rows}


def _reconcile(line) -> None:
    with line.app.app_context():
        jobs.RECONCILE_CONVERSATIONS.enqueue()  # what the scheduler does every minute


def test_a_conversation_whose_events_were_lost_is_timed_and_its_free_one_counted(lost):
    callers, room = _paired(lost, "+15550100401", "+15550100402")
    lost.twin.wait_idle()
    assert _conversation(lost, room).started_at is None  # no event told the line they met
    _reconcile(lost)
    eventually(lambda: _conversation(lost, room).started_at)
    for caller in callers:
        caller.wait_until_heard("one minute left", timeout=10)
    for caller in callers:
        caller.wait_until_heard("your time together is up", timeout=10)
        caller.wait_until_heard("press 1 to talk to someone new")
    _reconcile(lost)
    conversation = eventually(lambda: (found := _conversation(lost, room)).ended_at and found)
    assert 4 <= conversation.duration_seconds <= 9
    assert eventually(lambda: _free_used(lost)) == _identities(lost)  # the worker counts it next
    assert not any(caller.errors for caller in callers)
    assert lost.twin.webhook_client.dropped  # the events really were lost


def test_a_conversation_over_before_anyone_asked_gets_its_start_and_end(lost):
    callers, room = _paired(lost, "+15550100403", "+15550100404")
    callers[1].hang_up()
    callers[1].wait_until_ended()
    callers[0].wait_until_heard("press 1 to talk to someone new")
    _reconcile(lost)
    conversation = eventually(lambda: (found := _conversation(lost, room)).ended_at and found)
    assert conversation.started_at is not None and conversation.started_at <= conversation.ended_at
    assert conversation.conference_sid == lost.twin.conference(room).sid


@pytest.mark.parametrize("sign_fragment", [True, False])
def test_conference_events_are_accepted_signed_with_or_without_their_overrides(line, sign_fragment):
    line.twin.webhook_client.sign_fragment = sign_fragment
    try:
        callers, room = _paired(line, "+15550100405", "+15550100406")
        callers[0].hang_up()
        callers[0].wait_until_ended()
        conversation = eventually(lambda: (found := _conversation(line, room)).ended_at and found)
    finally:
        line.twin.webhook_client.sign_fragment = True
    assert conversation.started_at is not None and len(conversation.events) >= 4
    events = [w for w in line.twin.webhooks if w.kind == LOST and room in str(w.params)]
    assert events and all(w.status == 204 and "#" in w.url for w in events)
