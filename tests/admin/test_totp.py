"""The second factor: a TOTP code after the password (each code once), one-time recovery codes
stored hashed, throttled attempts, and the key shown once by `mindfuse admin create`."""

from __future__ import annotations

import re
import threading
import time

import pyotp
from sqlalchemy import select

from app.admin.models import AdminUser, AuditLog, RecoveryCode
from app.db import db
from tests.admin.support import EMAIL, PASSWORD, TOTP_SECRET, csrf_token, fresh_code, login

CODE_PAGE = "/admin/login/code"


def _password(client, email: str = EMAIL, password: str = PASSWORD):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/admin/login", data=data)


def _code(client, code: str):
    return client.post(CODE_PAGE, data={"code": code, "csrf_token": csrf_token(client, CODE_PAGE)})


def test_the_login_asks_for_the_code_after_the_password(app, client, admin_id):
    response = _password(client)
    assert response.status_code == 302 and response.location == CODE_PAGE
    assert client.get("/admin/").status_code == 302  # the password alone does not log in
    wrong = _code(client, "000000" if fresh_code(app) != "000000" else "111111")
    assert wrong.status_code == 401 and "That code is not right" in wrong.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert _code(client, fresh_code(app)).location == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_code_is_accepted_once(app, client, admin_id):
    _password(client)
    code = fresh_code(app)
    assert _code(client, code).status_code == 302
    again = app.test_client()
    _password(again)
    assert _code(again, code).status_code == 401  # the same code, replayed
    assert again.get("/admin/").status_code == 302


def test_the_code_step_needs_the_password_first_and_expires(app, client, admin_id):
    assert client.get(CODE_PAGE).location == "/admin/login"
    _password(client)
    with client.session_transaction() as session:
        session["admin_pending"] = {**session["admin_pending"], "until": int(time.time()) - 1}
    assert client.get(CODE_PAGE).location == "/admin/login"


def test_code_attempts_back_off(app, client, admin_id):
    _password(client)
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        assert _code(client, guess).status_code == 401
    response = _code(client, fresh_code(app))  # even the right code waits now
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)


def test_an_admin_without_a_key_is_told_how_to_set_one_up(app, client, admin_id):
    with app.app_context():
        db.session.get(AdminUser, admin_id).totp_secret = None
        db.session.commit()
    response = _password(client)
    assert response.status_code == 403
    assert "mindfuse admin reset-2fa" in response.get_data(as_text=True)
    assert client.get(CODE_PAGE).location == "/admin/login"


def _created(runner, email: str, *more: str) -> tuple[str, list[str], str]:
    """`mindfuse admin create`: its key, its recovery codes and its whole output."""
    result = runner.invoke(args=["admin", "create", email, *more], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    key = re.search(r"key: ([A-Z2-7]{32})", result.output).group(1)
    codes = re.findall(r"^  ([a-z2-7]{4}(?:-[a-z2-7]{4}){3})$", result.output, re.M)
    return key, codes, result.output


def test_create_shows_the_key_once_with_a_qr_and_recovery_codes(app, runner, tmp_path):
    key, codes, output = _created(runner, "new@example.test", "--qr", str(tmp_path / "qr.svg"))
    uri = pyotp.TOTP(key).provisioning_uri(name="new@example.test", issuer_name="Mindfuse admin")
    assert uri in output and "█" in output  # the URI, and as a QR code in the terminal
    assert (tmp_path / "qr.svg").read_text().startswith("<svg")
    assert (tmp_path / "qr.svg").stat().st_mode & 0o077 == 0  # it holds the key
    assert len(codes) == len(set(codes)) == 10
    with app.app_context():
        assert db.session.scalar(select(AdminUser.totp_secret)) == key
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    clear = {c.replace("-", "") for c in codes} | set(codes)
    assert len(stored) == 10 and not set(stored) & clear
    client = app.test_client()
    _password(client, "new@example.test")
    assert _code(client, pyotp.TOTP(key).now()).location == "/admin/"


def test_a_recovery_code_logs_in_once(app, runner):
    _, codes, _ = _created(runner, "new@example.test")
    first = app.test_client()
    _password(first, "new@example.test")
    response = _code(first, codes[3].upper().replace("-", " "))  # as someone might type it
    assert response.location == "/admin/"
    assert "Recovery code used: 9 left." in first.get("/admin/").get_data(as_text=True)
    second = app.test_client()
    _password(second, "new@example.test")
    assert _code(second, codes[3]).status_code == 401


def test_reset_gives_a_new_key_and_ends_the_sessions(app, runner, admin_client):
    result = runner.invoke(args=["admin", "reset-2fa", EMAIL])
    assert result.exit_code == 0, result.output
    key = re.search(r"key: ([A-Z2-7]{32})", result.output).group(1)
    assert key != TOTP_SECRET and admin_client.get("/admin/").status_code == 302
    client = app.test_client()
    _password(client)
    assert _code(client, pyotp.TOTP(TOTP_SECRET).now()).status_code == 401
    assert login(app.test_client()).status_code == 401  # the helper still uses the old key
    missing = runner.invoke(args=["admin", "reset-2fa", "nobody@example.test"])
    assert missing.exit_code != 0 and "no admin" in missing.output


def test_every_wrong_code_is_audited(app, client, admin_id):
    assert _password(client, password="a wrong guess").status_code == 401
    _password(client)
    _code(client, "000000" if fresh_code(app) != "000000" else "111111")
    _code(client, "000000" if fresh_code(app) != "000000" else "111111")
    with app.app_context():
        details = db.session.scalars(select(AuditLog.detail).order_by(AuditLog.id)).all()
    assert [d.split(", ")[1] for d in details] == ["wrong password"] + 2 * [
        "wrong code after the right password"
    ]


def test_one_code_sent_twice_at_once_logs_in_once(app, admin_id):
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for client in clients:
        _password(client)
        tokens.append(csrf_token(client, CODE_PAGE))
    code, start, statuses = fresh_code(app), threading.Barrier(2), []

    def send(client, token):
        start.wait()
        statuses.append(
            client.post(CODE_PAGE, data={"code": code, "csrf_token": token}).status_code
        )

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 401]
