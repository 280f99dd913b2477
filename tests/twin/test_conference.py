"""Dial/Conference: meeting, events, hangupOnStar, timeLimit, maxParticipants, REST control."""

from __future__ import annotations

import pytest

from tests.twin.support import twiml
from twin import EventOrder

ALICE, BOB, CAROL = "+15550100011", "+447700900012", "+4915550000013"
EVENTS = "start end join leave mute hold announcement"


def room(fake_app, name="room-1", **dial):
    """TwiML joining a 2-person room the way the app does (hold music, action, events)."""
    dial_attrs = " ".join(f'{k}="{v}"' for k, v in {"action": "/after", **dial}.items())
    return twiml(
        f"<Dial {dial_attrs}>"
        f'<Conference waitUrl="{fake_app.url("/hold")}" maxParticipants="2" '
        f'endConferenceOnExit="true" beep="false" statusCallback="/conf-events" '
        f'statusCallbackEvent="{EVENTS}">{name}</Conference></Dial>'
    )


@pytest.fixture
def line(twin, fake_app):
    """The fake app: everyone goes to room-1; the Dial action says a menu."""
    fake_app.on("/voice", room(fake_app, hangupOnStar="true"))
    fake_app.on("/hold", twiml('<Say>Please wait.</Say><Play loop="0">http://music/x.mp3</Play>'))
    fake_app.on(
        "/after",
        lambda form: twiml(
            f'<Say>Menu after {form["DialCallStatus"]}.</Say><Pause length="1000"/>'
        ),
    )
    return fake_app


def test_two_callers_meet_and_events_are_sequenced(twin, line):
    alice = twin.dial(ALICE)
    assert alice.wait_until_in_conference() == "room-1"
    alice.wait_until_heard("[play http://music/x.mp3]")
    assert alice.heard == ["Please wait.", "[play http://music/x.mp3]"]
    bob = twin.dial(BOB)
    bob.wait_until_in_conference()
    assert twin.conferences() == {"room-1": [alice.sid, bob.sid]}
    conf = twin.conference("room-1")
    twin.wait_for(lambda: conf.status == "in-progress")
    bob.hang_up()
    bob.wait_until_ended()
    alice.wait_until_heard("menu after answered")
    assert alice.conference is None and alice.status == "in-progress"
    assert twin.conferences() == {}
    twin.wait_idle()
    events = line.hits_for("/conf-events")
    names = [(e["StatusCallbackEvent"], e.get("CallSid")) for e in events]
    assert names == [
        ("participant-join", alice.sid),
        ("participant-join", bob.sid),
        ("conference-start", None),
        ("participant-leave", bob.sid),
        ("participant-leave", alice.sid),
        ("conference-end", None),
    ]
    assert [int(e["SequenceNumber"]) for e in events] == [1, 2, 3, 4, 5, 6]
    assert {e["ConferenceSid"] for e in events} == {conf.sid}
    assert {e["FriendlyName"] for e in events} == {"room-1"}
    assert events[0]["EndConferenceOnExit"] == "true" and events[0]["Muted"] == "false"
    assert events[-1]["ReasonConferenceEnded"] == ("participant-with-end-conference-on-exit-left")
    assert events[-1]["CallSidEndingConference"] == bob.sid
    # Bob hung up inside the Dial: Twilio still requests the action, with CallStatus=completed
    after = line.hits_for("/after")
    assert {(a["CallSid"], a["CallStatus"]) for a in after} == {
        (bob.sid, "completed"),
        (alice.sid, "in-progress"),
    }
    # "This parameter is not sent after dialing a conference."
    assert not any("DialCallDuration" in a or "DialCallSid" in a for a in after)


def test_hangup_on_star_leaves_to_the_action(twin, line):
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    alice.press("*")
    alice.wait_until_heard("menu after answered")
    bob.wait_until_heard("menu after answered")  # endConferenceOnExit took Bob out too
    assert twin.conference("room-1").reason_ended.startswith("participant-with-end")


def test_star_is_answered_whatever_the_other_exits_report(twin, line):
    # The docs: after `*`, "when calling a conference, the DialCallStatus will be answered".
    # For a conference that simply ended they are less clear: the knob says "completed".
    twin.knobs.conference_exit_status = "completed"
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    alice.press("*")
    alice.wait_until_heard("menu after answered")
    bob.wait_until_heard("menu after completed")


def test_time_limit_ends_the_dial(twin, fake_app):
    fake_app.on("/voice", room(fake_app, name="short", timeLimit="30"))
    fake_app.on("/hold", twiml(""))
    fake_app.on(
        "/after",
        lambda form: twiml(f"<Say>Time is up: {form['DialCallStatus']}.</Say>"),
    )
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    bob.wait_until_in_conference()
    alice.wait_until_heard("time is up: answered", timeout=5)  # 30 simulated s = 0.6 s real
    assert all("DialCallDuration" not in form for form in fake_app.hits_for("/after"))


def test_max_participants_refuses_a_third_caller(twin, line):
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    carol = twin.dial(CAROL)
    carol.wait_until_heard("menu after failed")
    assert sorted(twin.conferences()["room-1"]) == sorted([alice.sid, bob.sid])


def test_rest_update_redirects_a_caller_out_of_the_conference(twin, line):
    client = twin.client()
    alice = twin.dial(ALICE)
    alice.wait_until_in_conference()
    client.calls(alice.sid).update(twiml="<Response><Say>Nobody is free.</Say></Response>")
    alice.wait_until_heard("nobody is free")
    assert alice.wait_until_ended() == "completed"
    # Measured on a real account: the interrupted Dial's action is requested too, with
    # DialCallStatus=completed; its answer is discarded, the redirect's document plays.
    [after] = line.hits_for("/after")
    assert (after["CallStatus"], after["DialCallStatus"]) == ("in-progress", "completed")
    assert "DialCallDuration" not in after
    assert not any("menu after" in h.lower() for h in alice.heard)
    twin.wait_idle()
    kinds = [e["StatusCallbackEvent"] for e in line.hits_for("/conf-events")]
    assert kinds == ["participant-join", "participant-leave", "conference-end"]


def test_a_redirect_asks_the_dial_action_first_then_plays_its_own_url(twin, line):
    line.on("/moved", twiml('<Say>You were moved.</Say><Pause length="1000"/>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard("please wait")  # alone in the room, hearing its wait document
    twin.client().calls(alice.sid).update(url=line.url("/moved"), method="POST")
    alice.wait_until_heard("you were moved")
    order = [path for path, form in line.hits if path in ("/after", "/moved")]
    assert order == ["/after", "/moved"]
    assert not any("menu after" in h.lower() for h in alice.heard)


def test_with_the_knob_off_a_redirect_asks_no_action(twin, line):
    twin.knobs.redirect_requests_action = False
    alice = twin.dial(ALICE)
    alice.wait_until_in_conference()
    twin.client().calls(alice.sid).update(twiml="<Response><Say>Nobody is free.</Say></Response>")
    alice.wait_until_ended()
    assert line.hits_for("/after") == []


def test_rest_participant_kick_mute_and_announcement(twin, line):
    line.on("/announce", twiml("<Say>One minute left.</Say>"))
    client = twin.client()
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    conf_sid = alice.conference_sid
    parts = client.conferences(conf_sid).participants.list()
    assert {p.call_sid for p in parts} == {alice.sid, bob.sid}
    client.conferences(conf_sid).update(announce_url=line.url("/announce"))
    alice.wait_until_heard("one minute left")
    bob.wait_until_heard("one minute left")
    updated = client.conferences(conf_sid).participants(bob.sid).update(muted=True)
    assert updated.muted is True
    client.conferences(conf_sid).participants(bob.sid).delete()
    bob.wait_until_heard("menu after answered")
    alice.wait_until_heard("menu after answered")
    twin.wait_idle()
    kinds = [e["StatusCallbackEvent"] for e in line.hits_for("/conf-events")]
    assert "announcement-end" in kinds and "participant-mute" in kinds
    assert twin.conference("room-1").reason_ended == (
        "participant-with-end-conference-on-exit-kicked"
    )


def test_rest_conference_completed_ends_everyones_dial(twin, line):
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    conf = twin.client().conferences(alice.conference_sid).update(status="completed")
    assert conf.status == "completed"
    alice.wait_until_heard("menu after answered")
    bob.wait_until_heard("menu after answered")
    assert twin.conference("room-1").reason_ended == "conference-ended-via-api"
    listed = twin.client().conferences.list(friendly_name="room-1", status="completed")
    assert [c.sid for c in listed] == [conf.sid]


def test_queue_timeout_style_redirect_by_url_and_rest_hangup(twin, line):
    line.on(
        "/timeout",
        lambda form: twiml(
            f"<Say>Nobody is free, {form['CallStatus']}.</Say>"
            '<Gather numDigits="1" timeout="1000"><Say>Press 1 to keep waiting.</Say></Gather>'
        ),
    )
    client = twin.client()
    alice, bob = twin.dial(ALICE), twin.dial(CAROL)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    client.calls(alice.sid).update(url=line.url("/timeout"), method="POST")
    alice.wait_until_heard("press 1 to keep waiting")
    assert "Nobody is free, in-progress." in alice.heard
    bob.wait_until_heard("menu after answered")  # Alice's exit ended the room for Bob
    client.calls(bob.sid).update(status="completed")
    assert bob.wait_until_ended() == "completed"
    assert line.hits_for("/timeout")[0]["CallSid"] == alice.sid


def test_participant_announcement_reaches_only_that_caller(twin, line):
    line.on("/whisper", twiml("<Say>Only for you.</Say>"))
    alice, bob = twin.dial(ALICE), twin.dial(BOB)
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    twin.client().conferences(alice.conference_sid).participants(alice.sid).update(
        announce_url=line.url("/whisper")
    )
    alice.wait_until_heard("only for you")
    twin.wait_idle()
    assert not any("only for you" in h.lower() for h in bob.heard)


def test_shuffled_conference_events_arrive_in_any_order_numbered_as_they_fired(twin, line):
    # Each event is a request of its own; the knob holds each back by a random delay.
    twin.knobs.conference_events = EventOrder.SHUFFLED
    twin.knobs.conference_event_jitter, twin.knobs.seed = 0.5, 7
    alice = twin.dial(ALICE)
    alice.wait_until_in_conference()
    bob = twin.dial(BOB)
    bob.wait_until_in_conference()
    bob.hang_up()
    alice.wait_until_heard("menu after answered")
    assert twin.wait_idle()
    events = line.hits_for("/conf-events")
    arrived = [int(e["SequenceNumber"]) for e in events]
    assert sorted(arrived) == [1, 2, 3, 4, 5, 6] and arrived != sorted(arrived)
    fired = [
        e["StatusCallbackEvent"] for e in sorted(events, key=lambda e: int(e["SequenceNumber"]))
    ]
    assert fired == [
        "participant-join",
        "participant-join",
        "conference-start",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
