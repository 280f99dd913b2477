"""Every foundation flow, end to end: simulated callers through the twin over real HTTP."""

from __future__ import annotations

import requests
from sqlalchemy import select

from app import jobs
from app.db import db
from app.line import pool
from app.line.models import Call, CallEvent, ConferenceEvent, Conversation
from tests.support import call_form, eventually, sign, tuned
from twin import EventOrder


def _call(line, sid: str) -> Call:
    with line.app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == sid))
        db.session.expunge_all()
        return call


def _talk_now(line, number: str):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    return caller


def test_two_callers_meet_in_one_private_room(line):
    alice = _talk_now(line, "+15550100101")
    room = alice.wait_until_in_conference()
    alice.wait_until_heard("finding someone")
    bob = _talk_now(line, "+447700900101")
    assert bob.wait_until_in_conference() == room
    assert sorted(line.twin.conferences()[room]) == sorted([alice.sid, bob.sid])
    # Bob leaves: the room ends for both; Alice lands on the after-conversation menu.
    mark = alice.mark()
    bob.hang_up()
    alice.wait_until_heard("left the conversation", since=mark)
    alice.hang_up()
    alice.wait_until_ended()
    line.twin.wait_idle()

    def settled():
        with line.app.app_context():
            found = db.session.scalar(select(Conversation).where(Conversation.room == room))
            return found if found and found.ended_at else None

    conversation = eventually(settled)
    assert conversation.started_at is not None and conversation.max_participants == 2
    for caller in (alice, bob):
        call = _call(line, caller.sid)
        assert call.state == "ended" and call.outcome == "paired"
        assert call.duration_seconds is not None
    assert not alice.errors and not bob.errors


def test_two_callers_meet_and_shuffled_conference_events_are_folded_right(line):
    # Twilio sends each conference event as a request of its own: here each is held back by
    # up to a second, so they reach the line in any order (and a Dial that ended other than
    # by * reports "completed", the other answer the docs leave open).
    shuffled = {"conference_events": EventOrder.SHUFFLED, "conference_event_jitter": 1.0}
    with tuned(line.twin, **shuffled, seed=11, conference_exit_status="completed"):
        alice = _talk_now(line, "+15550100121")
        room = alice.wait_until_in_conference()
        alice.wait_until_heard("finding someone")
        bob = _talk_now(line, "+447700900121")
        assert bob.wait_until_in_conference() == room
        mark = alice.mark()
        bob.hang_up()
        alice.wait_until_heard("the other person has left", since=mark, timeout=10)
        alice.hang_up()
        alice.wait_until_ended()
        assert line.twin.wait_idle(timeout=10)

    def settled():
        with line.app.app_context():
            found = db.session.scalar(select(Conversation).where(Conversation.room == room))
            return found if found and found.ended_at and len(found.events) == 6 else None

    conversation = eventually(settled)
    arrived = [
        int(w.params["SequenceNumber"])
        for w in line.twin.webhooks
        if w.kind == "conference-status" and w.params["FriendlyName"] == room
    ]
    assert sorted(arrived) == [1, 2, 3, 4, 5, 6] and arrived != sorted(arrived)
    assert conversation.max_participants == 2
    with line.app.app_context():
        joins = db.session.scalars(
            select(ConferenceEvent.at)
            .where(ConferenceEvent.conversation_id == conversation.id)
            .where(ConferenceEvent.event == "participant-join")
            .order_by(ConferenceEvent.sequence)
        ).all()
        leaves = db.session.scalars(
            select(ConferenceEvent.at)
            .where(ConferenceEvent.conversation_id == conversation.id)
            .where(ConferenceEvent.event == "participant-leave")
            .order_by(ConferenceEvent.sequence)
        ).all()
    # Together from Bob's join to Bob's leave, whatever order the events came in.
    assert (conversation.started_at, conversation.ended_at) == (joins[1], leaves[0])
    for caller in (alice, bob):
        steps = [kind for kind, _ in _timeline(line, caller.sid) if kind in ("joined", "left_room")]
        assert steps == ["joined", "left_room"]
        assert _call(line, caller.sid).outcome == "paired"


def _timeline(line, sid: str) -> list[tuple[str, str | None]]:
    with line.app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == sid))
        return [(event.kind, event.detail) for event in call.events]


def test_a_partner_who_leaves_at_once_is_not_taken_for_one_who_never_came(line):
    # Twilio sends conference callbacks apart from call status callbacks: here Bob's join
    # reaches the line only after his hang-up. Alice was with him, so she hears that he left.
    line.twin.webhook_client.lag["conference-status"] = 1.0
    try:
        alice = _talk_now(line, "+15550100105")
        room = alice.wait_until_in_conference()
        alice.wait_until_heard("finding someone")
        bob = _talk_now(line, "+447700900105")
        assert bob.wait_until_in_conference() == room
        mark = alice.mark()
        bob.hang_up()
        alice.wait_until_heard("left the conversation", since=mark, timeout=10)
        eventually(lambda: not _rescues_pending(line), timeout=15)
    finally:
        line.twin.webhook_client.lag.clear()
    assert not any("before you could talk" in text for text in alice.heard[mark:])
    with line.app.app_context():
        kinds = db.session.scalars(
            select(CallEvent.kind).join(Call).where(Call.sid == alice.sid)
        ).all()
    assert "left" in kinds and "rescued" not in kinds


def _rescues_pending(line) -> bool:
    with line.app.app_context():
        queue = jobs.RESCUE_PARTNER.queue()
        later = queue.scheduled_job_registry.get_job_ids()
        running = queue.started_job_registry.get_job_ids()
        found = queue.jobs + [queue.fetch_job(job_id) for job_id in later + running]
        return any(job and job.func_name.endswith("rescue_partner") for job in found)


def test_no_input_at_the_greeting_means_talk_now(line):
    caller = line.dial("+15550100102")
    caller.wait_until_in_conference()
    assert _call(line, caller.sid).menu_choice == "none"


def test_nobody_comes_then_timeout_redirects_by_rest(line):
    with tuned(line.twin, play_seconds=2):  # hold music in short pieces: a long wait
        alice = _talk_now(line, "+15550100103")
        alice.wait_until_in_conference()
        alice.wait_until_heard("nobody is free", timeout=15)
    # The hold music loops by itself (a waitUrl document plays once): never silence.
    music = f"[play {line.app.config['HOLD_MUSIC_URL']}]"
    assert alice.heard.count(music) >= 3 and "[silence]" not in alice.heard
    updates = [r for r in line.twin.requests if r.method == "POST" and alice.sid in r.path]
    assert updates and updates[-1].form.get("Url", "").endswith("/twilio/voice/timeout")
    assert _call(line, alice.sid).outcome == "timed_out"
    # Keep waiting: Alice waits again, and a newcomer is paired with her.
    alice.press("1")
    room = alice.wait_until_in_conference()
    bob = _talk_now(line, "+15550100104")
    assert bob.wait_until_in_conference() == room
    assert _call(line, alice.sid).outcome == "paired"


def test_timed_out_caller_can_hang_up_from_the_menu(line):
    alice = _talk_now(line, "+15550100105")
    alice.wait_until_heard("nobody is free", timeout=15)
    alice.press("9")
    alice.wait_until_heard("thank you for calling")
    alice.wait_until_ended()


def test_hanging_up_while_waiting_leaves_the_pool(line):
    alice = _talk_now(line, "+15550100106")
    alice.wait_until_in_conference()
    alice.hang_up()
    alice.wait_until_ended()

    def gone():
        with line.app.app_context():
            return pool.waiting_count() == 0 and _call(line, alice.sid).state == "ended"

    eventually(gone)
    assert _call(line, alice.sid).outcome == "hung_up_waiting"
    # Nobody is paired with the caller who left.
    bob = _talk_now(line, "+15550100107")
    bob.wait_until_heard("finding someone")


def test_after_a_conversation_press_1_for_someone_new(line):
    alice = _talk_now(line, "+15550100108")
    alice.wait_until_in_conference()
    bob = _talk_now(line, "+15550100109")
    bob.wait_until_in_conference()
    mark = bob.mark()
    alice.press("*")  # hangupOnStar: Alice leaves; the room ends for Bob too
    alice.wait_until_heard("left the conversation")
    bob.wait_until_heard("left the conversation", since=mark)
    alice.press("1")
    first_room = alice.wait_until_in_conference()
    carol = _talk_now(line, "+15550100110")
    assert carol.wait_until_in_conference() == first_room
    with line.app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == alice.sid))
        assert len(call.participations) == 2


def test_a_crowd_through_the_twin_is_paired_two_by_two(line):
    callers = [line.dial(f"+4915550{i:06d}") for i in range(30)]
    for caller in callers:
        caller.wait_until_heard("press 1")
        caller.press("1")
    rooms = [caller.wait_until_in_conference(timeout=15) for caller in callers]
    eventually(lambda: all(len(line.twin.conferences().get(r, [])) == 2 for r in rooms))
    assert len(set(rooms)) == 15
    assert not any(caller.errors for caller in callers)


def test_partner_who_vanishes_before_the_room_meets_is_replaced(line):
    alice = _talk_now(line, "+15550100111")
    room = alice.wait_until_in_conference()
    # Bob is matched with Alice but hangs up before his phone joins the room.
    bob = {**call_form("+15550100112"), "Digits": "1"}
    for path in ("/twilio/voice", "/twilio/voice/menu"):
        url = line.server.url + path
        requests.post(url, data=bob, headers={"X-Twilio-Signature": sign(url, bob)}, timeout=5)
    assert _call(line, bob["CallSid"]).room == room
    status = {**bob, "CallStatus": "completed", "CallDuration": "2"}
    url = line.server.url + "/twilio/voice/status"
    requests.post(url, data=status, headers={"X-Twilio-Signature": sign(url, status)}, timeout=5)
    alice.wait_until_heard("left before you could talk", timeout=15)
    assert alice.wait_until_in_conference() != room
    carol = _talk_now(line, "+15550100113")
    assert carol.wait_until_in_conference() == alice.conference


def test_a_returning_caller_hears_the_short_greeting_and_star_the_whole_menu(line):
    first = _talk_now(line, "+447700900131")
    first.wait_until_in_conference()
    first.hang_up()
    first.wait_until_ended()
    again = line.dial("+447700900131")
    again.wait_until_heard("welcome back. press 1 or hold on to talk, 0 for urgent help")
    assert not any("welcome to mindfuse" in h.lower() for h in again.heard)
    mark = again.mark()
    again.press("*")
    again.wait_until_heard("welcome to mindfuse. press 1 or stay on the line", since=mark)
    again.wait_until_heard("für deutsch drücken sie die 9", since=mark)
    again.hang_up()
    again.wait_until_ended()
    assert not first.errors and not again.errors
