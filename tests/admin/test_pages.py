"""Admin pages with the test client: call log, timeline, CSV, safety, schedule, members, stats."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta

from sqlalchemy import select

from app.admin import stats, zones
from app.admin.labels import MENUS, STEP_LABELS
from app.admin.models import AuditLog
from app.billing.models import Membership
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingDate
from app.line import purges
from app.line.calls import record
from app.line.models import Block, Call, DailyStats, Outcome, Purge, RecordKind, Step
from tests.admin.support import add_call, csrf_token


def _actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()


def test_empty_states(admin_client):
    assert "No calls yet today" in admin_client.get("/admin/").get_data(as_text=True)
    assert "No calls yet" in admin_client.get("/admin/calls").get_data(as_text=True)
    assert "Nobody is blocked right now" in admin_client.get("/admin/safety").get_data(as_text=True)
    assert "Nothing recorded yet" not in admin_client.get("/admin/audit").get_data(as_text=True)


def test_call_log_filters_newest_first_and_exports_the_same(app, admin_client):
    now = utcnow()
    old = add_call(app, "+15550100171", "paired", arrived_at=now - timedelta(days=3))
    timed_out = add_call(app, "+447700900171", "timed_out", arrived_at=now - timedelta(hours=1))
    fusing = add_call(app, "+4915550100171", "paired", mode="fusing", arrived_at=now)
    page = admin_client.get("/admin/calls").get_data(as_text=True)
    rows = [f"/admin/calls/{n}" for n in (fusing, timed_out, old)]
    assert [page.index(r) for r in rows] == sorted(page.index(r) for r in rows)
    assert "+44 ••• •••• 71" in page and "Fusing Hour" in page and "Timed out" in page

    only = admin_client.get("/admin/calls?outcome=timed_out").get_data(as_text=True)
    assert f"/admin/calls/{timed_out}" in only and f'/admin/calls/{old}"' not in only
    fusing_only = admin_client.get("/admin/calls?mode=fusing").get_data(as_text=True)
    assert f"/admin/calls/{fusing}" in fusing_only and f'/admin/calls/{old}"' not in fusing_only
    recent = (now - timedelta(days=1)).date().isoformat()
    ranged = admin_client.get(f"/admin/calls?from={recent}").get_data(as_text=True)
    assert f'/admin/calls/{old}"' not in ranged and f"/admin/calls/{fusing}" in ranged
    none = admin_client.get("/admin/calls?outcome=blocked").get_data(as_text=True)
    assert "No calls match these filters" in none

    export = admin_client.get("/admin/calls.csv?outcome=paired")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [int(r["call_id"]) for r in table] == [fusing, old]
    assert {r["masked_number"] for r in table} == {"+49 ••• •••• 71", "+1 ••• •••• 71"}


def test_call_detail_shows_the_timeline_in_order(app, admin_client):
    call_id = add_call(app, "+15550100172", "paired")
    with app.app_context():
        call = db.session.get(Call, call_id)
        start = call.arrived_at
        for offset, kind, detail in ((2, "menu", "1"), (3, "waiting", None)):
            record(call, kind, detail, at=start + timedelta(seconds=offset))
        record(call, "purged", at=start + timedelta(seconds=90))
        record(call, "matched", "room-1", at=start + timedelta(seconds=9))
        db.session.commit()
    page = admin_client.get(f"/admin/calls/{call_id}").get_data(as_text=True)
    page = page[page.index('<ol class="timeline">') :]
    steps = ["Arrived", "Greeting menu: pressed 1 (talk now)", "Started waiting", "Matched"]
    steps.append("Deleted at Twilio")
    assert [page.index(s) for s in steps] == sorted(page.index(s) for s in steps)
    assert page.count("Arrived") == 1  # the arrival is the call's own row, shown first
    assert "room-1" not in page  # the line's own names for things are not an operator's
    assert admin_client.get("/admin/calls/999999").status_code == 404


def test_manual_membership_grant_and_revoke(app, admin_client):
    call_id = add_call(app, "+15550100173", "not_member")
    page = admin_client.get(f"/admin/calls/{call_id}").get_data(as_text=True)
    assert "Grant membership" in page and "Revoke membership" not in page
    token = csrf_token(admin_client, f"/admin/calls/{call_id}")
    admin_client.post(f"/admin/calls/{call_id}/membership/grant", data={"csrf_token": token})
    with app.app_context():
        member = db.session.scalar(select(Membership))
        assert (member.identity, member.status, member.source) == (
            "id-15550100173",
            "active",
            "manual",
        )
    page = admin_client.get(f"/admin/calls/{call_id}").get_data(as_text=True)
    assert "Offered membership" in page and "active" in page
    assert "Revoke membership" in page and "Grant membership" not in page
    # A grant from a page that was open before is refused: the membership is already there.
    grant = f"/admin/calls/{call_id}/membership/grant"
    again = admin_client.post(grant, data={"csrf_token": token}, follow_redirects=True)
    assert "Already a member." in again.get_data(as_text=True)
    admin_client.post(f"/admin/calls/{call_id}/membership/revoke", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(Membership.status)) == "cancelled"
    assert _actions(app)[-2:] == ["membership_granted", "membership_revoked"]
    counts = admin_client.get("/admin/members").get_data(as_text=True)
    assert 'id="members-cancelled">1<' in counts and 'id="members-manual">1<' in counts


def test_lifting_a_block(app, admin_client):
    with app.app_context():
        block = Block(
            identity="id-x",
            reason="reported by 3 people",
            masked_number="+1 ••• •••• 74",
            expires_at=utcnow() + timedelta(days=30),
        )
        db.session.add(block)
        db.session.commit()
        block_id = block.id
    page = admin_client.get("/admin/safety").get_data(as_text=True)
    assert "+1 ••• •••• 74" in page and "reported by 3 people" in page
    token = csrf_token(admin_client, "/admin/safety")
    response = admin_client.post(f"/admin/blocks/{block_id}/lift", data={"csrf_token": token})
    assert response.location == "/admin/safety"
    assert "Block lifted" in admin_client.get("/admin/safety").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Block, block_id).lifted_at is not None
    assert _actions(app)[-1] == "block_lifted"


def _rule(admin_client, **changes):
    form = {"weekday": "6", "start": "10:00", "zone": "Europe/Berlin", "minutes": "60"}
    form |= {"round_minutes": "12", "csrf_token": csrf_token(admin_client, "/admin/schedule")}
    return admin_client.post("/admin/schedule/rule", data=form | changes)


def test_schedule_rule_is_validated_and_saved(app, admin_client):
    bad = _rule(admin_client, zone="Mars/Olympus", minutes="1")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Unknown time zone" in text
    assert "Number must be between 5 and 600" in text
    assert (
        _rule(admin_client, weekday="5", start="18:30", zone="America/New_York").status_code == 302
    )
    with app.app_context():
        rule = sessions.rule_row()
        assert (rule.weekday, rule.start_time, rule.timezone) == (
            5,
            time(18, 30),
            "America/New_York",
        )
    assert _actions(app)[-1] == "schedule_changed"
    assert "Every <strong>Saturday</strong>" in admin_client.get("/admin/schedule").get_data(True)


def test_one_off_and_cancelled_dates(app, admin_client):
    with app.app_context():
        sessions.change_rule(weekday=6)  # Sundays
    token = csrf_token(admin_client, "/admin/schedule")
    extra = date.today() + timedelta(days=3)
    if extra.weekday() == 6:  # a one-off on a day of its own, not one the Sunday rule holds
        extra += timedelta(days=1)
    data = {"day": extra.isoformat(), "start": "20:00", "minutes": "", "csrf_token": token}
    assert admin_client.post("/admin/schedule/dates", data=data).status_code == 302
    sunday = date.today() + timedelta(days=(6 - date.today().weekday()) % 7 + 7)
    monday = sunday + timedelta(days=1)
    for day in (sunday, extra):
        cancel = {"day": day.isoformat(), "csrf_token": token}
        answer = admin_client.post("/admin/schedule/cancel", data=cancel, follow_redirects=True)
        flashed = answer.get_data(as_text=True)
        assert f"Fusing Hour on {day:%A %d %B %Y} cancelled." in flashed
        assert "Schedule saved." not in flashed
    refused = admin_client.post("/admin/schedule/cancel", data={"day": monday, "csrf_token": token})
    assert refused.status_code == 400 and "There is no Fusing Hour on" in refused.get_data(True)
    with app.app_context():
        rows = db.session.scalars(select(FusingDate)).all()
        assert [(r.day, r.kind) for r in rows] == [(sunday, "cancelled")]
    assert _actions(app)[-3:] == ["date_added", "date_cancelled", "date_cancelled"]


def test_charts_count_calls_waits_and_retained_days(app, admin_client):
    now = utcnow()
    for seconds, outcome in ((10, "paired"), (20, "paired"), (50, "timed_out")):
        add_call(
            app,
            "+15550100175",
            outcome,
            arrived_at=now - timedelta(minutes=5),
            matched_at=now - timedelta(minutes=5) + timedelta(seconds=5 + seconds),
            wait_ended_at=now - timedelta(minutes=5) + timedelta(seconds=5 + seconds),
        )
    with app.app_context():
        old_day = (now - timedelta(days=200)).date()
        db.session.add(DailyStats(day=old_day, mode="pairing", outcome="paired", calls=7))
        db.session.commit()
    with app.test_request_context():
        hourly = stats.chart_data(stats.PERIODS["24h"])
        yearly = stats.chart_data(stats.PERIODS["365d"])
    volume = dict(hourly["volume"])
    assert sum(volume["Paired"]) == 2 and sum(volume["Timed out"]) == 1
    assert hourly["share"] == [["Paired", 2], ["Timed out", 1]]
    # All three fall in one hourly bucket: the last, or the one before just after the hour.
    assert [p for p in hourly["p50"] if p is not None] == [20]
    assert [p for p in hourly["p90"] if p is not None] == [50]
    assert yearly["total"] == 3 + 7 and yearly["retained"] is True
    assert stats.percentile([], 0.5) is None
    page = admin_client.get("/admin/?period=30d").get_data(as_text=True)
    assert 'id="chart-volume"' in page and "chart.umd.min.js" in page


TURN_AWAYS = (  # calls.turn_away
    Outcome.BLOCKED,
    Outcome.RATE_LIMITED,
    Outcome.NOT_MEMBER,
    Outcome.CALLBACK_ASKED,
)


def test_every_timeline_step_and_turn_away_has_a_label_an_operator_reads():
    labelled = {*STEP_LABELS, *MENUS}
    unlabelled = [kind for kind in (*Step, *TURN_AWAYS) if kind not in labelled]
    assert unlabelled == []


def test_line_health_shows_the_records_still_to_delete_at_twilio(app, admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert '<strong id="purges-pending">0</strong>' in page and "no record left there" in page
    with app.app_context():
        for sid in ("CA" + "a" * 32, "SM" + "b" * 32):
            purges.schedule(sid, RecordKind.CALL if sid.startswith("CA") else RecordKind.MESSAGE)
        oldest = db.session.scalar(select(Purge).where(Purge.sid.startswith("CA")))
        oldest.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    with app.test_request_context():  # the admin's zone: the Fusing Hour rule's by default
        since = zones.local(oldest.created_at, "%a %d %b, %H:%M")
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert '<strong id="purges-pending">2</strong>' in page
    assert f"records · oldest since {since}" in page
