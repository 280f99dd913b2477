"""The admin's roster of volunteer listeners: added (number kept encrypted, shown masked),
paused, resumed and removed, each audited; bad hours, zones and forged forms change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.models import AuditLog
from app.db import db
from app.infra.crypto import decrypt
from app.listeners.models import Listener
from tests.admin.support import csrf_token
from tests.support import dump_database, forget_redis, queued

NUMBER = "+15550100171"


def _add(admin_client, **fields):
    form = {
        "alias": "Robin",
        "number": NUMBER,
        "languages": ["en", "de"],
        "time_zone": "Europe/Berlin",
        "hours": "mon-fri 18:00-22:00, sun 09:00-12:00",
        **fields,
    }
    form["csrf_token"] = csrf_token(admin_client, "/admin/listeners")
    return admin_client.post("/admin/listeners", data=form)


def _rows(app) -> list[Listener]:
    with app.app_context():
        found = db.session.scalars(select(Listener)).all()
        db.session.expunge_all()
        return found


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_the_admin_adds_pauses_resumes_and_removes_a_listener(app, admin_client):
    assert _add(admin_client).status_code == 302
    (row,) = _rows(app)
    with app.app_context():
        assert decrypt(row.number_encrypted) == NUMBER
    assert row.language_codes == ["en", "de"] and not row.paused
    assert "5550100171" not in dump_database(app)
    page = admin_client.get("/admin/listeners").get_data(as_text=True)
    assert "Robin" in page and row.masked_number in page and NUMBER not in page
    for what, paused in (("pause", True), ("resume", False)):
        with app.app_context():
            forget_redis(app)
        token = csrf_token(admin_client, "/admin/listeners")
        admin_client.post(f"/admin/listeners/{row.id}/{what}", data={"csrf_token": token})
        assert _rows(app)[0].paused is paused
        with app.app_context():  # resumed: offered at once to whoever waits, and call-backs
            assert [a for a, _ in queued("serve_waiting")] == ([] if paused else [()])
    token = csrf_token(admin_client, "/admin/listeners")
    admin_client.post(f"/admin/listeners/{row.id}/remove", data={"csrf_token": token})
    assert _rows(app) == []
    assert _actions(app)[-4:] == [
        "listener_added",
        "listener_paused",
        "listener_resumed",
        "listener_removed",
    ]


def test_hours_a_zone_or_a_number_not_understood_are_refused(app, admin_client):
    assert _add(admin_client, hours="weekdays evenings").status_code == 400
    assert _add(admin_client, time_zone="Mars/Olympus").status_code == 400
    assert _add(admin_client, number="5550100").status_code == 400
    assert _add(admin_client).status_code == 302
    again = _add(admin_client, alias="Robin again")  # the same number twice
    assert again.status_code == 400 and "already" in again.get_data(as_text=True)
    assert len(_rows(app)) == 1


def test_a_forged_form_changes_nothing(app, admin_client):
    _add(admin_client)
    (row,) = _rows(app)
    response = admin_client.post(f"/admin/listeners/{row.id}/pause", data={"csrf_token": "x"})
    assert response.status_code == 400
    assert not _rows(app)[0].paused and "listener_paused" not in _actions(app)


def test_the_call_log_shows_a_listeners_call_as_such_and_the_caller_that_one_took_it(
    app, admin_client
):
    from app.line.calls import record  # noqa: PLC0415
    from app.line.models import Call  # noqa: PLC0415
    from tests.admin.support import add_call  # noqa: PLC0415

    listener_call = add_call(app, "+15550100173", "paired", mode="listener")
    caller_call = add_call(app, "+447700900173", "paired")
    with app.app_context():
        record(db.session.get(Call, caller_call), "listener_joined", "1")
        record(db.session.get(Call, listener_call), "listener", "1")
        db.session.commit()
    log = admin_client.get("/admin/calls").get_data(as_text=True)
    assert "Volunteer listener" in log
    assert "Volunteer listener" in admin_client.get("/admin/calls?mode=listener").get_data(
        as_text=True
    )
    page = admin_client.get(f"/admin/calls/{caller_call}").get_data(as_text=True)
    assert "A volunteer listener took the call" in page
    page = admin_client.get(f"/admin/calls/{listener_call}").get_data(as_text=True)
    assert "A volunteer listener, answered with 1 to take a waiting caller" in page


def test_the_roster_speaks_the_admins_language(app, admin_client):
    token = csrf_token(admin_client, "/admin/")
    admin_client.post("/admin/language", data={"csrf_token": token, "language": "de"})
    added = _add(admin_client)
    assert added.status_code == 302
    (row,) = _rows(app)
    page = admin_client.get("/admin/listeners").get_data(as_text=True)
    assert "Zuhörer Robin hinzugefügt." in page and "Ehrenamtliche Zuhörer" in page
    assert "im Dienstplan" in page and "Pausieren" in page and "Volunteer listeners" not in page
    refused = _add(admin_client, number="+15550100172", hours="mon 25:00-26:00").get_data(True)
    assert "keine Uhrzeit: &#39;mon 25:00-26:00&#39;" in refused
    again = _add(admin_client, alias="Robin again").get_data(True)
    assert "diese Nummer steht schon im Dienstplan" in again
    token = csrf_token(admin_client, "/admin/listeners")
    admin_client.post(f"/admin/listeners/{row.id}/pause", data={"csrf_token": token})
    assert "Zuhörer Robin pausiert." in admin_client.get("/admin/listeners").get_data(True)
