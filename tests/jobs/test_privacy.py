"""After a call: masking, noting its record for deletion at Twilio; retention into counts."""

from __future__ import annotations

from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.db import db, utcnow
from app.line.models import Call, CallEvent, Conversation, DailyStats, Purge
from app.listeners import roster
from app.listeners.models import ListenerOffer
from app.settings import settings
from workers.privacy import after_call, purge_old


def _ended_call(sid: str, **fields) -> Call:
    call = Call(sid=sid, identity="i" * 64, masked_number="+1 ••• •••• 01", state="ended", **fields)
    db.session.add(call)
    db.session.commit()
    return call


def test_after_a_call_its_record_is_noted_for_deletion_once(app, twin_api):
    with app.app_context():
        call = _ended_call("CA" + "7" * 32)
        assert after_call(call.id) == "purge scheduled"
        assert call.masked_at is not None and call.purged_at is None
        row = db.session.scalar(select(Purge))
        assert (row.sid, row.kind, row.attempts) == (call.sid, "call", 0)
        wait = (row.due_at - row.created_at).total_seconds()
        assert wait == settings.PURGE_DELAY_SECONDS >= 60  # Twilio refuses sooner (20009)
        scheduled = ScheduledJobRegistry(queue=jobs.PURGE.queue())
        assert scheduled.get_job_ids() == [f"purge-{row.id}-0"]
        assert after_call(call.id) == "purge scheduled"  # a retried job notes nothing twice
        assert db.session.scalar(select(func.count()).select_from(Purge)) == 1
        assert len(scheduled.get_job_ids()) == 1
        assert [e.kind for e in call.events] == ["masked"]
        assert not twin_api.requests  # nothing is asked of Twilio before it would accept


def test_no_purge_when_switched_off(app, twin_api):
    app.config["PURGE_TWILIO_RECORDS"] = False
    with app.app_context():
        call = _ended_call("CA" + "9" * 32)
        assert after_call(call.id) == "masked"
        assert db.session.scalar(select(func.count()).select_from(Purge)) == 0
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
                wait_ended_at=old + timedelta(seconds=10),
            )
            db.session.add(CallEvent(call=call, kind="arrived", at=old))
        db.session.add(Conversation(room="old-room", created_at=old))
        recent = _ended_call("CA" + "1" * 32, outcome="paired")
        listener = roster.add("Robin", "+15550100191", ["en"], "Europe/Berlin", "mon 10:00-11:00")
        db.session.flush()
        for started, token in ((old, "w-old"), (utcnow(), "w-new")):
            offer = ListenerOffer(
                listener_id=listener.id, wait_token=token, state="taken", started_at=started
            )
            db.session.add(offer)
        db.session.commit()

        assert purge_old() == 3
        assert purge_old() == 0
        assert db.session.scalar(select(func.count()).select_from(Call)) == 1
        assert db.session.get(Call, recent.id) is not None
        assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 0
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
        assert db.session.scalars(select(ListenerOffer.wait_token)).all() == ["w-new"]
        stats = {s.outcome: s for s in db.session.scalars(select(DailyStats))}
        assert stats["paired"].calls == 2 and stats["timed_out"].calls == 1
        assert stats["paired"].wait_seconds == 20 and stats["paired"].call_seconds == 120
        assert stats["paired"].day == old.date()
