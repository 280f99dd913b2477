"""The conversation time limit: a warning before it, and a graceful goodbye at it."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.line.models import Conversation
from tests.support import eventually

LINE_CONFIG = {"CONVERSATION_LIMIT_SECONDS": 4, "CONVERSATION_WARNING_SECONDS": 2}
TWIN_TIME_SCALE = 1.0  # the Dial's own timeLimit must run in real time next to the app's jobs


def test_both_hear_the_warning_then_a_goodbye_and_the_menu(line):
    callers = []
    for number in ("+15550100301", "+15550100302"):
        caller = line.dial(number)
        caller.wait_until_heard("press 1")
        caller.press("1")
        callers.append(caller)
    room = callers[0].wait_until_in_conference()
    assert callers[1].wait_until_in_conference() == room
    for caller in callers:
        caller.wait_until_heard("one minute left", timeout=10)
    for caller in callers:
        caller.wait_until_heard("your time together is up", timeout=10)
        caller.wait_until_heard("press 1 to talk to someone new")
    assert not any(caller.errors for caller in callers)

    def ended():
        with line.app.app_context():
            found = db.session.scalar(select(Conversation).where(Conversation.room == room))
            return found if found and found.ended_at else None

    conversation = eventually(ended)
    assert conversation.warned_at is not None and conversation.time_up_at is not None
    assert 3 <= (conversation.ended_at - conversation.started_at).total_seconds() <= 8
