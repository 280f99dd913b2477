"""Login throttling: booked atomically, backing off per account and address, never a lockout;
failed logins audited without what the outsider typed, one row per address per window."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app import create_app
from app.admin import throttle
from app.admin.models import AdminUser, AuditLog
from app.admin.throttle import Gate
from app.db import db
from tests.admin.support import EMAIL, PASSWORD, csrf_token, number_forms

ATTACKER, ADMIN = "192.0.2.66", "192.0.2.7"


def _post_login(client, address: str, email: str = EMAIL, password: str = PASSWORD, **more):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": address}, **more)


@pytest.fixture
def counted_checks(monkeypatch) -> list[int]:
    """Every password check made, each slowed a little so that racing requests overlap."""
    checks, lock, original = [], threading.Lock(), AdminUser.check_password

    def check(self, password):
        with lock:
            checks.append(1)
        threading.Event().wait(0.05)
        return original(self, password)

    monkeypatch.setattr(AdminUser, "check_password", check)
    return checks


def test_30_concurrent_wrong_attempts_make_at_most_the_limit_of_password_checks(
    app, admin_id, counted_checks, monkeypatch
):
    monkeypatch.setattr(throttle, "_now_ms", lambda: 1_800_000_000_000)  # no wait runs out
    clients = [app.test_client() for _ in range(30)]
    tokens = [csrf_token(c) for c in clients]
    start, statuses = threading.Barrier(len(clients)), []

    def attempt(client, token):
        start.wait()
        data = {"email": EMAIL, "password": "a wrong guess", "csrf_token": token}
        response = client.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": ATTACKER})
        statuses.append(response.status_code)

    pairs = zip(clients, tokens, strict=True)
    threads = [threading.Thread(target=attempt, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(counted_checks) == app.config["ADMIN_LOGIN_MAX_PER_ACCOUNT"] == 5
    assert sorted(statuses) == [401] * 5 + [429] * 25
    # The attacker is throttled, the real admin (elsewhere) is not.
    assert _post_login(app.test_client(), ATTACKER).status_code == 429
    assert _post_login(app.test_client(), ADMIN).status_code == 302


def test_each_attempt_past_the_free_ones_waits_twice_as_long_up_to_the_window(app, monkeypatch):
    app.config["ADMIN_LOGIN_WINDOW_SECONDS"] = 8
    now = [1_800_000_000_000]
    monkeypatch.setattr(throttle, "_now_ms", lambda: now[0])
    waits = []
    with app.test_request_context():
        for _ in range(5):
            assert throttle.book(Gate.PASSWORD, EMAIL, ATTACKER) == 0
        for _ in range(6):
            wait = throttle.book(Gate.PASSWORD, EMAIL, ATTACKER)
            assert throttle.book(Gate.PASSWORD, EMAIL, ATTACKER) == wait  # refused: not booked
            waits.append(wait)
            now[0] += wait * 1000
            assert throttle.book(Gate.PASSWORD, EMAIL, ATTACKER) == 0  # then allowed again
        assert throttle.book(Gate.PASSWORD, "other@example.test", ADMIN) == 0
    assert waits == [1, 2, 4, 8, 8, 8]


def test_a_forged_forwarded_for_does_not_dodge_the_throttle(app, admin_id):
    for n in range(5):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        response = _post_login(app.test_client(), ATTACKER, "nobody@example.test", headers=forged)
        assert response.status_code == 401
    forged = {"X-Forwarded-For": "198.51.100.99"}
    response = _post_login(app.test_client(), ATTACKER, "nobody@example.test", headers=forged)
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_throttled(test_environment):
    app = create_app({"TESTING": True, "TRUST_PROXY_HEADERS": True})
    for _ in range(5):
        via = {"X-Forwarded-For": ATTACKER}
        response = _post_login(app.test_client(), "127.0.0.1", "x@example.test", headers=via)
        assert response.status_code == 401
    via = {"X-Forwarded-For": ATTACKER}
    assert (
        _post_login(app.test_client(), "127.0.0.1", "x@example.test", headers=via).status_code
        == 429
    )
    via = {"X-Forwarded-For": ADMIN}
    assert (
        _post_login(app.test_client(), "127.0.0.1", "x@example.test", headers=via).status_code
        == 401
    )


def test_an_ipv6_client_is_counted_by_its_64():
    assert throttle.client("2001:db8:1:2::1") == throttle.client("2001:db8:1:2:ffff::9")
    assert throttle.client("2001:db8:1:2::1") != throttle.client("2001:db8:1:3::1")
    assert throttle.client("192.0.2.1") != throttle.client("192.0.2.2")
    assert throttle.client(None) == "unknown"


def _failures(app) -> list[AuditLog]:
    with app.app_context():
        return db.session.scalars(select(AuditLog).where(AuditLog.action == "login_failed")).all()


def test_failed_logins_are_audited_without_what_was_typed(app, admin_client, admin_id):
    typed, password = "+1 555 0100 194 call me", "hunter2 +447700900194"
    assert _post_login(app.test_client(), ATTACKER, typed, password).status_code == 401
    assert _post_login(app.test_client(), ADMIN, EMAIL, "a wrong guess").status_code == 401
    unknown, known = _failures(app)
    assert unknown.admin_email is None and unknown.target is None
    assert unknown.detail.startswith("unknown account ") and "wrong password" in unknown.detail
    assert known.target == str(admin_id) and known.detail.startswith(f"admin {admin_id}, ")
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    # Whole forms only: short digit runs turn up by chance in hashes and tokens.
    leaks = number_forms("+15550100194") | number_forms("+447700900194")
    leaks |= {typed, "0100 194", "call me", "hunter2", ATTACKER}
    for fragment in leaks:
        assert fragment not in unknown.detail + known.detail and fragment not in page


def test_failed_logins_are_audited_once_per_address_per_window_and_capped(app, monkeypatch):
    for n in range(4):
        _post_login(app.test_client(), ATTACKER, f"guess{n}@example.test")
    assert len(_failures(app)) == 1
    monkeypatch.setattr(throttle, "AUDITED_PER_WINDOW", 3)
    for n in range(5):
        _post_login(app.test_client(), f"198.51.100.{n}", f"guess{n}@example.test")
    assert len(_failures(app)) == 3
