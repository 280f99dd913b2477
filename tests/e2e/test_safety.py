"""Conversation controls and safety, end to end: leave, report, someone new, blocking."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.line.models import Block, Call, Report
from tests.support import eventually


def _talk_now(line, number):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_in_conference()
    return caller


def _meet(line, first, second):
    a = _talk_now(line, first)
    b = _talk_now(line, second)
    eventually(lambda: a.conference and a.conference == b.conference)
    return a, b


def test_star_then_1_leaves_and_finds_someone_new(line):
    alice, bob = _meet(line, "+15550100201", "+15550100202")
    alice_mark, bob_mark = alice.mark(), bob.mark()
    alice.press("*")
    alice.wait_until_heard("you have left the conversation", since=alice_mark)
    bob.wait_until_heard("the other person has left", since=bob_mark)
    assert "press 2 to report" in " ".join(alice.heard[alice_mark:]).lower()
    alice.press("1")
    room = alice.wait_until_in_conference()
    carol = _talk_now(line, "+15550100203")
    assert carol.conference == room


def test_partner_hanging_up_brings_the_menu(line):
    alice, bob = _meet(line, "+15550100204", "+15550100205")
    mark = alice.mark()
    bob.hang_up()
    alice.wait_until_heard("the other person has left", since=mark)
    alice.wait_until_heard("press 2 to report", since=mark)


def test_star_then_2_reports_and_the_pair_never_meets_again(line):
    alice, bob = _meet(line, "+15550100206", "+15550100207")
    alice.press("*")
    alice.wait_until_heard("press 2 to report")
    alice.press("2")
    alice.wait_until_heard("you will not be connected with this person again")
    bob.wait_until_heard("press 1")
    alice.press("1")
    bob.press("1")
    alice_room, bob_room = alice.wait_until_in_conference(), bob.wait_until_in_conference()
    assert alice_room != bob_room
    with line.app.app_context():
        reports = db.session.scalars(select(Report)).all()
        calls = {c.sid: c for c in db.session.scalars(select(Call))}
        assert [(r.reporter, r.reported) for r in reports] == [
            (calls[alice.sid].identity, calls[bob.sid].identity)
        ]
    # Someone else is paired with whichever of them waits.
    carol = _talk_now(line, "+15550100208")
    assert carol.conference in (alice_room, bob_room)


def test_repeated_reports_block_a_caller(line):
    line.app.config["REPORTS_TO_BLOCK"] = 2
    try:
        for index, reporter_number in enumerate(("+15550100211", "+15550100212")):
            mallory, reporter = _meet(line, "+15550100210", reporter_number)
            reporter.press("*")
            reporter.wait_until_heard("press 2 to report")
            reporter.press("2")
            reporter.wait_until_heard("you will not be connected")
            for caller in (mallory, reporter):
                caller.hang_up()
                caller.wait_until_ended()
            assert index == 1 or not _blocked(line)
        assert _blocked(line)
        again = line.dial("+15550100210")
        again.wait_until_heard("this line is closed to you")
        assert again.wait_until_ended() == "completed"
        with line.app.app_context():
            call = db.session.scalar(select(Call).where(Call.sid == again.sid))
            assert call.outcome == "blocked"
        # Anyone else is still served.
        other = line.dial("+15550100213")
        other.wait_until_heard("press 1")
    finally:
        line.app.config["REPORTS_TO_BLOCK"] = 3


def _blocked(line):
    with line.app.app_context():
        return db.session.scalar(select(Block)) is not None
