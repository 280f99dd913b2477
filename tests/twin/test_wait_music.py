"""A waitUrl document plays once, then silence, unless it loops itself."""

from __future__ import annotations

from tests.twin.support import twiml

ALICE, BOB = "+15550100021", "+447700900022"
SILENCE = "[silence]"


def _lobby(fake_app, wait_doc) -> None:
    """Everyone joins `lobby`, whose waitUrl answers `wait_doc` (TwiML, or form -> TwiML)."""
    fake_app.on(
        "/voice",
        twiml(f'<Dial><Conference waitUrl="{fake_app.url("/wait")}">lobby</Conference></Dial>'),
    )
    fake_app.on("/wait", wait_doc)


def _counting(body: str):
    """A wait document handler that numbers each fetch into its <Say>."""
    count = {"n": 0}

    def answer(form) -> str:
        count["n"] += 1
        return twiml(f"<Say>Countdown {count['n']}.</Say>{body}")

    return answer


def test_a_wait_document_plays_once_then_silence(twin, fake_app):
    _lobby(fake_app, _counting('<Pause length="5"/>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard(SILENCE)  # 5 simulated s = 0.1 s real
    twin.dial(BOB).wait_until_in_conference()
    twin.wait_for(lambda: twin.conference("lobby").status == "in-progress")
    assert len(fake_app.hits_for("/wait")) == 1  # never fetched again
    assert [h for h in alice.heard if h != "[beep]"] == ["Countdown 1.", SILENCE]


def test_a_wait_document_ending_in_a_redirect_to_itself_loops_until_the_room_starts(twin, fake_app):
    _lobby(fake_app, _counting(f'<Pause length="5"/><Redirect>{fake_app.url("/wait")}</Redirect>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard("countdown 3")
    twin.dial(BOB).wait_until_in_conference()
    conference = twin.conference("lobby")
    twin.wait_for(lambda: conference.status == "in-progress")
    fetched = len(fake_app.hits_for("/wait"))
    twin.wait_for(lambda: len(alice.heard) > 0)
    assert SILENCE not in alice.heard
    # The room has started: the countdown stops (at most the fetch in flight finishes).
    heard = [h for h in alice.heard if h.startswith("Countdown")]
    assert len(heard) >= 3 and len(fake_app.hits_for("/wait")) <= fetched + 1
    assert fake_app.hits_for("/wait")[0]["CallSid"] == alice.sid


def test_a_blank_redirect_loops_the_wait_document(twin, fake_app):
    _lobby(fake_app, _counting('<Pause length="5"/><Redirect/>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard("countdown 2")
    assert SILENCE not in alice.heard and not alice.errors


def test_a_looping_play_keeps_the_wait_music_going(twin, fake_app):
    _lobby(fake_app, twiml('<Say>Please wait.</Say><Play loop="0">http://music/x.mp3</Play>'))
    twin.play_seconds = 5  # a short piece: the loop plays it again and again
    alice = twin.dial(ALICE)
    alice.wait_for(lambda: alice.call.heard.count("[play http://music/x.mp3]") >= 3)
    assert SILENCE not in alice.heard and len(fake_app.hits_for("/wait")) == 1


def test_a_piece_of_music_takes_its_time_then_silence(twin, fake_app):
    _lobby(fake_app, twiml("<Play>http://music/x.mp3</Play>"))
    twin.play_seconds = 10
    alice = twin.dial(ALICE)
    alice.wait_until_heard(SILENCE)
    assert alice.heard == ["[play http://music/x.mp3]", SILENCE]
    assert alice.runner.media_seconds >= 10 * twin.time_scale * 0.9


def test_an_empty_wait_url_is_silence(twin, fake_app):
    fake_app.on("/voice", twiml('<Dial><Conference waitUrl="">lobby</Conference></Dial>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard(SILENCE)
    assert fake_app.hits_for("/wait") == []


def test_a_verb_a_wait_document_may_not_hold_is_error_13238_and_silence(twin, fake_app):
    _lobby(fake_app, twiml('<Gather numDigits="1"><Say>Press 1.</Say></Gather>'))
    alice = twin.dial(ALICE)
    alice.wait_until_heard(SILENCE)
    assert [e.code for e in alice.errors] == [13238]
