"""Sessions can be revoked: logging out (or changing the password) ends every session of that
admin, a copied cookie included."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.models import AdminUser, AuditLog
from app.db import db
from tests.admin.support import csrf_token, login, make_admin


def _copy_of(client, app):
    """Another browser holding a copy of this client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_copied_cookie_is_refused_after_logout_elsewhere(app, admin_client):
    thief = _copy_of(admin_client, app)
    assert thief.get("/admin/calls").status_code == 200  # the copy works while the session does
    token = csrf_token(admin_client, "/admin/")
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/admin/calls").location.startswith("/admin/login?next=")
    assert admin_client.get("/admin/calls").status_code == 302


def test_logout_ends_every_session_of_that_admin_only(app, admin_client, admin_id):
    laptop = app.test_client()
    assert login(laptop).status_code == 302

    make_admin(app, "other@example.test")
    colleague = app.test_client()
    assert login(colleague, email="other@example.test").status_code == 302
    token = csrf_token(admin_client, "/admin/")
    admin_client.post("/admin/logout", data={"csrf_token": token})
    assert laptop.get("/admin/").status_code == 302
    assert colleague.get("/admin/").status_code == 200
    with app.app_context():
        assert db.session.get(AdminUser, admin_id).session_generation == 1
        assert "logout" in db.session.scalars(select(AuditLog.action)).all()


def test_a_session_from_before_generations_is_not_accepted(app, admin_client, admin_id):
    with admin_client.session_transaction() as session:
        assert session["_user_id"] == f"{admin_id}.0"
        session["_user_id"] = str(admin_id)  # the id alone, as sessions were kept before
    assert admin_client.get("/admin/").status_code == 302
