"""Admin access: login required everywhere, CSRF on every form, rate-limited logins, the CLI."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from app import create_app
from app.admin.models import AdminUser, AuditLog
from app.db import db, utcnow
from app.line.models import Block
from tests.admin.support import EMAIL, PASSWORD, csrf_token, login
from tests.support import call_form

OPEN = (
    "admin.login",
    "admin.login_code",
    "admin.static",
)  # the code step: tests/admin/test_totp.py
ARGUMENTS = {"IntegerConverter": 1, "AnyConverter": "grant"}  # else a string


def _admin_urls(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every admin route but the login pages and static files."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/admin") or rule.endpoint in OPEN:
                continue
            values = {
                name: ARGUMENTS.get(type(conv).__name__, "x")
                for name, conv in rule._converters.items()
            }
            url = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


def test_every_admin_url_redirects_to_login_when_logged_out(app, client):
    urls = _admin_urls(app)
    assert {"admin.dashboard", "admin.calls", "admin.calls_csv", "admin.lift_block"} <= {
        endpoint for endpoint, _, _ in urls
    }
    token = csrf_token(client)
    for endpoint, method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.location.startswith("/admin/login?next="), (endpoint, response.location)


def test_login_then_back_where_you_were_going(app, client, admin_id):
    assert client.get("/admin/calls").location == "/admin/login?next=/admin/calls"
    response = login(client, next="/admin/calls")  # by way of the code
    assert response.location == "/admin/calls"
    assert client.get("/admin/calls").status_code == 200
    with app.app_context():
        assert db.session.get(AdminUser, admin_id).last_login_at is not None
        assert db.session.scalars(select(AuditLog.action)).all() == ["login"]


def test_login_never_redirects_off_site(client, admin_id):
    assert login(client, next="https://evil.example/admin").location == "/admin/"


def test_wrong_password_is_refused(app, client, admin_id):
    response = login(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    unknown = login(client, email="nobody@example.test")
    assert unknown.status_code == 401
    assert "Wrong email or password." in unknown.get_data(as_text=True)
    with app.app_context():  # one row per address per window (tests/admin/test_throttle.py)
        actions = db.session.scalars(select(AuditLog.action)).all()
        assert actions == ["login_failed"]


def test_a_form_without_its_csrf_token_is_rejected(app, client, admin_client):
    response = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    with app.app_context():
        block = Block(identity="id-x", reason="test", expires_at=utcnow().replace(year=2099))
        db.session.add(block)
        db.session.commit()
        block_id = block.id
    assert admin_client.post(f"/admin/blocks/{block_id}/lift").status_code == 400
    assert (
        admin_client.post(
            f"/admin/blocks/{block_id}/lift", data={"csrf_token": "forged"}
        ).status_code
        == 400
    )
    with app.app_context():
        assert db.session.get(Block, block_id).lifted_at is None


def test_twilio_webhooks_need_no_csrf_token_but_keep_their_signature_check(twilio, client):
    assert twilio.post("/twilio/voice", call_form("+15550100161")).status_code == 200
    assert client.post("/twilio/voice", data=call_form("+15550100162")).status_code == 403


def test_logins_back_off_per_account_from_an_address(app, client, admin_id):
    for _ in range(5):
        assert login(client, password="wrong guess").status_code == 401
    response = login(client)  # from this address even the right password waits now
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "Too many attempts. Try again in 1 s." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_logins_are_rate_limited_per_address(app, client, admin_id):
    app.config["ADMIN_LOGIN_MAX_PER_ADDRESS"] = 3
    for n in range(3):
        assert login(client, email=f"guess{n}@example.test").status_code == 401
    assert login(client).status_code == 429
    other = app.test_client()
    response = other.post(
        "/admin/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(other)},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_logout_ends_the_session(app, admin_client):
    token = csrf_token(admin_client, "/admin/")
    response = admin_client.post("/admin/logout", data={"csrf_token": token})
    assert response.location == "/admin/login"
    assert admin_client.get("/admin/").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(AuditLog.action)).all() == ["login", "logout"]


def test_session_cookie_flags(app, admin_client, test_environment):
    cookie = admin_client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    production_like = create_app({"PUBLIC_BASE_URL": "https://line.example"})
    assert production_like.config["SESSION_COOKIE_SECURE"] is True
    assert production_like.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # tests run over plain http


def test_cli_creates_an_admin_with_a_hashed_password(app, runner):
    result = runner.invoke(args=["admin", "create", "New@Example.test"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(AdminUser))
        assert user.email == "new@example.test" and PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD)
        entry = db.session.scalar(select(AuditLog))
        assert (entry.action, entry.target) == ("admin_created", str(user.id))
    again = runner.invoke(args=["admin", "create", "new@example.test"], input=PASSWORD + "\n")
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["admin", "create", "b@example.test"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    listed = runner.invoke(args=["admin", "list"])
    assert "new@example.test" in listed.output and "last login never" in listed.output


@pytest.mark.parametrize("zone", ["America/New_York", "Not/AZone"])
def test_time_zone_choice(admin_client, zone):
    token = csrf_token(admin_client, "/admin/")
    admin_client.post("/admin/zone", data={"zone": zone, "csrf_token": token, "next": "/admin/"})
    page = admin_client.get("/admin/calls").get_data(as_text=True)
    expected = zone if zone != "Not/AZone" else "Europe/Berlin"
    assert f'value="{expected}" selected' in page
