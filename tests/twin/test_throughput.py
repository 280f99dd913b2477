"""Sending rate: each sender's queue leaves at its rate, on the twin's time scale; Twilio's
10-hour queue limit (21611, 30001) and ValidityPeriod (30036); Messaging Service sends."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.twin.support import LINE
from twin import MessagingService

PHONE = "+447700900041"


def _send(tw, count: int, body: str = "Reminder", **options) -> list:
    client, sent = tw.client(), []
    for _ in range(count):
        sent.append(client.messages.create(to=PHONE, from_=LINE, body=body, **options))
    return sent


def _leaving_times(tw, sids) -> list[float]:
    assert tw.wait_idle(10)
    by_sid = {m.sid: m for m in tw.messages}
    return [by_sid[sid].date_sent.timestamp() for sid in sids]


def test_a_long_code_sends_one_segment_per_simulated_second(twin_with):
    tw = twin_with(time_scale=0.1)
    sent = _send(tw, 5)
    assert [m.status for m in sent] == ["queued"] * 5
    left = _leaving_times(tw, [m.sid for m in sent])
    assert left[-1] - left[0] >= 4 * 0.1 - 0.02  # four gaps of one simulated second
    assert all(m.status == "delivered" for m in tw.messages)


def test_a_long_text_takes_a_second_per_segment(twin_with):
    tw = twin_with(time_scale=0.1)
    first, second = _send(tw, 1, body="x" * 200) + _send(tw, 1)
    assert first.num_segments == "2"
    left = _leaving_times(tw, [first.sid, second.sid])
    assert left[1] - left[0] >= 2 * 0.1 - 0.02


def test_a_faster_rate_is_a_knob(twin_with):
    tw = twin_with(time_scale=0.1, sms_rate=10)
    left = _leaving_times(tw, [m.sid for m in _send(tw, 5)])
    assert left[-1] - left[0] < 4 * 0.1


def test_a_from_number_holding_ten_hours_of_texts_is_refused_with_21611(twin_with):
    tw = twin_with(time_scale=1, sms_rate=0.001)  # 10 hours are 36 segments at this rate
    client = tw.client()
    for _ in range(37):
        client.messages.create(to=PHONE, from_=LINE, body="Reminder")
    with pytest.raises(TwilioRestException) as full:
        client.messages.create(to=PHONE, from_=LINE, body="Reminder")
    assert (full.value.status, full.value.code) == (400, 21611)


def test_a_service_message_that_cannot_leave_within_ten_hours_fails_with_30001(twin_with, fake_app):
    tw = twin_with(time_scale=1, sms_rate=0.001, messaging_service=MessagingService())
    client = tw.client()
    sent = [
        client.messages.create(
            to=PHONE,
            messaging_service_sid=MessagingService().sid,
            body="Reminder",
            status_callback=fake_app.url("/sms-status"),
        )
        for _ in range(38)
    ]
    assert all(m.status == "accepted" and m.from_ is None for m in sent)
    tw.wait_for(lambda: [m for m in tw.messages if m.status == "failed"])
    failed = [m for m in tw.messages if m.status == "failed"]
    assert [m.error_code for m in failed] == [30001] and failed[0].sid == sent[-1].sid

    def hits():
        return [h for h in fake_app.hits_for("/sms-status") if h["MessageSid"] == sent[-1].sid]

    tw.wait_for(lambda: len(hits()) == 2)
    assert [(h["MessageStatus"], h.get("ErrorCode")) for h in hits()] == [
        ("queued", None),
        ("failed", "30001"),
    ]


def test_a_message_waiting_past_its_validity_period_fails_with_30036(twin_with, fake_app):
    tw = twin_with(time_scale=0.1)
    _send(tw, 8)  # eight simulated seconds queued ahead
    late = _send(tw, 1, validity_period=2, status_callback=fake_app.url("/sms-status"))[0]
    assert tw.wait_idle(5)
    fetched = tw.client().messages(late.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 30036)
    assert PHONE not in [m.to for m in tw.messages if m.sid == late.sid and m.date_sent]
    assert [h["MessageStatus"] for h in fake_app.hits_for("/sms-status")] == ["failed"]
    assert len(tw.inbox(PHONE)) == 8


@pytest.mark.parametrize("validity", ["0", "36001", "soon"])
def test_a_validity_period_out_of_range_is_refused(twin, validity):
    with pytest.raises(TwilioRestException) as bad:
        _send(twin, 1, validity_period=validity)
    assert bad.value.code == 21624


def test_a_messaging_service_spreads_a_wave_over_its_numbers(twin_with, fake_app):
    pool = ("+15550100091", "+15550100092", "+15550100093")
    service = MessagingService(senders=pool)
    tw = twin_with(time_scale=0.1, messaging_service=service)
    client = tw.client()
    sent = [
        client.messages.create(to=PHONE, messaging_service_sid=service.sid, body="Reminder")
        for _ in range(8)
    ]
    left = _leaving_times(tw, [m.sid for m in sent])
    assert max(left) - min(left) < 3 * 0.1 + 0.05  # four numbers: two rounds, not eight
    assert {m.from_ for m in tw.messages} == {LINE, *pool}


def test_an_unknown_messaging_service_is_refused_with_21701(twin):
    with pytest.raises(TwilioRestException) as unknown:
        twin.client().messages.create(to=PHONE, messaging_service_sid="MG" + "1" * 32, body="x")
    assert unknown.value.code == 21701
