"""Conversations whose conference events were lost, rebuilt from Twilio's Conference records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.billing.models import Membership
from app.db import db, utcnow
from app.line import conferences
from app.line.models import Call, CallEvent, CallState, Conversation, Participant, Step
from app.telephony.webhooks import ConferenceStatusCallback
from twin.ports import JoinOptions
from workers.conversations import reconcile_conversations

ROOM = "room-" + "ab" * 10
SIDS = ("CA" + "1" * 32, "CA" + "2" * 32)


def _pair(state: str = CallState.MATCHED, matched_ago: float = 180, **conversation) -> int:
    """Two calls matched into ROOM `matched_ago` seconds ago; the conversation's id."""
    matched = utcnow() - timedelta(seconds=matched_ago)
    calls = [
        Call(
            sid=sid,
            identity=letter * 64,
            masked_number="+1 ••• •••• 01",
            state=state,
            room=ROOM,
            arrived_at=matched - timedelta(seconds=30),
            matched_at=matched,
        )
        for sid, letter in zip(SIDS, "ab", strict=True)
    ]
    found = Conversation(room=ROOM, created_at=matched - timedelta(seconds=20), **conversation)
    db.session.add_all([*calls, found])
    db.session.add_all([Participant(conversation=found, call=c, matched_at=matched) for c in calls])
    db.session.commit()
    return found.id


def _room_at_twilio(twin, created_ago: float, ended_ago: float | None = None):
    """Both calls joined ROOM at Twilio `created_ago` seconds ago; ended `ended_ago` ago."""
    for sid in SIDS:
        twin.rooms.join(sid, JoinOptions(name=ROOM, end_on_exit=True, max_participants=2))
    conference = twin.conference(ROOM)
    began = utcnow() - timedelta(seconds=created_ago)
    conference.date_created = began
    for offset, part in enumerate(conference.participants.values()):
        part.date_created = began + timedelta(seconds=10 * offset)
    if ended_ago is not None:
        twin.rooms.leave(SIDS[0], "hangup")
        conference.date_updated = utcnow() - timedelta(seconds=ended_ago)
    return conference


def _conversation() -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation))


def _free_used() -> dict[str, object]:
    rows = db.session.scalars(select(Membership)).all()
    return {row.identity[0]: row.free_used_at for row in rows}


def _scheduled(app) -> set[str]:
    return set(jobs.WARN_LIMIT.queue().scheduled_job_registry.get_job_ids())


def test_a_live_room_whose_start_was_lost_gets_it_from_twilio_and_its_time_limit(app, twin_api):
    with app.app_context():
        conversation_id = _pair()
        conference = _room_at_twilio(twin_api, created_ago=170)
        assert reconcile_conversations() == {"checked": 1, "started": 1, "ended": 0}
        found = _conversation()
        second_join = max(p.date_created for p in conference.participants.values())
        assert found.started_at == second_join.replace(microsecond=0)
        assert found.ended_at is None and found.conference_sid == conference.sid
        assert {f"warn-{conversation_id}", f"end-{conversation_id}"} <= _scheduled(app)
        # A conversation going on with its start known is not asked about again.
        asked = len(twin_api.requests)
        assert reconcile_conversations() == {"checked": 0, "started": 0, "ended": 0}
        assert len(twin_api.requests) == asked


@pytest.mark.parametrize(("ended_ago", "counted"), [(30, True), (125, False)])
def test_a_finished_room_is_settled_and_a_long_enough_one_uses_the_free_one(
    app, twin_api, ended_ago, counted
):
    with app.app_context():
        _pair(state=CallState.AFTER, matched_ago=180)
        conference = _room_at_twilio(twin_api, created_ago=200, ended_ago=ended_ago)
        assert reconcile_conversations() == {"checked": 1, "started": 1, "ended": 1}
        found = _conversation()
        assert found.ended_at == conference.date_updated.replace(microsecond=0)
        # They met when the line matched them: the room at Twilio is older (one waited there).
        assert abs(found.duration_seconds - (180 - ended_ago)) <= 2
        free = _free_used()
        assert bool(free) == counted and all(free.get(k) for k in "ab") == counted
        assert not _scheduled(app)  # nobody to warn in a room that is over


def test_a_pair_that_never_met_is_closed_without_a_start(app, twin_api):
    with app.app_context():
        _pair(state=CallState.AFTER)
        partner = db.session.scalar(select(Call).where(Call.sid == SIDS[1]))
        db.session.add(CallEvent(call=partner, kind=Step.RESCUED, detail=ROOM))
        db.session.commit()
        _room_at_twilio(twin_api, created_ago=200, ended_ago=60)
        assert reconcile_conversations() == {"checked": 1, "started": 0, "ended": 1}
        found = _conversation()
        assert found.started_at is None and found.ended_at is not None
        assert _free_used() == {}


def test_a_room_twilio_never_had_is_closed_once_both_calls_ended(app, twin_api):
    with app.app_context():
        _pair(state=CallState.ENDED)
        last = utcnow() - timedelta(seconds=40)
        for call in db.session.scalars(select(Call)):
            call.ended_at = last
        db.session.commit()
        assert reconcile_conversations() == {"checked": 1, "started": 0, "ended": 1}
        assert _conversation().ended_at == last and _conversation().started_at is None


def test_a_match_too_recent_or_a_conversation_going_well_is_not_asked_about(app, twin_api):
    with app.app_context():
        _pair(matched_ago=2)  # its conference events are most likely on their way
        assert reconcile_conversations()["checked"] == 0
        db.session.execute(Participant.__table__.delete())
        db.session.execute(Conversation.__table__.delete())
        db.session.execute(Call.__table__.delete())
        _pair(started_at=utcnow() - timedelta(seconds=100))
        assert reconcile_conversations()["checked"] == 0
        assert not [r for r in twin_api.requests if "Conferences" in r.path]


def test_a_look_up_twilio_refuses_leaves_it_for_the_next_run(app, twin_api):
    with app.app_context():
        _pair(state=CallState.AFTER)
        _room_at_twilio(twin_api, created_ago=200, ended_ago=60)
        twin_api.rest_faults.add(status=403, times=1, method="GET")
        assert reconcile_conversations() == {"checked": 1, "started": 0, "ended": 0}
        assert _conversation().ended_at is None
        assert reconcile_conversations() == {"checked": 1, "started": 1, "ended": 1}


def test_events_arriving_late_do_not_undo_what_twilio_said(app, twin_api):
    with app.app_context():
        _pair(state=CallState.AFTER)
        _room_at_twilio(twin_api, created_ago=200, ended_ago=60)
        reconcile_conversations()
        settled = _conversation()
        started, ended = settled.started_at, settled.ended_at
        late = {
            "ConferenceSid": settled.conference_sid,
            "FriendlyName": ROOM,
            "StatusCallbackEvent": "participant-leave",
            "CallSid": SIDS[0],
            "SequenceNumber": "4",
        }
        assert conferences.event_received(ConferenceStatusCallback.from_form(late)) is None
        found = _conversation()
        assert (found.started_at, found.ended_at) == (started, ended) and len(found.events) == 1
        assert reconcile_conversations()["checked"] == 0


def test_a_record_touched_after_its_end_does_not_lengthen_the_conversation(app, twin_api):
    twin_api.rooms.updated_after_end = 600  # date_updated is the last update, maybe later
    with app.app_context():
        _pair(state=CallState.AFTER, matched_ago=180)
        left = utcnow() - timedelta(seconds=90)
        for call in db.session.scalars(select(Call)):
            db.session.add(CallEvent(call=call, kind=Step.LEFT, detail="partner_left", at=left))
        db.session.commit()
        _room_at_twilio(twin_api, created_ago=200)
        twin_api.rooms.leave(SIDS[0], "hangup")
        assert twin_api.conference(ROOM).date_updated > utcnow()
        assert reconcile_conversations()["ended"] == 1
        assert _conversation().ended_at == left
        assert abs(_conversation().duration_seconds - 90) <= 2
