from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from app import urls
from app.db import db, utcnow
from app.line import calls, pool
from app.line.models import Call, CallMode, CallState, Conversation
from tests.support import PUBLIC, call_form, sign, spoken, twiml


def test_incoming_call_gets_greeting_and_one_key_menu(twilio, app):
    form = call_form()
    before = utcnow()
    root = twiml(twilio.post("/twilio/voice", form))
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    action, stamp = gather.get("action").split("?arrived=")
    assert action == PUBLIC + "/twilio/voice/menu"
    assert "Press 1" in spoken(root) and "2 for the Fusing Hour" in spoken(root)
    assert root.find("Redirect").text == f"{PUBLIC}/twilio/voice/wait?arrived={stamp}"
    with app.app_context():  # the greeting writes nothing: the next webhook records the call
        assert db.session.scalar(select(func.count()).select_from(Call)) == 0
    twiml(twilio.post(f"/twilio/voice/menu?arrived={stamp}", {**form, "Digits": "2"}))
    with app.app_context():
        call = db.session.scalar(select(Call))
        assert call.sid == form["CallSid"] and call.state == "arrived"
        assert call.masked_number == "+1 ••• •••• 01" and call.menu_choice == "2"
        arrived = call.arrived_at
        assert arrived == datetime.fromtimestamp(int(stamp) / 1000, UTC)
        assert before - timedelta(seconds=1) <= arrived <= utcnow()


def test_a_retried_greeting_and_a_retried_key_keep_one_call(twilio, app):
    form = call_form()
    first = twilio.post("/twilio/voice", form)
    again = twilio.post("/twilio/voice", form)
    assert first.status_code == again.status_code == 200
    action = twiml(again).find("Gather").get("action").removeprefix(PUBLIC)
    for _ in range(2):  # the key's webhook retried: the second finds the row the first wrote
        twilio.post(action, {**form, "Digits": "2"})
    with app.app_context():
        calls = db.session.scalars(select(Call)).all()
        assert [c.sid for c in calls] == [form["CallSid"]]
        assert [e.kind for e in calls[0].events] == ["menu", "menu"]  # arrival: the row itself


def test_an_arrival_is_the_stored_row_with_its_defaults_read_on_demand(app):
    sid = call_form()["CallSid"]
    with app.test_request_context():
        caller = calls.caller_of(sid, "+15550100042")
        call = calls.arrive(sid, caller)
        assert not db.session.dirty and not db.session.new
        assert call.masked_number == "+1 ••• •••• 42" and call.withheld is False
        assert (
            call.state == CallState.ARRIVED and call.arrived_at is not None and call.outcome is None
        )
        assert db.session.scalar(select(Call).where(Call.sid == sid)) is call
        assert calls.arrive(sid, caller) is call  # a retry finds the same row


def test_an_arrival_time_that_is_not_one_is_ignored():
    assert calls.arrival_time("1796000000123") == datetime(2026, 11, 30, 0, 53, 20, 123000, UTC)
    for stamp in (None, "", "soon", "1.5e12", "9" * 40):
        assert calls.arrival_time(stamp) is None


def test_forged_or_unsigned_requests_get_403_and_change_nothing(twilio, client, app):
    form = call_form()
    assert client.post("/twilio/voice", data=form).status_code == 403
    assert twilio.post("/twilio/voice", form, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    wrong_url = sign("http://elsewhere.test/twilio/voice", form)
    assert twilio.post("/twilio/voice", form, signature=wrong_url).status_code == 403
    tampered = sign(PUBLIC + "/twilio/voice", form)
    assert (
        twilio.post("/twilio/voice", {**form, "From": "+15550100099"}, tampered).status_code == 403
    )
    for path in ("/twilio/voice/menu", "/twilio/voice/status", "/twilio/voice/conference"):
        assert client.post(path, data=form).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Call)) == 0


def test_signature_covers_the_raw_query_string(twilio, client):
    path = "/twilio/voice?note=a%20b%2Fc"
    form = call_form()
    good = sign(PUBLIC + path, form)
    assert client.post(path, data=form, headers={"X-Twilio-Signature": good}).status_code == 200
    unescaped = sign(PUBLIC + "/twilio/voice?note=a b/c", form)
    assert (
        client.post(path, data=form, headers={"X-Twilio-Signature": unescaped}).status_code == 403
    )


def test_malformed_form_gets_400(twilio):
    assert twilio.post("/twilio/voice", {"From": "+15550100001"}).status_code == 400


def test_menu_two_tells_about_the_fusing_hour(twilio):
    form = call_form()
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "2"}))
    assert "Fusing Hour" in spoken(root)
    assert "next Fusing Hour is" in spoken(root) and "Central European Time" in spoken(root)
    assert root.find("Gather").get("action") == PUBLIC + "/twilio/voice/info/choice"
    root = twiml(twilio.post("/twilio/voice/info/choice", {**form, "Digits": "2"}))
    assert "text to confirm" in spoken(root)
    root = twiml(twilio.post("/twilio/voice/info/choice", {**form, "Digits": "1"}))
    assert root.find("Dial/Conference") is not None


def test_an_unknown_key_repeats_the_menu(twilio, app):
    form = call_form()
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "7"}))
    assert "that key does nothing" in spoken(root) and "Press 1" in spoken(root)
    assert root.find("Gather").get("action") == PUBLIC + "/twilio/voice/menu"
    with app.app_context():
        assert pool.waiting_count() == 0


def _start(twilio, number, digits="1"):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return form, twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": digits}))


def test_a_wait_time_out_in_fractions_of_a_second_still_gives_a_whole_time_limit(twilio, app):
    app.config["WAIT_TIMEOUT_SECONDS"] = 0.25  # a benchmark's compressed clock
    _, waiting = _start(twilio, "+15550100002")
    limit = waiting.find("Dial").get("timeLimit")
    assert limit.isdigit() and int(limit) > app.config["CONVERSATION_LIMIT_SECONDS"]


def test_first_caller_waits_alone_and_second_joins_the_same_room(twilio, app):
    first, waiting = _start(twilio, "+15550100001")
    dial = waiting.find("Dial")
    room = dial.find("Conference")
    assert dial.get("hangupOnStar") == "true"
    assert dial.get("action") == PUBLIC + "/twilio/voice/after"
    assert int(dial.get("timeLimit")) > 0
    assert room.get("maxParticipants") == "2"
    assert room.get("endConferenceOnExit") == "true"
    assert room.get("waitUrl") == PUBLIC + "/twilio/voice/hold"
    assert room.get("statusCallback") == PUBLIC + "/twilio/voice/conference#" + urls.RETRIES
    second, joining = _start(twilio, "+447700900123")
    assert joining.find("Dial/Conference").text == room.text
    assert "Connecting" in spoken(joining)
    with app.app_context():
        calls = db.session.scalars(select(Call).order_by(Call.id)).all()
        assert [c.state for c in calls] == ["matched", "matched"]
        assert all(c.outcome == "paired" and c.room == room.text for c in calls)
        conversation = db.session.scalar(select(Conversation).where(Conversation.room == room.text))
        assert {p.call.sid for p in conversation.participants} == {
            first["CallSid"],
            second["CallSid"],
        }
        assert pool.waiting_count() == 0
        # The second caller found someone waiting: no room of their own, no wait at all.
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
        assert [e.kind for e in calls[1].events] == ["menu", "matched"]
        assert calls[1].wait_seconds == 0 and calls[1].wait_token is None
        assert [e.kind for e in calls[0].events] == ["menu", "waiting", "matched"]


def test_a_caller_whose_partner_left_keeps_that_on_the_timeline_past_a_stale_waiter(twilio, app):
    stale, _ = _start(twilio, "+15550100003")
    with app.app_context():  # still in the pool, but no longer waiting
        db.session.execute(update(Call).where(Call.sid == stale["CallSid"]).values(state="ended"))
        db.session.commit()
    form = call_form("+15550100004")
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/partner-gone", form))
    assert root.find("Dial/Conference") is not None
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
        assert call.state == "waiting"
        assert [e.kind for e in call.events] == ["partner_gone", "waiting"]


def test_a_listener_whose_caller_left_before_they_met_is_thanked_and_never_waits(twilio, app):
    form = call_form("+15550100005")
    twilio.post("/twilio/voice", form)
    with app.app_context():
        call = calls.current(form["CallSid"], form["From"])
        call.state, call.mode = CallState.MOVED, CallMode.LISTENER
        db.session.commit()
    root = twiml(twilio.post("/twilio/voice/partner-gone", form))
    assert root.find("Dial") is None and root.find("Hangup") is not None
    assert "no longer waiting" in spoken(root)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
        assert call.state == CallState.MOVED and call.wait_token is None
        assert pool.waiting_count() == 0


def test_no_input_at_the_greeting_means_talk_now(twilio):
    form = call_form()
    twilio.post("/twilio/voice", form)
    root = twiml(twilio.post("/twilio/voice/wait", form))
    assert root.find("Dial/Conference") is not None


def test_a_caller_is_never_paired_with_themself(twilio, app):
    _start(twilio, "+15550100007")
    _, again = _start(twilio, "+15550100007")
    assert "Finding someone" in spoken(again)
    with app.app_context():
        assert pool.waiting_count() == 2


def test_withheld_callers_are_served_and_paired(twilio, app):
    _start(twilio, "anonymous")
    _, second = _start(twilio, "+266696687")
    assert "Connecting" in spoken(second)
    with app.app_context():
        calls = db.session.scalars(select(Call)).all()
        assert all(c.withheld and c.masked_number == "withheld" for c in calls)
        assert calls[0].identity != calls[1].identity


def test_hold_music_is_a_looping_play(twilio):
    root = twiml(twilio.post("/twilio/voice/hold", {"CallSid": "CA1"}))
    assert root.find("Play").get("loop") == "0"


def test_hourly_limit_slows_down_a_repeat_caller(twilio, app, within_one_hour):
    app.config["CALLS_PER_HOUR_LIMIT"] = 2
    for _ in range(2):
        assert (
            twiml(twilio.post("/twilio/voice", call_form("+15550100011"))).find("Gather")
            is not None
        )
    root = twiml(twilio.post("/twilio/voice", call_form("+15550100011")))
    assert "take a break" in spoken(root) and root.find("Hangup") is not None
    assert twiml(twilio.post("/twilio/voice", call_form("+15550100012"))).find("Gather") is not None


def test_calls_in_one_millisecond_are_counted_in_the_order_they_came(app):
    app.config["CALLS_PER_HOUR_LIMIT"] = 1
    at, identity = utcnow(), "i" * 64
    with app.test_request_context():
        first = calls.count_arrival("CA" + "f" * 32, identity, at)
        second = calls.count_arrival("CA" + "0" * 32, identity, at)  # a CallSid sorting first
        again = calls.count_arrival("CA" + "f" * 32, identity, at)  # a retry of the first
    assert not first.over_limit
    assert second.over_limit
    assert not again.over_limit


def test_a_call_sid_that_is_not_twilios_gets_400(twilio, app):
    for sid in ("CA" + "0" * 200, "XX" + "0" * 32, "", "CA12"):
        assert twilio.post("/twilio/voice", {**call_form(), "CallSid": sid}).status_code == 400
    with app.app_context():
        assert pool.waiting_count() == 0


def test_a_key_press_repeated_after_a_match_keeps_the_room_and_pairs_nobody_else(twilio, app):
    # A balancer sends a request again to another host when the first died mid-request (it
    # may have paired the caller already): the repeat gives the same room, takes nobody else.
    first, waiting = _start(twilio, "+15550100001")
    second, joining = _start(twilio, "+447700900123")
    third, _ = _start(twilio, "+15550100003")  # waiting: a repeat must not take them
    again = twiml(twilio.post("/twilio/voice/menu", {**second, "Digits": "1"}))
    assert again.find("Dial/Conference").text == joining.find("Dial/Conference").text
    with app.app_context():
        states = [c.state for c in db.session.scalars(select(Call).order_by(Call.id))]
        assert states == ["matched", "matched", "waiting"]
        assert pool.waiting_count() == 1
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 2
