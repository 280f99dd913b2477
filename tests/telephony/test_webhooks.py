"""Twilio's webhook forms read into typed objects: realistic forms, missing and garbled fields."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequestKeyError

from app.telephony import webhooks
from app.telephony.webhooks import (
    CallRequest,
    CallStatusCallback,
    ConferenceStatusCallback,
    DialResult,
    GatherResult,
    InboundText,
    MessageStatusCallback,
)

CALL_SID = "CA" + "0123456789abcdef" * 2
OTHER_SID = "CA" + "fedcba9876543210" * 2
ACCOUNT = {"AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01"}
STAMP = "Tue, 01 Dec 2026 10:00:03 +0000"
AT = datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC)
GARBLED_NUMBERS = ("abc", "", " ", "-3", "1.5", "1e3", "NaN", "½")
GARBLED_STAMPS = ("Tue, 31 Feb 2099 25:61:61 +9999", "yesterday", "1796000000", "", " ")


def _form(**fields: str) -> MultiDict:
    return MultiDict({**ACCOUNT, **fields})


def _call_status(**overrides: str) -> MultiDict:
    fields = {
        "CallSid": CALL_SID,
        "CallStatus": "completed",
        "From": "+15550100001",
        "To": "+15550100000",
        "Direction": "inbound",
        "CallDuration": "42",
        "Duration": "1",
        "SequenceNumber": "3",
        "Timestamp": STAMP,
        "CallbackSource": "call-progress-events",
    }
    return _form(**(fields | overrides))


def _conference(**overrides: str) -> MultiDict:
    fields = {
        "ConferenceSid": "CF" + "1" * 32,
        "FriendlyName": "room-0123456789abcdef0123",
        "StatusCallbackEvent": "participant-join",
        "CallSid": CALL_SID,
        "Coaching": "false",
        "EndConferenceOnExit": "true",
        "StartConferenceOnEnter": "true",
        "Hold": "false",
        "Muted": "false",
        "SequenceNumber": "2",
        "Timestamp": STAMP,
    }
    return _form(**(fields | overrides))


def _now_window():
    before = datetime.now(UTC)
    return lambda at: before <= at <= datetime.now(UTC)


# --- the CallSid pattern -------------------------------------------------------------------


def test_a_callsid_is_ca_and_32_lowercase_hex_digits():
    assert webhooks.is_call_sid(CALL_SID)


@pytest.mark.parametrize(
    "sid",
    [
        "",
        "CA" + "0" * 31,
        "CA" + "0" * 33,
        "CA" + "ABCDEF0123456789" * 2,
        "CF" + "0" * 32,
        "ca" + "0" * 32,
        CALL_SID + "\n",
        " " + CALL_SID,
    ],
)
def test_anything_else_is_not_a_callsid(sid):
    assert not webhooks.is_call_sid(sid)


# --- lenient numbers and timestamps --------------------------------------------------------


@pytest.mark.parametrize(("raw", "number"), [("7", 7), (" 7 ", 7), ("0", 0), (None, 0), (12, 12)])
def test_whole_numbers_are_read(raw, number):
    assert webhooks.whole_number(raw) == number


@pytest.mark.parametrize("raw", GARBLED_NUMBERS)
def test_garbled_or_negative_numbers_count_as_zero(raw):
    assert webhooks.whole_number(raw) == 0


def test_an_rfc_2822_timestamp_is_read_with_its_offset():
    assert webhooks.parse_timestamp("Tue, 01 Dec 2026 11:00:03 +0100") == AT


def test_a_timestamp_in_utc_with_no_zone_said_is_utc():
    found = webhooks.parse_timestamp("Tue, 01 Dec 2026 10:00:03 -0000")
    assert found == AT and found.tzinfo is not None


@pytest.mark.parametrize("raw", (*GARBLED_STAMPS, None))
def test_a_missing_or_garbled_timestamp_is_now(raw):
    within = _now_window()
    assert within(webhooks.parse_timestamp(raw))


# --- call status callback ------------------------------------------------------------------


def test_call_status_callback_from_a_realistic_form():
    callback = CallStatusCallback.from_form(_call_status())
    assert callback == CallStatusCallback(
        call_sid=CALL_SID,
        call_status="completed",
        from_number="+15550100001",
        sequence=3,
        duration=42,
        at=AT,
    )
    assert callback.ended


def test_call_status_callback_with_nothing_in_it():
    within = _now_window()
    callback = CallStatusCallback.from_form(MultiDict())
    assert (callback.call_sid, callback.call_status, callback.from_number) == ("", "", None)
    assert (callback.sequence, callback.duration) == (0, 0)
    assert within(callback.at) and not callback.ended


@pytest.mark.parametrize("raw", GARBLED_NUMBERS)
def test_call_status_callback_garbled_counters_count_as_zero(raw):
    callback = CallStatusCallback.from_form(_call_status(SequenceNumber=raw, CallDuration=raw))
    assert (callback.sequence, callback.duration) == (0, 0)


@pytest.mark.parametrize("raw", GARBLED_STAMPS)
def test_call_status_callback_bad_timestamp_is_now(raw):
    within = _now_window()
    assert within(CallStatusCallback.from_form(_call_status(Timestamp=raw)).at)


def test_terminal_statuses_are_twilios_five_final_ones():
    ended = webhooks.TERMINAL_STATUSES
    assert ended == frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@pytest.mark.parametrize("status", ["completed", "busy", "failed", "no-answer", "canceled"])
def test_a_terminal_status_means_the_call_ended(status):
    assert CallStatusCallback.from_form(_call_status(CallStatus=status)).ended


@pytest.mark.parametrize(
    "status", ["queued", "initiated", "ringing", "in-progress", "", "Completed", "cancelled"]
)
def test_any_other_status_means_the_call_goes_on(status):
    assert not CallStatusCallback.from_form(_call_status(CallStatus=status)).ended


def test_callbacks_are_frozen():
    callback = CallStatusCallback.from_form(_call_status())
    with pytest.raises(AttributeError):
        callback.call_status = "busy"  # type: ignore[misc]


# --- conference status callback ------------------------------------------------------------


def test_conference_callback_from_a_realistic_form():
    callback = ConferenceStatusCallback.from_form(_conference())
    assert callback == ConferenceStatusCallback(
        event="participant-join",
        room="room-0123456789abcdef0123",
        sequence=2,
        at=AT,
        call_sid=CALL_SID,
        conference_sid="CF" + "1" * 32,
    )
    assert callback.known and callback.participant == CALL_SID


@pytest.mark.parametrize("event", ["participant-join", "participant-leave"])
def test_a_participant_event_names_its_participant(event):
    form = _conference(StatusCallbackEvent=event, CallSid=OTHER_SID)
    assert ConferenceStatusCallback.from_form(form).participant == OTHER_SID


@pytest.mark.parametrize("event", ["conference-start", "conference-end"])
def test_a_rooms_own_event_names_no_participant(event):
    callback = ConferenceStatusCallback.from_form(_conference(StatusCallbackEvent=event))
    assert callback.known and callback.participant is None


@pytest.mark.parametrize("event", ["participant-mute", "conference-recording-completed", ""])
def test_other_conference_events_are_not_known(event):
    assert not ConferenceStatusCallback.from_form(_conference(StatusCallbackEvent=event)).known


def test_conference_callback_with_nothing_in_it():
    within = _now_window()
    callback = ConferenceStatusCallback.from_form(MultiDict())
    assert (callback.event, callback.room, callback.sequence) == ("", "", 0)
    assert callback.call_sid is None and callback.conference_sid is None
    assert within(callback.at) and not callback.known and callback.participant is None


def test_conference_callback_empty_sids():
    callback = ConferenceStatusCallback.from_form(_conference(CallSid="", ConferenceSid=""))
    assert callback.call_sid == "" and callback.participant is None
    assert callback.conference_sid is None


@pytest.mark.parametrize("raw", GARBLED_NUMBERS)
def test_conference_callback_garbled_sequence_counts_as_zero(raw):
    assert ConferenceStatusCallback.from_form(_conference(SequenceNumber=raw)).sequence == 0


@pytest.mark.parametrize("raw", GARBLED_STAMPS)
def test_conference_callback_bad_timestamp_is_now(raw):
    within = _now_window()
    assert within(ConferenceStatusCallback.from_form(_conference(Timestamp=raw)).at)


# --- calls: the incoming call, a menu's keys, a Dial's end --------------------------------


def test_call_request_from_an_incoming_call():
    form = _form(CallSid=CALL_SID, From="+447700900123", To="+15550100000", CallStatus="ringing")
    assert CallRequest.from_form(form) == CallRequest(CALL_SID, "+447700900123")


def test_call_request_without_a_caller_id():
    assert CallRequest.from_form(_form(CallSid=CALL_SID)).from_number is None


@pytest.mark.parametrize("kind", [CallRequest, GatherResult, DialResult])
def test_a_voice_webhook_without_a_callsid_is_a_bad_request(kind):
    with pytest.raises(BadRequestKeyError) as raised:
        kind.from_form(_form(From="+15550100001", Digits="1", CallStatus="in-progress"))
    assert raised.value.code == 400


def test_gather_result_from_a_key_press():
    form = _form(CallSid=CALL_SID, From="+15550100001", Digits="2", FinishedOnKey="")
    assert GatherResult.from_form(form) == GatherResult(CALL_SID, "+15550100001", digits="2")


def test_gather_result_without_digits_is_no_key():
    assert GatherResult.from_form(_form(CallSid=CALL_SID)).digits == ""


def _dial(**overrides: str) -> MultiDict:
    fields = {
        "CallSid": CALL_SID,
        "From": "+15550100001",
        "To": "+15550100000",
        "CallStatus": "in-progress",
        "DialCallStatus": "answered",
        "DialCallSid": OTHER_SID,
        "DialCallDuration": "95",
    }
    return _form(**(fields | overrides))


def test_dial_result_from_a_caller_who_pressed_star():
    result = DialResult.from_form(_dial())
    assert result == DialResult(
        CALL_SID, "+15550100001", call_status="in-progress", dial_call_status="answered"
    )
    assert not result.hung_up


def test_dial_result_from_a_caller_who_hung_up():
    assert DialResult.from_form(_dial(CallStatus="completed")).hung_up


@pytest.mark.parametrize("status", ["", "busy", "canceled", "in-progress"])
def test_dial_result_is_hung_up_only_on_completed(status):
    assert not DialResult.from_form(_dial(CallStatus=status)).hung_up


def test_dial_result_without_a_dial_status_is_taken_as_completed():
    form = _form(CallSid=CALL_SID, CallStatus="in-progress")
    result = DialResult.from_form(form)
    assert result.dial_call_status == "completed" and not result.hung_up


# --- texts ---------------------------------------------------------------------------------


def _text(**overrides: str) -> MultiDict:
    fields = {
        "MessageSid": "SM" + "2" * 32,
        "SmsSid": "SM" + "2" * 32,
        "MessagingServiceSid": "MG" + "3" * 32,
        "From": "+447700900123",
        "To": "+15550100000",
        "Body": "Remind me",
        "NumMedia": "0",
    }
    return _form(**(fields | overrides))


def test_inbound_text_from_a_realistic_form():
    assert InboundText.from_form(_text()) == InboundText(
        message_sid="SM" + "2" * 32, from_number="+447700900123", body="Remind me", opt_out=""
    )


@pytest.mark.parametrize(("raw", "word"), [("STOP", "stop"), ("Start", "start"), ("HELP", "help")])
def test_inbound_text_opt_out_is_lower_cased(raw, word):
    assert InboundText.from_form(_text(Body="stop", OptOutType=raw)).opt_out == word


def test_inbound_text_without_a_body():
    form = _text()
    del form["Body"]
    assert InboundText.from_form(form).body == ""


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
def test_inbound_text_without_sender_or_sid_is_a_bad_request(missing):
    form = _text()
    del form[missing]
    with pytest.raises(BadRequestKeyError):
        InboundText.from_form(form)


def test_message_status_from_a_realistic_form():
    form = _form(MessageSid="SM" + "4" * 32, MessageStatus="undelivered", ErrorCode="30003")
    callback = MessageStatusCallback.from_form(form)
    assert callback == MessageStatusCallback("SM" + "4" * 32, "undelivered", "30003")
    assert callback.final and callback.error_number() == 30003


def test_message_status_with_nothing_in_it():
    callback = MessageStatusCallback.from_form(MultiDict())
    assert (callback.message_sid, callback.status, callback.error_number()) == ("", "", None)
    assert not callback.final


@pytest.mark.parametrize("code", ["oops", "-1", "123456", "9" * 40, "3e4"])
def test_message_status_garbled_error_code_is_left_out(code):
    callback = MessageStatusCallback.from_form(_form(MessageStatus="failed", ErrorCode=code))
    assert callback.final and callback.error_number() is None


@pytest.mark.parametrize("status", ["delivered", "undelivered", "failed", "read"])
def test_final_message_statuses(status):
    assert MessageStatusCallback.from_form(_form(MessageStatus=status)).final


@pytest.mark.parametrize("status", ["accepted", "queued", "sending", "sent", "receiving", ""])
def test_message_statuses_that_move_on(status):
    assert not MessageStatusCallback.from_form(_form(MessageStatus=status)).final


# --- layering ------------------------------------------------------------------------------

DOMAIN = ("app.line", "app.fusing", "app.sms", "app.billing", "app.voice", "app.admin")


@pytest.mark.parametrize(
    "module", sorted(Path(webhooks.__file__).parent.glob("*.py")), ids=lambda p: p.name
)
def test_telephony_imports_no_domain_code(module):
    tree = ast.parse(module.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.startswith(DOMAIN)}
