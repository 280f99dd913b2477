"""Sessions can be revoked: logging out or changing the password (which needs the current one)
ends every session of that admin, a copied cookie included."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.models import AdminUser, AuditLog
from app.db import db
from tests.admin.support import PASSWORD, csrf_token, login, make_admin


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


def _change(client, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/admin/account")
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return client.post("/admin/account", data={**data, "csrf_token": token})


def test_a_password_change_needs_the_current_password_and_a_long_new_one(app, admin_client):
    wrong = _change(admin_client, "not my password", "a brand new passphrase")
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    short = _change(admin_client, PASSWORD, "too short")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    differ = _change(admin_client, PASSWORD, "a brand new passphrase", "another passphrase")
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AdminUser)).check_password(PASSWORD)


def test_a_password_change_ends_every_other_session(app, admin_client):
    laptop = app.test_client()
    assert login(laptop).status_code == 302
    thief = _copy_of(admin_client, app)
    changed = _change(admin_client, PASSWORD, "a brand new passphrase")
    assert changed.location == "/admin/account"
    assert "Password changed" in admin_client.get("/admin/account").get_data(as_text=True)
    assert laptop.get("/admin/").status_code == 302 and thief.get("/admin/").status_code == 302
    assert login(app.test_client()).status_code == 401
    assert login(app.test_client(), password="a brand new passphrase").status_code == 302
    with app.app_context():
        assert "password_changed" in db.session.scalars(select(AuditLog.action)).all()


def test_guessing_the_current_password_backs_off(admin_client):
    for _ in range(5):
        assert _change(admin_client, "a wrong guess", "a brand new passphrase").status_code == 400
    assert _change(admin_client, PASSWORD, "a brand new passphrase").status_code == 429
