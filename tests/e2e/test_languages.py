"""German and English through the twin: a German call from greeting to goodbye, and a
Fusing Hour whose guests of each language rotate among themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db
from app.fusing.models import FusingRoom, FusingRound, FusingSession
from app.line.models import Call
from tests.support import eventually, fusing_hour_soon, sleep_until

DE_LINE = "+4915550000001"  # the line's German number (fictional)
ROUND = 6
TWIN_TIME_SCALE = 1.0  # Fusing Hour rounds run on the app's real clock


@pytest.fixture
def german_line(line):
    line.app.config["NUMBER_LANGUAGES"] = {DE_LINE: "de"}
    yield line
    line.app.config["NUMBER_LANGUAGES"] = {}


def _german(line, number: str):
    caller = line.twin.dial(number, to=DE_LINE)
    caller.wait_until_heard("willkommen bei mindfuse")
    return caller


def test_a_german_call_from_greeting_to_conversation_to_goodbye(german_line):
    line = german_line
    anna = _german(line, "+4915550100001")
    assert any("for english, press 9" in h.lower() for h in anna.heard)  # said in English
    anna.press("1")
    anna.wait_until_heard("wir suchen jemanden für sie")
    room = anna.wait_until_in_conference()
    anna.wait_until_heard("danke für ihre geduld")  # the hold document, in German too
    ben = _german(line, "+4915550100002")
    ben.press("1")
    ben.wait_until_heard("sie werden jetzt verbunden")
    assert ben.wait_until_in_conference() == room
    mark_anna, mark_ben = anna.mark(), ben.mark()
    anna.press("*")
    anna.wait_until_heard("sie haben das gespräch verlassen", since=mark_anna)
    ben.wait_until_heard("die andere person hat das gespräch verlassen", since=mark_ben)
    anna.press("3")
    anna.wait_until_heard("danke für ihren anruf bei mindfuse", since=mark_anna)
    assert anna.wait_until_ended() == "completed"
    ben.hang_up()
    for caller in (anna, ben):
        with line.app.app_context():
            call = db.session.scalar(select(Call).where(Call.sid == caller.sid))
            assert call.language == "de" and call.outcome == "paired"
        assert not caller.errors  # every Say's voice speaks its language
        english = [h for h in caller.heard if "press" in h.lower() and "9" not in h]
        assert english == []


def test_a_fusing_hour_rotates_each_languages_guests_among_themselves(german_line):
    line = german_line
    start = fusing_hour_soon(line, ROUND, 2)
    germans = [line.twin.dial(f"+4915550600{i:03d}", to=DE_LINE) for i in range(3)]
    english = [line.dial(f"+4477009006{i:02d}") for i in range(2)]
    for guest in germans:
        guest.wait_until_heard("alle, die sie in dieser stunde treffen, sprechen deutsch")
    for guest in english:
        guest.wait_until_heard("everyone you meet this hour speaks english")
    sleep_until(start + timedelta(seconds=ROUND))

    def round_done(number: int) -> bool:
        with line.app.app_context():
            done = db.session.scalar(select(FusingRound).where(FusingRound.number == number))
            return done is not None and done.seconds is not None

    eventually(lambda: round_done(1))
    with line.app.app_context():
        rooms = db.session.scalars(select(FusingRoom).where(FusingRoom.round_number == 1)).all()
        spoken = [sorted(db.session.get(Call, s.call_id).language for s in r.seats) for r in rooms]
    assert sorted(spoken) == [["de", "de", "de"], ["en", "en"]]
    for guest in germans:
        guest.wait_until_heard("eine neue runde", timeout=10)
    for guest in english:
        guest.wait_until_heard("a new round", timeout=10)
    with line.app.app_context():
        ends = db.session.scalar(select(FusingSession.ends_at))
    sleep_until(ends + timedelta(seconds=1))
    for guest in germans:
        guest.wait_until_heard("die fusing hour ist für diese woche vorbei", timeout=10)
    for guest in english:
        guest.wait_until_heard("the fusing hour is over", timeout=10)
    for guest in germans + english:
        guest.wait_until_ended(timeout=10)
        assert not guest.errors
