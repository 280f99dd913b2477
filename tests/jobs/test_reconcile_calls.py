"""Jobs that keep the database true to Twilio when callbacks or REST calls fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.line import pool
from app.line.models import Call
from app.line.pairing import restore_waiting
from app.telephony.rest import TelephonyError
from workers.waiting import expire_wait, reconcile_calls


def _call(state: str, **fields) -> Call:
    call = Call(
        sid="CA" + state[:4].ljust(32, "0"),
        identity="i" * 64,
        masked_number="+1 ••• •••• 01",
        state=state,
        arrived_at=utcnow() - timedelta(minutes=5),
        **fields,
    )
    db.session.add(call)
    db.session.commit()
    return call


def test_a_call_whose_end_was_missed_is_closed_after_asking_twilio(app, twin_api):
    with app.app_context():
        call = _call("matched")
        assert reconcile_calls() == {"checked": 1, "ended": 1}
        assert call.state == "ended" and call.ended_at is not None
        assert any(r.method == "GET" and call.sid in r.path for r in twin_api.requests)
        assert reconcile_calls() == {"checked": 0, "ended": 0}


def test_a_redirect_that_keeps_failing_is_recorded_on_the_call(app, twin_api):
    with app.app_context():
        started = utcnow() - timedelta(minutes=2)
        call = _call("waiting", wait_token="t" * 16, room="room-t", wait_started_at=started)
        restore_waiting(call)  # in the pool, as a waiting caller is
        twin_api.rest_faults.add(status=500, times=5, method="POST")
        with pytest.raises(TelephonyError):
            expire_wait(call.id, call.wait_token)
        call = db.session.scalar(select(Call))
        # Twilio stays unreachable: the caller waits in the pool again, so a newcomer can meet them
        assert call.state == "waiting" and pool.is_waiting(call.wait_token)
        assert [e.detail for e in call.events if e.kind == "redirect_failed"] == [
            "timeout_redirect: HTTP 500"
        ]
