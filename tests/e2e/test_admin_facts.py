"""What the admin shows of each path a call can take, walked through the twin and read from
the admin's pages: the outcome, the wait, the call's length and the timeline in plain words."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from app.billing.models import Membership
from app.db import db, utcnow
from app.identity import identify
from app.line.models import Block
from app.sms.models import Subscriber
from tests.e2e.admin_pages import Operator
from tests.support import WAIT_TIMEOUT, call_form, eventually, sign

LINE_CONFIG = {"CALLS_PER_HOUR_LIMIT": 1}  # a second call within the hour is turned away
MENU_TALK = "Greeting menu: pressed 1 (talk now)"
# The line's own names for things: rooms, wait tokens, session and call ids.
INTERNAL = re.compile(r"room-|fusing-|\b[0-9a-f]{12,}\b|\bCA[0-9a-f]{32}\b")


@pytest.fixture
def operator(line) -> Operator:
    return Operator(line)


def _talk_now(line, number: str):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    return caller


def _meet(line, first: str, second: str):
    waiting = _talk_now(line, first)
    waiting.wait_until_heard("finding someone")
    paired = _talk_now(line, second)
    eventually(lambda: waiting.conference and waiting.conference == paired.conference)
    return waiting, paired


def _plain(page) -> None:
    assert page.timeline, "no timeline"
    assert not [step for step in page.timeline if INTERNAL.search(step)]


def _free_conversation_used(line, number: str) -> None:
    identity = identify(number, line.app.config["NUMBER_HASH_KEY"], "x").identity
    with line.app.app_context():
        db.session.add(Membership(identity=identity, free_used_at=utcnow()))
        db.session.commit()


def test_two_callers_who_talked(line, operator):
    alice, bob = _meet(line, "+15550100901", "+15550100902")
    mark = alice.mark()
    bob.hang_up()
    alice.wait_until_heard("left the conversation", since=mark)
    alice.hang_up()
    for caller in (alice, bob):
        caller.wait_until_ended()
    first, second = operator.call(alice), operator.call(bob)
    assert first.outcome == second.outcome == "Paired"
    assert first.facts["Mode"] == "Pairing"
    assert second.facts["Waited"] == "0 s"  # someone was waiting: matched at once
    assert 0 <= first.seconds("Waited") <= first.seconds("Call length")
    # The length is Twilio's CallDuration, as the twin reported it for each call.
    assert first.seconds("Call length") == alice.call.duration
    assert second.seconds("Call length") == bob.call.duration
    # ... in the same seconds as the timeline's, not the twin's simulated ones.
    assert first.seconds("Call length") <= first.span() + 2
    assert first.shows_in_order(
        "Arrived",
        MENU_TALK,
        "Started waiting for someone",
        "Joined the room",  # alone, to wait
        "Matched with another caller",
        "The other caller left the conversation",
        "Call ended",
    )
    assert second.shows_in_order(
        "Arrived", MENU_TALK, "Matched with another caller", "Joined the room", "Call ended"
    )
    assert "Started waiting for someone" not in second.timeline
    _plain(first)
    _plain(second)


def test_someone_new_after_a_match_at_once_then_nobody_comes(line, operator):
    alice, bob = _meet(line, "+15550100903", "+15550100904")
    mark = bob.mark()
    bob.press("*")
    bob.wait_until_heard("you have left the conversation", since=mark)
    bob.press("1")  # someone new: nobody else calls, so the wait times out
    bob.wait_until_heard("nobody is free right now", since=mark, timeout=10)
    bob.hang_up()
    alice.hang_up()
    bob.wait_until_ended()
    page = operator.call(bob)
    assert page.outcome == "Paired"  # he talked to someone before
    # His first wait took no time (matched at once), the second until the timeout.
    assert WAIT_TIMEOUT <= page.seconds("Waited") <= page.seconds("Call length")
    assert page.shows_in_order(
        MENU_TALK,
        "Matched with another caller",
        "Left the conversation",
        "After the conversation: pressed 1 (someone new)",
        "Started waiting for someone",
        "Nobody came in time",
        "Moved to the “nobody is free” menu",
        "Call ended",
    )
    _plain(page)
    listed = operator.get("/admin/calls")
    assert not re.search(r">\s*-\d", listed), "a negative figure in the call log"


def test_a_caller_nobody_comes_for(line, operator):
    carol = _talk_now(line, "+15550100905")
    carol.wait_until_heard("nobody is free right now", timeout=10)
    carol.hang_up()
    carol.wait_until_ended()
    page = operator.call(carol)
    assert page.outcome == "Timed out"
    assert WAIT_TIMEOUT <= page.seconds("Waited") <= page.seconds("Call length")
    assert page.facts["Conversation"] == "—"
    assert page.shows_in_order(
        MENU_TALK, "Started waiting for someone", "Nobody came in time", "Call ended"
    )
    _plain(page)


def test_a_match_whose_partner_left_before_they_met(line, operator):
    alice = _talk_now(line, "+15550100909")
    alice.wait_until_heard("finding someone")
    # Bob is matched with Alice but hangs up before his phone joins the room.
    bob = {**call_form("+15550100910"), "Digits": "1"}
    for path in ("/twilio/voice", "/twilio/voice/menu", "/twilio/voice/status"):
        if path.endswith("status"):
            bob.update(CallStatus="completed", CallDuration="2")
        url = line.server.url + path
        requests.post(url, data=bob, headers={"X-Twilio-Signature": sign(url, bob)}, timeout=5)
    alice.wait_until_heard("left before you could talk", timeout=15)
    alice.wait_until_heard("nobody is free right now", timeout=15)  # nobody else calls
    alice.hang_up()
    page = operator.call(alice)
    assert page.outcome == "Timed out"  # she never talked to anyone
    assert page.shows_in_order(
        "Started waiting for someone",
        "Matched with another caller",
        "The other caller left before they met: moved on to find someone else",
        "Heard that the other caller left; looking for someone else",
        "Started waiting for someone",
        "Nobody came in time",
        "Call ended",
    )
    assert WAIT_TIMEOUT <= page.seconds("Waited") <= page.seconds("Call length")
    _plain(page)
    left = operator.call(SimpleNamespace(sid=bob["CallSid"]))
    assert left.outcome == "Hung up while waiting"  # matched, but gone before they met
    assert left.facts["Call length"] == "2 s"  # the CallDuration Twilio sent


def test_callers_turned_away(line, operator):
    blocked = "+15550100906"
    identity = identify(blocked, line.app.config["NUMBER_HASH_KEY"], "x").identity
    with line.app.app_context():
        expires = utcnow().replace(year=utcnow().year + 1)
        db.session.add(Block(identity=identity, reason="reports", expires_at=expires))
        db.session.commit()
    caller = line.dial(blocked)
    caller.wait_until_heard("this line is closed to you")
    caller.wait_until_ended()
    page = operator.call(caller)
    assert page.outcome == "Blocked"
    assert page.timeline == ["Arrived", "Turned away: blocked", "Call ended"]

    again = "+15550100907"
    first = line.dial(again)
    first.wait_until_heard("press 1")
    first.hang_up()  # at the greeting, which writes nothing: the status callback does
    first.wait_until_ended()
    assert operator.call(first).outcome == "Hung up at the menu"
    second = line.dial(again)
    second.wait_until_heard("please take a break")
    second.wait_until_ended()
    page = operator.call(second)
    assert page.outcome == "Rate limited"
    assert page.timeline == ["Arrived", "Turned away: too many calls this hour", "Call ended"]


def test_the_membership_offer_taken_and_left(line, operator):
    taker, leaver = "+4915550100901", "+4915550100902"
    for number in (taker, leaver):
        _free_conversation_used(line, number)
    caller = _talk_now(line, taker)
    caller.wait_until_heard("press 1 to get texts from us")
    caller.press("1")
    caller.wait_until_heard("sending you a text with a link")
    caller.wait_until_ended()
    page = operator.call(caller)
    assert page.outcome == "Sent the payment link"
    assert page.facts["Waited"] == "—"
    assert page.shows_in_order(
        MENU_TALK,
        "Offered membership: the free conversation is used",
        "Membership offer: pressed 1 (payment link by text)",
        "Payment link sent by text",
        "Call ended",
    )
    _plain(page)
    eventually(lambda: line.twin.inbox(taker))  # the text with the link came

    other = _talk_now(line, leaver)
    other.wait_until_heard("press 1 to get texts from us")
    other.hang_up()
    other.wait_until_ended()
    page = operator.call(other)
    assert page.outcome == "Offered membership"
    assert "Grant membership" in page.html and "Revoke membership" not in page.html


def test_asking_for_reminders_in_a_call(line, operator):
    caller = line.dial("+15550100908")
    caller.wait_until_heard("2 for the fusing hour")
    caller.press("2")
    caller.wait_until_heard("press 2 for a text message reminder")
    caller.press("2")
    caller.wait_until_heard("reminders before each fusing hour")
    caller.hang_up()
    caller.wait_until_ended()
    page = operator.call(caller)
    assert page.outcome == "Asked for reminders"
    assert page.shows_in_order(
        "Greeting menu: pressed 2 (Fusing Hour info)",
        "Fusing Hour menu: pressed 2 (text reminders)",
        "Asked for text reminders",
        "Call ended",
    )
    _plain(page)
    with line.app.app_context():
        assert db.session.scalar(select(Subscriber.id)) is not None
