"""The key pressed at the greeting is committed with the wait or the pairing it starts, and
a claim that fails undoes only itself."""

from __future__ import annotations

from sqlalchemy import select, update

from app.db import db
from app.line import pool
from app.line.models import Call, CallState, Step
from tests.support import call_form, twiml


def _greeted(twilio, number: str) -> dict:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return form


def _press(twilio, form: dict):
    return twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"}))


def _call(form: dict) -> Call:
    return db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))


def _steps(form: dict) -> list[tuple[str, str | None]]:
    return [(e.kind, e.detail) for e in _call(form).events]


def test_a_claim_that_finds_its_partner_gone_keeps_the_key_and_the_caller_waits(twilio, app):
    first = _greeted(twilio, "+15550100081")
    _press(twilio, first)
    with app.app_context():  # ended in the database, its pool entry not yet removed
        db.session.execute(
            update(Call).where(Call.sid == first["CallSid"]).values(state=CallState.ENDED)
        )
        db.session.commit()
    second = _greeted(twilio, "+15550100082")
    root = _press(twilio, second)
    with app.app_context():
        call = _call(second)
        assert call.state == CallState.WAITING and call.menu_choice == "1"
        assert root.find("Dial/Conference").text == call.room
        assert (Step.MENU, "1") in _steps(second) and (Step.WAITING, None) in _steps(second)
        assert pool.is_waiting(call.wait_token)


def test_a_caller_gone_while_being_paired_keeps_the_key_and_the_partner_waits_on(twilio, app):
    waiting = _greeted(twilio, "+15550100083")
    _press(twilio, waiting)
    late = _greeted(twilio, "+15550100084")
    # The caller hung up at the greeting; the key press reaches the line after the end.
    twilio.post("/twilio/voice/status", {**late, "CallStatus": "completed", "CallDuration": "3"})
    root = _press(twilio, late)
    assert root.find("Dial") is None  # nobody is there to hear: goodbye
    with app.app_context():
        partner = _call(waiting)
        assert partner.state == CallState.WAITING and partner.matched_at is None
        assert pool.is_waiting(partner.wait_token)
        assert (Step.MATCHED, partner.room) not in _steps(waiting)
        assert _call(late).state == CallState.ENDED and _call(late).menu_choice == "1"
        assert (Step.MENU, "1") in _steps(late)
