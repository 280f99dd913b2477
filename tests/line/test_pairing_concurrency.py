"""Many callers at once over real HTTP, and the timeout/pairing race."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from app import jobs as app_jobs
from app.db import db, utcnow
from app.line import calls, pairing, pool
from app.line.models import Call, Participant
from tests.support import call_form, sign

CALLERS = 200


def _dial(base: str, number: str) -> tuple[str, str]:
    """One caller: incoming call, then 1 at the menu; returns (CallSid, room)."""
    session = requests.Session()
    form = call_form(number)
    for path, data in (("/twilio/voice", form), ("/twilio/voice/menu", {**form, "Digits": "1"})):
        url = base + path
        reply = session.post(url, data=data, headers={"X-Twilio-Signature": sign(url, data)})
        assert reply.status_code == 200, reply.text
    room = ET.fromstring(reply.content).find("Dial/Conference")
    assert room is not None, reply.text
    return form["CallSid"], room.text


def test_a_herd_of_callers_is_paired_exactly_once_each(live_server):
    numbers = [f"+4915550{i:06d}" for i in range(CALLERS)]
    with ThreadPoolExecutor(max_workers=24) as herd:
        placed = list(herd.map(lambda n: _dial(live_server.url, n), numbers))
    rooms = Counter(room for _, room in placed)
    assert max(rooms.values()) <= 2, "a room got more than two callers"
    assert len({sid for sid, _ in placed}) == CALLERS
    with live_server.app.app_context():
        calls = {c.sid: c for c in db.session.scalars(select(Call))}
        assert len(calls) == CALLERS
        for sid, room in placed:
            call = calls[sid]
            assert call.room == room
            if rooms[room] == 2:
                assert call.state == "matched"
                partner = pairing.partner_of(call)
                assert partner.room == room and partner.identity != call.identity
            else:
                assert call.state == "waiting" and pool.is_waiting(call.wait_token)
        # Every caller is distinct: at most one can be left waiting.
        assert sum(1 for count in rooms.values() if count == 1) == pool.waiting_count() <= 1


def test_timeout_and_pairing_race_has_exactly_one_winner(live_server):
    app, waiters = live_server.app, 40
    app.config["CALLS_PER_HOUR_LIMIT"] = waiters
    # One number for all of them: the same caller is never paired with themself, so all wait.
    first = [_dial(live_server.url, "+4915551000000") for _ in range(waiters)]
    with app.app_context():
        calls = db.session.scalars(select(Call)).all()
        tokens = {c.id: c.wait_token for c in calls if c.state == "waiting"}
    assert len(tokens) == waiters
    won: dict[int, bool] = {}
    start = threading.Barrier(2)

    def expire_all():
        with app.app_context():
            start.wait()
            for call_id, token in tokens.items():
                won[call_id] = pairing.expire_wait(call_id, token)

    def newcomers():
        start.wait()
        for i in range(waiters):
            _dial(live_server.url, f"+4915552{i:06d}")

    threads = [threading.Thread(target=expire_all), threading.Thread(target=newcomers)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with app.app_context():
        for call_id in tokens:
            call = db.session.get(Call, call_id)
            if won[call_id]:
                assert call.state == "timed_out" and call.outcome == "timed_out"
                assert pairing.partner_of(call) is None
            else:
                assert call.state == "matched" and call.outcome == "paired"
                partner = pairing.partner_of(call)
                assert partner.room == call.room and partner.id not in tokens  # a newcomer
        assert not any(pool.is_waiting(token) for token in tokens.values())
    assert len({room for _, room in first}) == waiters  # each waited in a room of their own


def _arrive(twilio, number: str, digits: str | None = None) -> dict:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    # Without a key to press, the caller hears about the Fusing Hour: recorded, still at a menu.
    twilio.post("/twilio/voice/menu", {**form, "Digits": digits or "2"})
    return form


def _call(sid: str) -> Call:
    return db.session.scalar(select(Call).where(Call.sid == sid))


def test_an_end_sees_a_pairing_committed_after_it_read_the_call(twilio, app):
    waiter = _arrive(twilio, "+15550100061", "1")
    second = _arrive(twilio, "+15550100062")
    with app.test_request_context():
        read_before = _call(second["CallSid"])  # the status callback has read it: at the menu
        with app.app_context():  # then the menu press, with a session of its own, pairs it
            twilio.post("/twilio/voice/menu", {**second, "Digits": "1"})
        calls.end(read_before, "completed", "3", utcnow())
        jobs = [job.func_name for job in app_jobs.RESCUE_PARTNER.queue().jobs]
    assert "workers.waiting.rescue_partner" in jobs  # the waiter is not left alone in the room
    with app.app_context():
        ended = _call(second["CallSid"])
        assert (ended.state, ended.outcome) == ("ended", "paired")
        assert _call(waiter["CallSid"]).state == "matched"


def test_a_caller_who_hangs_up_while_being_paired_leaves_the_partner_waiting(twilio, app):
    waiter = _arrive(twilio, "+15550100063", "1")
    second = _arrive(twilio, "+15550100064")
    with app.test_request_context():
        pressing = _call(second["CallSid"])  # the menu press has read it
        with app.app_context():  # the status callback ends it meanwhile
            calls.end(_call(second["CallSid"]), "completed", "2", utcnow())
        assert pairing.start_waiting(pressing) is None
    with app.app_context():
        partner = _call(waiter["CallSid"])
        assert partner.state == "waiting" and pool.is_waiting(partner.wait_token)
        assert _call(second["CallSid"]).state == "ended"
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
