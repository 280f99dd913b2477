"""Urgent help end to end: key 0 at every menu says the caller's country's crisis service
and connects to it on 1 (<Dial><Number>); with none known, the local emergency number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.line.models import Call
from app.urgent.models import CrisisService, UrgentHelpDay
from twin import Callee

SERVICE = "+447700900999"  # stands in for the crisis line's number


def _services(line) -> None:
    with line.app.app_context():
        db.session.add(
            CrisisService(country="GB", name="Samaritans", spoken="116 123", dial=SERVICE)
        )
        db.session.add(CrisisService(country="US", name="the Lifeline", spoken="988", dial=None))
        db.session.commit()
    line.twin.answer_as(SERVICE, Callee(hang_up_after=20))


def _greeting(line, caller):
    caller.wait_until_heard("press 0 for urgent help")


def _info(line, caller):
    caller.wait_until_heard("2 for the fusing hour")
    caller.press("2")
    caller.wait_until_heard("once a week")


def _nobody_free(line, caller):
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_heard("nobody is free", timeout=10)


def _star(line, caller):
    caller.wait_until_heard("press 1")
    caller.press("1")
    room = caller.wait_until_in_conference()
    other = line.dial("+447700900162")
    other.wait_until_heard("press 1")
    other.press("1")
    other.wait_until_in_conference(name=room)
    mark = caller.mark()
    caller.press("*")
    caller.wait_until_heard("you have left the conversation", since=mark)


MENUS = {"greeting": _greeting, "fusing hour info": _info, "nobody free": _nobody_free}
MENUS["star menu"] = _star


@pytest.mark.parametrize("reach", MENUS.values(), ids=MENUS.keys())
def test_key_0_at_each_menu_says_the_service_and_connects_on_1(line, reach):
    _services(line)
    caller = line.dial("+447700900161")
    reach(line, caller)
    mark = caller.mark()
    caller.press("0")
    caller.wait_until_heard("samaritans is there for you, day and night, on 116 123", since=mark)
    caller.wait_until_heard("press 1 and we will connect you", since=mark)
    caller.press("1")
    caller.wait_until_heard(f"[connected to {SERVICE}]", since=mark)
    caller.wait_until_heard("thank you for calling", since=mark, timeout=10)
    leg = next(c for c in line.twin.calls.values() if c.parent_call_sid == caller.sid)
    assert leg.to == SERVICE and leg.status == "completed"
    with line.app.app_context():
        (day,) = db.session.scalars(select(UrgentHelpDay)).all()
        assert day.uses == 1
        call = db.session.scalar(select(Call).where(Call.sid == caller.sid))
        assert [e.kind for e in call.events].count("urgent_dialled") == 1


def test_a_service_without_a_number_to_dial_is_said_and_nobody_is_dialled(line):
    _services(line)
    caller = line.dial("+15550100161")
    caller.wait_until_heard("press 0")
    caller.press("0")
    caller.wait_until_heard("the lifeline is there for you, day and night, on 988")
    caller.wait_until_heard("hang up and call them now")
    assert caller.wait_until_ended() == "completed"
    assert not any(c.parent_call_sid == caller.sid for c in line.twin.calls.values())


def test_without_a_service_for_the_country_the_caller_hears_the_emergency_number(line):
    _services(line)
    for number in ("+4915550100161", "+4915550100162"):
        caller = line.dial(number)  # one after the other: each presses within its window
        caller.wait_until_heard("press 0")
        caller.press("0")
        caller.wait_until_heard("call your local emergency number")
        caller.wait_until_ended()
    with line.app.app_context():  # counted per day, with no identity and no country
        (day,) = db.session.scalars(select(UrgentHelpDay)).all()
        assert day.uses == 2
