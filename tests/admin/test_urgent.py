"""The admin's urgent help page: crisis services added, checked, removed; bad numbers refused."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.models import AuditLog
from app.db import db
from app.urgent.models import CrisisService
from tests.admin.support import csrf_token


def _save(admin_client, **fields):
    form = {"country": "gb", "name": "Samaritans", "spoken": "116 123", "dial": "", **fields}
    form["csrf_token"] = csrf_token(admin_client, "/admin/urgent")
    return admin_client.post("/admin/urgent/services", data=form)


def test_the_admin_adds_checks_and_removes_a_service(app, admin_client):
    assert _save(admin_client).status_code == 302
    page = admin_client.get("/admin/urgent").get_data(as_text=True)
    assert "To be checked before going live: GB" in page and "only said" in page
    assert _save(admin_client, dial="+447700900999", checked="y").status_code == 302
    with app.app_context():
        (row,) = db.session.scalars(select(CrisisService)).all()
        assert (row.country, row.dial, row.checked) == ("GB", "+447700900999", True)
        actions = [a.action for a in db.session.scalars(select(AuditLog))]
        assert actions.count("crisis_service_saved") == 2
        row_id = row.id
    page = admin_client.get("/admin/urgent").get_data(as_text=True)
    assert "To be checked before going live" not in page
    token = csrf_token(admin_client, "/admin/urgent")
    admin_client.post(f"/admin/urgent/services/{row_id}/remove", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalars(select(CrisisService)).all() == []


def test_a_number_to_dial_that_is_not_e164_is_refused_and_nothing_changes(app, admin_client):
    response = _save(admin_client, dial="116123")
    assert response.status_code == 400 and "E.164" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(CrisisService)).all() == []
