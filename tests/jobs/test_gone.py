"""Every job that moves a call or speaks to a conference takes Twilio's "it is over" answers
(21220 for a call no longer in progress, 16022 or 404 for a conference) as gone, not as a
failure; and works when Twilio accepts the update of an ended conference instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.fusing.models import FusingGuest, FusingSession, GuestState
from app.line.models import Call, CallState, Conversation
from app.line.pairing import restore_waiting
from app.telephony import rest
from tests.support import twin_call
from twin.models import Conference
from workers import conversations, fusing
from workers.waiting import expire_wait

NUMBERS = ("+15550100161", "+447700900162", "+4915550000163")
KNOB = ["refuse", "not-found", "accept"]


def _call(sid: str, state: str = CallState.MATCHED, **fields) -> Call:
    call = Call(sid=sid, identity=sid[-8:] * 8, masked_number="+1 ••• •••• 61", state=state)
    for name, value in fields.items():
        setattr(call, name, value)
    db.session.add(call)
    db.session.commit()
    return call


def test_a_timeout_redirect_of_a_call_that_just_hung_up_ends_it(app, twin_api):
    with app.app_context():
        started = utcnow() - timedelta(minutes=2)
        sid = twin_call(twin_api, NUMBERS[0])  # hung up; the line has not heard yet
        call = _call(
            sid, CallState.WAITING, wait_token="g" * 16, room="room-g", wait_started_at=started
        )
        restore_waiting(call)
        assert expire_wait(call.id, call.wait_token) == "gone"
        call = db.session.get(Call, call.id)
        assert call.state == CallState.ENDED
        assert "redirect_failed" not in [e.kind for e in call.events]
        posted = [r.status for r in twin_api.requests if r.method == "POST"]
        assert posted == [400]  # 21220: Call is not in-progress. Cannot redirect.


def test_two_fusing_guests_hanging_up_together_leave_quietly(app, twin_api):
    with app.app_context():
        now = utcnow()
        session = FusingSession(
            starts_at=now, ends_at=now + timedelta(hours=1), timezone="UTC",
            round_seconds=720, gap_seconds=30,
        )  # fmt: skip
        db.session.add(session)
        db.session.commit()
        calls = [_call(twin_call(twin_api, n), mode="fusing") for n in NUMBERS[:2]]
        guests = [
            FusingGuest(session_id=session.id, call_id=c.id, identity=c.identity,
                        state=GuestState.ROOM, room="fusing-room-1")
            for c in calls
        ]  # fmt: skip
        db.session.add_all(guests)
        db.session.commit()
        assert fusing.guest_left(calls[0].id) == 1  # its partner is sent back: 21220, gone
        states = db.session.scalars(select(FusingGuest.state).order_by(FusingGuest.id)).all()
        assert states == [GuestState.GONE, GuestState.GONE]
        assert fusing.move(calls[1].id, "fusing-room-2") == "gone"


def test_a_burst_counts_calls_that_ended_as_gone(app, twin_api):
    with app.app_context():
        ended, live = twin_call(twin_api, NUMBERS[0]), twin_call(twin_api, NUMBERS[1])
        twin_api.calls[live].status = "in-progress"
        burst = rest.redirect_many(dict.fromkeys((ended, live), "http://line.test/x"), 2)
        assert (burst.gone, burst.done, burst.failed) == ([ended], [live], [])
        assert burst.requests == 2  # a 21220 is not retried


def _ended_conversation(twin_api, known: bool = True) -> Conversation:
    conference = Conference(twin_api.account_sid, "room-over", status="completed")
    with twin_api.cond:
        twin_api.rooms.by_sid[conference.sid] = conference
    conversation = Conversation(room="room-over", conference_sid=conference.sid if known else None)
    conversation.started_at = utcnow() - timedelta(minutes=29)
    db.session.add(conversation)
    db.session.commit()
    return conversation


@pytest.mark.parametrize("answer", KNOB)
def test_the_warning_and_the_limit_of_a_conversation_that_ended_meanwhile(app, twin_api, answer):
    twin_api.ended_conference_update = answer
    with app.app_context():
        conversation = _ended_conversation(twin_api)
        warned = conversations.warn_limit(conversation.id)
        ended = conversations.end_at_limit(conversation.id)
        if answer == "accept":  # Twilio takes it and nothing happens: no harm done
            assert (warned, ended) == ("warned", "ended")
        else:
            assert (warned, ended) == ("conversation over", "already over")


def test_a_conversation_whose_conference_is_not_running_is_over(app, twin_api):
    with app.app_context():
        conversation = _ended_conversation(twin_api, known=False)
        assert conversations.warn_limit(conversation.id) == "conversation over"
        assert conversations.end_at_limit(conversation.id) == "already over"


def test_the_round_warning_skips_rooms_that_ended(app, twin_api):
    with app.app_context():
        _ended_conversation(twin_api)
        burst = rest.announce_many(["room-over"], "http://line.test/x", 2)
        assert burst.failed == [] and burst.gone == ["room-over"]  # none is in progress
