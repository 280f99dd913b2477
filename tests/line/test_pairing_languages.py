"""Pairing within a language: a German and an English caller waiting at once never meet."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.db import db
from app.line import pairing, pool
from app.line.models import Call, CallState
from tests.support import PUBLIC, call_form, sign, twiml

DE_LINE = "+4915550000001"


def _wait(twilio, number: str, to: str | None = None) -> dict:
    form = call_form(number, **({"To": to} if to else {}))
    action = twiml(twilio.post("/twilio/voice", form)).find("Gather").get("action")
    twiml(twilio.post(action.removeprefix(PUBLIC), {**form, "Digits": "1"}))
    return form


def _call(form) -> Call:
    return db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))


def test_a_german_and_an_english_caller_waiting_at_once_are_not_paired(twilio, app):
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    english = _wait(twilio, "+15550100101")
    german = _wait(twilio, "+4915550000102", DE_LINE)
    with app.app_context():
        assert _call(english).state == _call(german).state == CallState.WAITING
        assert pool.waiting_by_language() == {"en": 1, "de": 1}
    other_german = _wait(twilio, "+4915550000103", DE_LINE)
    with app.app_context():
        first, second = _call(german), _call(other_german)
        assert first.state == second.state == CallState.MATCHED and first.room == second.room
        assert _call(english).state == CallState.WAITING
        assert pool.waiting_by_language() == {"en": 1, "de": 0}


def test_a_wait_leaves_and_comes_back_in_its_own_language(twilio, app):
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    german = _wait(twilio, "+4915550000104", DE_LINE)
    with app.test_request_context():
        call = _call(german)
        assert pool.leave(call.wait_token) and not pool.is_waiting(call.wait_token)
        pairing.restore_waiting(call)  # as after a Redis restart
        assert pool.waiting_by_language() == {"en": 0, "de": 1}
        assert pool.take("j" * 64, language="en") is None
        assert pool.take("j" * 64, language="de").partner_call_id == call.id


def _dial(base: str, number: str, to: str) -> tuple[str, str]:
    session, form = requests.Session(), call_form(number, To=to)
    url = base + "/twilio/voice"
    reply = session.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form)})
    action = ET.fromstring(reply.content).find("Gather").get("action").removeprefix(PUBLIC)
    url, data = base + action.removeprefix(base), {**form, "Digits": "1"}
    reply = session.post(url, data=data, headers={"X-Twilio-Signature": sign(url, data)})
    assert reply.status_code == 200, reply.text
    return form["CallSid"], ET.fromstring(reply.content).find("Dial/Conference").text


def test_a_mixed_herd_is_paired_atomically_and_only_within_each_language(live_server):
    app = live_server.app
    app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    dialled = [(f"+4915550{i:06d}", DE_LINE if i % 2 else "+15550100000") for i in range(61)]
    with ThreadPoolExecutor(max_workers=16) as herd:
        placed = list(herd.map(lambda d: _dial(live_server.url, *d), dialled))
    rooms = Counter(room for _, room in placed)
    assert max(rooms.values()) <= 2
    with app.app_context():
        by_sid = {c.sid: c for c in db.session.scalars(select(Call))}
        for sid, room in placed:
            call = by_sid[sid]
            if rooms[room] == 2:
                partner = pairing.partner_of(call)
                assert partner.language == call.language and partner.identity != call.identity
        waiting = pool.waiting_by_language()
        assert all(count <= 1 for count in waiting.values()) and sum(waiting.values()) == 1
