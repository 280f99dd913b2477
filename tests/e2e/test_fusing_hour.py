"""A whole Fusing Hour on a compressed clock: seven guests, late joiners, an early leaver."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from sqlalchemy import select

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingRoom, FusingRound, FusingSession
from app.line.models import Call
from tests.e2e.admin_pages import Operator
from tests.support import eventually, fusing_hour_soon, sleep_until, tuned

ROUND = 6
TWIN_TIME_SCALE = 1.0  # rooms and rounds run on the app's real clock


def _rooms(line):
    with line.app.app_context():
        rooms = db.session.scalars(select(FusingRoom).order_by(FusingRoom.id)).all()
        return [(r.round_number, sorted(s.identity for s in r.seats)) for r in rooms]


def _round_done(line, number: int) -> bool:
    with line.app.app_context():
        done = db.session.scalar(select(FusingRound).where(FusingRound.number == number))
        return done is not None and done.seconds is not None


def test_a_compressed_fusing_hour(line):
    start = fusing_hour_soon(line, ROUND, 3)
    guests = [line.dial(f"+4915550100{i:03d}") for i in range(7)]  # the lobby is open early
    for guest in guests:
        guest.wait_until_heard("welcome to the fusing hour")
        guest.wait_until_in_conference()
    sleep_until(start + timedelta(seconds=ROUND))
    eventually(lambda: _round_done(line, 1))  # round 1 is under way, its rooms made

    late = [line.dial(f"+4915550200{i:03d}") for i in range(2)]
    for caller in late:  # the second to arrive meets the first at once
        caller.wait_until_heard("someone is here for you", timeout=10)
    room = eventually(lambda: late[0].conference == late[1].conference and late[0].conference)
    assert room.startswith("fusing-") and "lobby" not in room

    # An early leaver: their partner goes back to the lobby, then meets a new late joiner.
    with line.app.app_context():
        round_one = db.session.scalar(select(FusingRound).where(FusingRound.number == 1))
        assert round_one is not None and round_one.guests == 7
        pairs = db.session.scalars(select(FusingRoom).where(FusingRoom.round_number == 1)).all()
        sizes = sorted(len(r.seats) for r in pairs)
        assert sizes == [2, 2, 3]
        pair = next(r for r in pairs if len(r.seats) == 2)
        leaver_sid, partner_sid = (db.session.get(Call, s.call_id).sid for s in pair.seats)
    leaver = next(g for g in guests if g.sid == leaver_sid)
    partner = next(g for g in guests if g.sid == partner_sid)
    mark = partner.mark()
    leaver.hang_up()
    partner.wait_until_heard("back in the lobby", since=mark, timeout=10)
    newcomer = line.dial("+4915550300001")
    met = newcomer.wait_until_in_conference(timeout=10)
    eventually(lambda: partner.conference == met)

    present = [g for g in guests if g is not leaver] + late + [newcomer]
    with line.app.app_context():
        ends = db.session.scalar(select(FusingSession.ends_at))
    sleep_until(ends + timedelta(seconds=1))
    for guest in present:
        guest.wait_until_heard("the fusing hour is over", timeout=10)
        guest.wait_until_ended(timeout=10)

    rooms = _rooms(line)
    seen = set()
    for _, members in rooms:
        for pair in combinations(members, 2):
            assert pair not in seen, "two guests met twice in one hour"
            seen.add(pair)
    by_round = {}
    for number, members in rooms:
        by_round.setdefault(number, []).append(len(members))
    assert sorted(by_round[0]) == [2, 2, 3] and sorted(by_round[1]) == [2, 2, 3]
    assert sum(by_round[2]) >= 8  # the seven, less the leaver, plus the three late joiners
    with line.app.app_context():
        states = {g.state for g in db.session.scalars(select(FusingGuest))}
        assert states == {"gone"}
        session = db.session.scalar(select(FusingSession))
        assert session.closed_at is not None and len(session.rounds) == 3
        assert all(r.rest_calls >= r.guests for r in session.rounds)
    assert not any(g.errors for g in present)
    # Shortly before a round ends, its rooms hear that it is time to say goodbye.
    assert any("time to say goodbye" in " ".join(g.heard).lower() for g in guests)


def test_a_call_outside_the_hour_gets_the_normal_line(line):
    with line.app.app_context():
        now = utcnow()
        sessions.change_rule(weekday=(now.weekday() + 3) % 7, timezone="UTC")
    caller = line.dial("+4915550400001")
    caller.wait_until_heard("2 for the fusing hour")
    caller.press("2")
    caller.wait_until_heard("the next fusing hour is")


def test_a_lobby_guest_hears_the_countdown_again_and_again_never_silence(line):
    # Twilio plays a waitUrl document once: the countdown comes back only because it
    # redirects to itself. Pieces of music one second long make the wait a long one.
    with line.app.app_context():
        start = (utcnow() + timedelta(seconds=90)).replace(microsecond=0)
        sessions.change_rule(
            weekday=start.weekday(), start_time=start.time(), timezone="UTC", duration_seconds=600
        )
    with tuned(line.twin, play_seconds=1.0):
        guest = line.dial("+4915550500001")
        guest.wait_until_heard("welcome to the fusing hour")
        guest.wait_for(
            lambda: sum("next round starts" in h.lower() for h in guest.call.heard) >= 3,
            timeout=10,
            what="the countdown a third time",
        )
    assert "[silence]" not in guest.heard and not guest.errors
    assert guest.heard.count(f"[play {line.app.config['HOLD_MUSIC_URL']}]") >= 2


def test_the_admin_shows_guests_who_talked_and_one_who_left_the_lobby(line):
    operator = Operator(line)
    start = fusing_hour_soon(line, ROUND, 2)
    leaver = line.dial("+4915550600003")
    leaver.wait_until_heard("welcome to the fusing hour")
    leaver.hang_up()  # before the first round: only ever in the lobby
    guests = [line.dial(f"+4915550600{i:03d}") for i in range(2)]
    for guest in guests:
        guest.wait_until_heard("welcome to the fusing hour")
    sleep_until(start)

    def together():
        room = guests[0].conference
        return room and room == guests[1].conference and "lobby" not in room

    eventually(together, timeout=15)
    for guest in guests:
        guest.hang_up()
    for guest in guests:
        page = operator.call(guest)
        assert (page.outcome, page.facts["Mode"]) == ("Paired", "Fusing Hour")
        assert page.shows_in_order(
            "Arrived",
            "Entered the Fusing Hour lobby",
            "Placed in a Fusing Hour room with someone",
            "Call ended",
        )
        assert not [step for step in page.timeline if "fusing-" in step or step.isdigit()]
    page = operator.call(leaver)
    assert (page.outcome, page.facts["Mode"]) == ("Hung up while waiting", "Fusing Hour")
    assert "Placed in a Fusing Hour room with someone" not in page.timeline
