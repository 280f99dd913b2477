"""Say, Gather, Redirect, Hangup, Pause, errors: single-caller flows through the twin."""

from __future__ import annotations

from tests.twin.conftest import LINE, twiml

CALLER = "+15550100001"


def test_say_and_hangup_sends_signed_fields_and_status_callback(twin, fake_app):
    fake_app.on("/voice", twiml("<Say>Welcome to the line.</Say><Hangup/><Say>never</Say>"))
    caller = twin.dial(CALLER)
    assert caller.wait_until_ended() == "completed"
    assert caller.heard == ["Welcome to the line."]
    first = fake_app.hits_for("/voice")[0]
    assert first["CallSid"] == caller.sid and caller.sid.startswith("CA") and len(caller.sid) == 34
    assert first["From"] == CALLER and first["To"] == LINE and first["Caller"] == CALLER
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["AccountSid"] == twin.account_sid and first["ApiVersion"] == "2010-04-01"
    assert twin.wait_idle()
    status = fake_app.hits_for("/status")
    assert len(status) == 1
    assert status[0]["CallStatus"] == "completed" and status[0]["CallSid"] == caller.sid
    assert status[0]["CallDuration"].isdigit() and "Timestamp" in status[0]
    assert status[0]["SequenceNumber"] == "0"
