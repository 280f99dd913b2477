"""The masking and purge job's retries, and retention into daily counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.line.models import Call, CallEvent, Conversation, DailyStats
from app.telephony.rest import TelephonyError
from workers.privacy import after_call, purge_old


def _ended_call(sid: str, **fields) -> Call:
    call = Call(sid=sid, identity="i" * 64, masked_number="+1 ••• •••• 01", state="ended", **fields)
    db.session.add(call)
    db.session.commit()
    return call


def test_purge_retries_on_server_errors_and_treats_404_as_done(app, twin_api):
    with app.app_context():
        call = _ended_call("CA" + "7" * 32)
        twin_api.rest_faults.add(status=503, times=1, method="DELETE")
        with pytest.raises(TelephonyError) as raised:
            after_call(call.id)  # RQ retries the job with backoff
        assert raised.value.retryable
        assert call.masked_at is not None and call.purged_at is None
        assert after_call(call.id) == "purged"  # unknown at Twilio: 404, which is done
        assert call.purged_at is not None
        assert after_call(call.id) == "masked"  # idempotent: nothing more to do
        deletes = [r for r in twin_api.requests if r.method == "DELETE"]
        assert len(deletes) == 2


def test_purge_gives_up_on_a_client_error_and_records_it(app, twin_api):
    with app.app_context():
        call = _ended_call("CA" + "8" * 32)
        twin_api.rest_faults.add(status=400, times=1, method="DELETE")
        assert after_call(call.id) == "failed"
        assert [e.kind for e in call.events][-1] == "purge_failed"


def test_no_purge_when_switched_off(app, twin_api):
    app.config["PURGE_TWILIO_RECORDS"] = False
    with app.app_context():
        call = _ended_call("CA" + "9" * 32)
        assert after_call(call.id) == "masked"
    assert not [r for r in twin_api.requests if r.method == "DELETE"]


def test_retention_folds_old_calls_into_daily_counts_once(app):
    old = utcnow() - timedelta(days=120)
    with app.app_context():
        for index, outcome in enumerate(["paired", "paired", "timed_out"]):
            call = _ended_call(
                f"CA{index:032d}",
                outcome=outcome,
                arrived_at=old,
                duration_seconds=60,
                wait_started_at=old,
                matched_at=old + timedelta(seconds=10),
            )
            db.session.add(CallEvent(call=call, kind="arrived", at=old))
        db.session.add(Conversation(room="old-room", created_at=old))
        recent = _ended_call("CA" + "1" * 32, outcome="paired")
        db.session.commit()

        assert purge_old() == 3
        assert purge_old() == 0
        assert db.session.scalar(select(func.count()).select_from(Call)) == 1
        assert db.session.get(Call, recent.id) is not None
        assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 0
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
        stats = {s.outcome: s for s in db.session.scalars(select(DailyStats))}
        assert stats["paired"].calls == 2 and stats["timed_out"].calls == 1
        assert stats["paired"].wait_seconds == 20 and stats["paired"].call_seconds == 120
        assert stats["paired"].day == old.date()
