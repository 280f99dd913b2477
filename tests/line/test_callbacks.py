"""Call and conference status callbacks: recorded once, in order, whatever Twilio sends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import func, select

from app.admin.calls import timeline
from app.billing.models import Membership
from app.db import db, utcnow
from app.line import pairing, pool
from app.line.models import Call, ConferenceEvent, Conversation
from tests.support import call_form, twiml

START = utcnow().replace(microsecond=0)


def _waiting(twilio, number="+15550100021"):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    room = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"})).find("Dial/Conference")
    return form, room.text


def _status(twilio, form, status, sequence, duration="12"):
    data = {**form, "CallStatus": status, "SequenceNumber": str(sequence), "CallDuration": duration}
    return twilio.post("/twilio/voice/status", data)


def test_hanging_up_while_waiting_leaves_the_pool_at_once(twilio, app):
    form, _ = _waiting(twilio)
    with app.app_context():
        assert pool.waiting_count() == 1
    assert _status(twilio, form, "completed", 3).status_code == 204
    with app.app_context():
        call = db.session.scalar(select(Call))
        assert pool.waiting_count() == 0
        assert call.state == "ended" and call.outcome == "hung_up_waiting"
        assert call.duration_seconds == 12


def test_hanging_up_in_the_greeting_is_recorded(twilio, app):
    form = call_form()
    twilio.post("/twilio/voice", form)
    with app.app_context():  # the greeting writes nothing
        assert db.session.scalar(select(func.count()).select_from(Call)) == 0
    ended = START + timedelta(minutes=1)
    data = {**form, "CallStatus": "completed", "CallDuration": "3"}
    data |= {"SequenceNumber": "1", "Timestamp": format_datetime(ended)}
    assert twilio.post("/twilio/voice/status", data).status_code == 204
    with app.app_context():
        call = db.session.scalar(select(Call))
        assert call.outcome == "hung_up_menu" and call.state == "ended"
        assert call.arrived_at == ended - timedelta(seconds=3) and call.ended_at == ended
        assert call.masked_number == "+1 ••• •••• 01" and call.duration_seconds == 3


def test_duplicate_and_late_status_callbacks_change_nothing(twilio, app):
    form, _ = _waiting(twilio)
    _status(twilio, form, "completed", 4, duration="30")
    with app.app_context():
        before = db.session.scalar(select(Call))
        snapshot = (before.state, before.outcome, before.ended_at, len(before.events))
    _status(twilio, form, "completed", 4, duration="99")
    _status(twilio, form, "in-progress", 2)
    with app.app_context():
        after = db.session.scalar(select(Call))
        assert (after.state, after.outcome, after.ended_at, len(after.events)) == snapshot
        assert after.duration_seconds == 30


def test_progress_of_a_call_in_its_greeting_is_accepted_and_writes_nothing(twilio, app):
    assert _status(twilio, call_form(), "in-progress", 1).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Call)) == 0


def _conference(twilio, room, event, sequence, call_sid, seconds):
    at = format_datetime(START + timedelta(seconds=seconds))
    data = {
        "AccountSid": "AC" + "0" * 32,
        "ConferenceSid": "CF" + "1" * 32,
        "FriendlyName": room,
        "StatusCallbackEvent": event,
        "SequenceNumber": str(sequence),
        "Timestamp": at,
    }
    if call_sid:
        data["CallSid"] = call_sid
    return twilio.post("/twilio/voice/conference", data)


def test_conference_events_are_kept_once_and_folded_in_sequence_order(twilio, app):
    first, room = _waiting(twilio, "+15550100031")
    second, _ = _waiting(twilio, "+15550100032")
    a, b = first["CallSid"], second["CallSid"]
    # Delivered out of order, with a retry of the same event.
    sent = [
        ("participant-leave", 5, b, 300),
        ("participant-join", 1, a, 0),
        ("conference-start", 2, None, 1),
        ("participant-join", 3, b, 20),
        ("participant-join", 3, b, 20),
        ("participant-leave", 4, a, 300),
        ("conference-end", 6, None, 301),
    ]
    for event, sequence, sid, seconds in sent:
        assert _conference(twilio, room, event, sequence, sid, seconds).status_code == 204
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
        assert db.session.scalar(select(func.count()).select_from(ConferenceEvent)) == 6
        assert conversation.conference_sid == "CF" + "1" * 32
        assert conversation.duration_seconds == 280
        assert conversation.max_participants == 2
        call = db.session.scalar(select(Call).where(Call.sid == b))
        assert [e.kind for e in call.events if e.kind in ("joined", "left_room")] == [
            "joined",
            "left_room",
        ]


def test_a_whole_conversation_is_on_the_timeline(twilio, app):
    first, room = _waiting(twilio, "+15550100041")
    second, _ = _waiting(twilio, "+15550100042")
    for sequence, (event, sid) in enumerate(
        [("participant-join", first), ("participant-join", second), ("participant-leave", second)],
        start=1,
    ):
        _conference(twilio, room, event, sequence, sid["CallSid"], sequence * 60)
    root = twiml(twilio.post("/twilio/voice/after", {**first, "DialCallStatus": "completed"}))
    assert root.find("Gather").get("numDigits") == "1"
    for form in (first, second):
        _status(twilio, form, "completed", 9, duration="200")
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == first["CallSid"]))
        kinds = [step.kind for step in timeline(call)]
        for step in ("arrived", "menu", "waiting", "matched", "joined", "left", "ended"):
            assert step in kinds, kinds
        assert call.outcome == "paired" and call.wait_seconds is not None


def test_dial_action_and_status_callback_in_either_order(twilio, app):
    for order in (("after", "status"), ("status", "after")):
        form, _ = _waiting(twilio, "+15550100051" if order[0] == "after" else "+15550100052")
        for step in order:
            if step == "after":
                data = {**form, "CallStatus": "completed", "DialCallStatus": "completed"}
                twilio.post("/twilio/voice/after", data)
            else:
                _status(twilio, form, "completed", 5)
        with app.app_context():
            call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
            assert call.state == "ended" and call.outcome == "hung_up_waiting", order
            assert pool.waiting_count() == 0


def test_a_conference_dial_that_reports_answered_or_completed_gets_the_same_menu(twilio, app):
    # Twilio reports `answered` after `*` from a conference and is not clear about other
    # exits: the line reads both the same.
    heard = []
    pairs = {
        "answered": ("+15550100061", "+15550100062"),
        "completed": ("+15550100063", "+15550100064"),
    }
    for status, (one, two) in pairs.items():
        first, room = _waiting(twilio, one)
        second, _ = _waiting(twilio, two)
        steps = [("participant-join", first), ("participant-join", second)]
        for sequence, (event, form) in enumerate([*steps, ("participant-leave", first)], 1):
            _conference(twilio, room, event, sequence, form["CallSid"], sequence * 60)
        data = {**first, "CallStatus": "in-progress", "DialCallStatus": status}
        root = twiml(twilio.post("/twilio/voice/after", data))
        heard.append(root.find("Gather").find("Say").text)
        with app.app_context():
            call = db.session.scalar(select(Call).where(Call.sid == first["CallSid"]))
            assert call.state == "after"
            assert [e.detail for e in call.events if e.kind == "left"] == [f"you_left ({status})"]
    assert heard[0] == heard[1]


def test_a_room_whose_end_arrives_before_its_joins_still_uses_up_the_free_conversation(twilio, app):
    first, room = _waiting(twilio, "+15550100065")
    second, _ = _waiting(twilio, "+15550100066")
    a, b = first["CallSid"], second["CallSid"]
    for event, sequence, sid, seconds in [
        ("conference-end", 6, None, 301),  # the end first: no span yet, nothing to count
        ("participant-leave", 5, a, 300),
        ("participant-join", 1, a, 0),
        ("participant-join", 3, b, 20),  # now the two were together for 280 s
        ("participant-leave", 4, b, 300),
    ]:
        _conference(twilio, room, event, sequence, sid, seconds)
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.room == room))
        assert conversation.duration_seconds == 280
        caller = db.session.scalar(select(Call).where(Call.sid == a))
        member = db.session.scalar(select(Membership).where(Membership.identity == caller.identity))
        assert member is not None and member.free_used_at is not None


def test_joined_and_left_stay_in_sequence_order_on_the_timeline_whatever_arrives_first(twilio, app):
    first, room = _waiting(twilio, "+15550100067")
    a = first["CallSid"]
    # Twilio stamps whole seconds: both in the same second, the leave delivered first.
    _conference(twilio, room, "participant-leave", 2, a, 5)
    _conference(twilio, room, "participant-join", 1, a, 5)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == a))
        steps = [step.kind for step in timeline(call) if step.kind in ("joined", "left_room")]
        assert steps == ["joined", "left_room"]


def test_the_first_to_leave_is_not_read_past_an_earlier_event_still_on_its_way(twilio, app):
    first, room = _waiting(twilio, "+15550100068")
    second, _ = _waiting(twilio, "+15550100069")
    a, b = first["CallSid"], second["CallSid"]
    for event, sequence, sid in [
        ("participant-join", 1, a),
        ("participant-join", 2, b),
        ("conference-start", 3, None),
        ("participant-leave", 5, a),  # Bob's leave (4) fired first but has not arrived
    ]:
        _conference(twilio, room, event, sequence, sid, sequence)
    # Bob hung up: his Dial's action came first. Alice's leave alone must not make her the
    # one who left: an earlier event is missing, so the line goes by whose Dial ended first.
    twilio.post("/twilio/voice/after", {**second, "CallStatus": "completed"})
    data = {**first, "CallStatus": "in-progress", "DialCallStatus": "completed"}
    root = twiml(twilio.post("/twilio/voice/after", data))
    assert "The other person has left" in root.find("Gather/Say").text


def test_a_status_callback_that_ends_the_call_while_its_dial_action_waits_is_kept(
    twilio, app, monkeypatch
):
    # The Dial's action waits briefly for the room's leave event; the call's final status
    # callback can land meanwhile, and the action must not put the call back on the menu.
    first, room = _waiting(twilio, "+15550100070")
    second, _ = _waiting(twilio, "+15550100071")
    for sequence, form in enumerate([first, second], 1):
        _conference(twilio, room, "participant-join", sequence, form["CallSid"], sequence)
    waiting = pairing._first_to_leave

    def ended_meanwhile(conversation_id, patience=1.0):
        sender = threading.Thread(target=_status, args=(twilio, first, "completed", 9))
        sender.start()
        sender.join()
        return waiting(conversation_id, patience=0)

    monkeypatch.setattr(pairing, "_first_to_leave", ended_meanwhile)
    data = {**first, "CallStatus": "completed", "DialCallStatus": "completed"}
    root = twiml(twilio.post("/twilio/voice/after", data))
    assert root.find("Hangup") is not None
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == first["CallSid"]))
        assert call.state == "ended" and call.ended_at is not None


def test_a_status_callback_stamped_minus_0000_is_recorded(twilio, app):
    form = call_form("+15550100411")
    twilio.post("/twilio/voice", form)
    twilio.post("/twilio/voice/menu", {**form, "Digits": "2"})
    data = {**form, "CallStatus": "completed", "CallDuration": "7", "SequenceNumber": "4"}
    data["Timestamp"] = "Tue, 01 Dec 2026 10:00:03 -0000"  # UTC, no local zone said
    response = twilio.post("/twilio/voice/status", data)
    assert response.status_code == 204
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
        assert call.state == "ended"
        assert call.ended_at == datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC)


class _Clock:
    """Stands in for the time module in app.line.pairing: sleeping only moves it on."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def test_a_caller_who_hung_up_is_not_held_waiting_for_the_leave_event(twilio, app, monkeypatch):
    first, room = _waiting(twilio, "+15550100072")
    second, _ = _waiting(twilio, "+15550100073")
    a, b = first["CallSid"], second["CallSid"]
    for event, sequence, sid in [
        ("participant-join", 1, a),
        ("participant-join", 2, b),
        ("conference-start", 3, None),
        ("participant-leave", 5, a),  # Bob's leave (4) has not arrived
    ]:
        _conference(twilio, room, event, sequence, sid, sequence)
    clock = _Clock()
    monkeypatch.setattr(pairing, "time", clock)
    # Bob hung up: nobody hears why the room ended, so his Dial's action does not wait.
    root = twiml(twilio.post("/twilio/voice/after", {**second, "CallStatus": "completed"}))
    assert root.find("Hangup") is not None
    assert clock.sleeps == 0
    # Alice is still on the line: her action waits for the missing event, then goes by
    # whose Dial ended first, which was Bob's.
    data = {**first, "CallStatus": "in-progress", "DialCallStatus": "completed"}
    root = twiml(twilio.post("/twilio/voice/after", data))
    assert "The other person has left" in root.find("Gather/Say").text
    assert clock.sleeps > 0
    with app.app_context():
        bob = db.session.scalar(select(Call).where(Call.sid == b))
        assert [e.detail for e in bob.events if e.kind == "left"] == ["you_left (completed)"]
