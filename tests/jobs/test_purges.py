"""Deleting records at Twilio: asked for until Twilio deletes them, with growing waits, never
given up (a warning after a day); texts, replies and inbound texts as well as calls."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.db import db, utcnow
from app.infra import redis
from app.line import purges
from app.line.models import Call, Purge, RecordKind
from app.sms.models import Subscriber, TextMessage
from tests.support import dump_database, dump_redis, twin_call, twin_text
from twin import Twin
from workers.purges import LATE, REPLY_WAIT, purge, sweep_purges

CALLER = "+15550100151"


def _row(sid: str) -> Purge:
    return db.session.scalar(select(Purge).where(Purge.sid == sid))


def _ended_call(sid: str) -> Call:
    call = Call(sid=sid, identity="i" * 64, masked_number="+1 ••• •••• 51", state="ended")
    db.session.add(call)
    db.session.commit()
    return call


def _scheduled() -> list[str]:
    return ScheduledJobRegistry(queue=jobs.PURGE.queue()).get_job_ids()


def test_a_refused_deletion_is_asked_again_later_until_twilio_deletes_it(app, twin_api):
    with app.app_context():
        sid = twin_call(twin_api, CALLER)  # ended just now: Twilio waits a minute (20009)
        call = _ended_call(sid)
        purges.schedule(sid, RecordKind.CALL)
        row = _row(sid)
        assert purge(row.id, 0) == "later"
        assert (row.attempts, row.last_code) == (1, 20009) and call.purged_at is None
        wait = (row.due_at - utcnow()).total_seconds()
        assert purges.next_wait(1) - 2 < wait <= purges.next_wait(1)
        assert f"purge-{row.id}-1" in _scheduled()
        assert purge(row.id, 0) == "stale"  # the first ask, run twice: the second does nothing
        twin_api.delete_settle_seconds = 0  # Twilio has settled the record by now
        assert purge(row.id, 1) == "purged"
        assert call.purged_at is not None and [e.kind for e in call.events] == ["purged"]
        assert _row(sid) is None and twin_api.calls[sid].deleted
        deletes = [r.status for r in twin_api.requests if r.method == "DELETE"]
        assert deletes == [400, 204]


def test_waits_double_up_to_an_hour_and_the_line_keeps_asking(app):
    app.config["PURGE_DELAY_SECONDS"] = 90
    with app.app_context():
        waits = [purges.next_wait(n) for n in range(1, 10)]
        assert waits == [180, 360, 720, 1440, 2880, 3600, 3600, 3600, 3600]


@pytest.mark.parametrize(("status", "code"), [(503, None), (429, 20429), (401, 20003)])
def test_faults_and_refusals_are_asked_again_too(app, twin_api, caplog, status, code):
    with app.app_context():
        sid = twin_call(twin_api, CALLER)
        purges.schedule(sid, RecordKind.CALL)
        twin_api.rest_faults.add(status=status, code=code, times=1, method="DELETE")
        assert purge(_row(sid).id, 0) == "later"
        assert _row(sid).attempts == 1
        permanent = status == 401
        assert ("refused to delete" in caplog.text) == permanent  # said, and still asked again


def test_a_call_or_text_twilio_no_longer_knows_is_done(app, twin_api):
    with app.app_context():
        purges.schedule("CA" + "e" * 32, RecordKind.CALL)
        purges.schedule("SM" + "e" * 32, RecordKind.MESSAGE)
        for row in db.session.scalars(select(Purge)).all():
            assert purge(row.id, 0) == "purged"  # 404 20404: nothing left to delete
        assert db.session.scalar(select(func.count()).select_from(Purge)) == 0


def test_a_text_is_deleted_once_final_and_its_row_says_so(app, twin_api):
    with app.app_context():
        sid = twin_text(twin_api, "+447700900151", status="sent")  # no final status yet
        subscriber = Subscriber(identity="s" * 64, masked_number="+44 ••• •••• 51")
        subscriber.timezone, subscriber.source = "Europe/London", "text"
        text = TextMessage(subscriber=subscriber, kind="reminder", sid=sid, status="sent")
        db.session.add(text)
        db.session.commit()
        purges.schedule(sid, RecordKind.MESSAGE)
        twin_api.delete_settle_seconds = 0
        assert purge(_row(sid).id, 0) == "later"  # 20009: sent, not yet delivered
        with twin_api.cond:
            twin_api.sms.messages[sid].set_status("delivered")
        assert purge(_row(sid).id, 1) == "purged"
        assert text.purged_at is not None and twin_api.sms.messages[sid].deleted


def test_the_sweep_asks_for_lost_asks_only_and_warns_once_after_a_day(app, twin_api, caplog):
    caplog.set_level(logging.WARNING)
    with app.app_context():
        lost, waiting, old = (twin_call(twin_api, CALLER) for _ in range(3))
        for sid in (lost, waiting, old):
            purges.schedule(sid, RecordKind.CALL)
        now = utcnow()
        _row(lost).due_at = now - LATE - timedelta(seconds=1)  # its queued ask never ran
        _row(old).created_at = now - timedelta(days=15)  # refused for two weeks, due later
        db.session.commit()
        twin_api.delete_settle_seconds = 0
        assert sweep_purges() == {"purged": 1, "warned": 1}
        assert _row(lost) is None and _row(waiting).attempts == 0
        assert "still not deleted after a day" in caplog.text and old in caplog.text
        caplog.clear()
        assert sweep_purges() == {"warned": 0}  # warned once; still asked for, never dropped
        assert _row(old) is not None and "after a day" not in caplog.text
        conn = redis.connection()
        conn.set(redis.key("purge-sweep"), 1)  # another sweep is running
        assert sweep_purges() == {"busy": 1}
        conn.delete(redis.key("purge-sweep"))


def test_an_inbound_text_waits_for_its_replies_then_goes(app, twin_api, caplog):
    with app.app_context():
        inbound = twin_text(twin_api, twin_api.phone_number, status="received")
        purges.schedule(inbound, RecordKind.INBOUND_TEXT, replies=1)
        twin_api.delete_settle_seconds = 0
        row = _row(inbound)
        assert purge(row.id, 0) == "later"  # the reply is not listed yet: the text stays
        assert not twin_api.sms.messages[inbound].deleted
        row.created_at = utcnow() - REPLY_WAIT - timedelta(seconds=1)
        db.session.commit()
        assert purge(row.id, 1) == "purged"  # a reply that never showed up: said, and gone
        assert "never showed up" in caplog.text and twin_api.sms.messages[inbound].deleted


def test_junk_is_not_noted(app, caplog):
    with app.app_context():
        purges.schedule("+15550100151", RecordKind.CALL)
        purges.schedule("CA" + "0" * 32, RecordKind.MESSAGE)
        assert db.session.scalar(select(func.count()).select_from(Purge)) == 0
    assert "15550100151" not in caplog.text


@pytest.fixture
def texting(live_server):
    """The line served for real, and a twin whose phones text it (no worker: jobs run here)."""
    config = live_server.app.config
    with Twin(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        phone_number=config["TWILIO_PHONE_NUMBER"],
        sms_url=live_server.url + "/twilio/sms",
    ) as twin:
        config["TWILIO_API_BASE"] = twin.api_base
        yield live_server.app, twin


def test_a_text_to_the_line_and_the_reply_to_it_are_deleted_at_twilio(texting):
    app, twin = texting
    texter = "+447700900152"
    result = twin.send_sms(texter, "hello")  # not a keyword Twilio answers itself
    assert result.status == 200 and len(result.replies) == 1
    twin.wait_for(lambda: twin.inbox(texter))
    twin.delete_settle_seconds = 0  # the wait itself is pinned above
    with app.app_context():
        row = _row(result.sid)
        assert (row.kind, row.replies) == ("inbound_text", 1)
        assert purge(row.id, 0) == "purged"
        reply = db.session.scalar(select(Purge))  # found through the text, noted by its sid
        assert reply.kind == "message" and reply.sid != result.sid
        assert purge(reply.id, 0) == "purged"
    assert all(m.deleted for m in twin.messages) and len(twin.messages) == 2
    digits = texter.lstrip("+")
    assert digits not in dump_database(app) and digits not in dump_redis(app.config["REDIS_URL"])
