"""Helpers for the admin tests: accounts, CSRF tokens, logging in, seeded rows."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import phonenumbers
import pyotp
from sqlalchemy import update

from app.admin.models import AdminUser
from app.db import db, utcnow
from app.identity import country_of, masked_form
from app.line.models import Call

EMAIL = "ops@example.test"
PASSWORD = "a long admin passphrase"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_admin(app, email: str = EMAIL, password: str = PASSWORD) -> int:
    """Create an admin account with TOTP_SECRET as its key; returns its id."""
    with app.app_context():
        user = AdminUser(email=email, totp_secret=TOTP_SECRET)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def csrf_token(client, path: str = "/admin/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def fresh_code(app, email: str = EMAIL) -> str:
    """The code the admin's app shows now, its time step made unused again first.

    A code is accepted once, so a test that logs in twice within 30 s would be refused the
    second time, as it should; this stands for the next login, half a minute later.
    """
    with app.app_context():
        db.session.execute(
            update(AdminUser).where(AdminUser.email == email).values(totp_last_step=None)
        )
        db.session.commit()
    return pyotp.TOTP(TOTP_SECRET).now()


def login(client, email: str = EMAIL, password: str = PASSWORD, next: str | None = None):
    """Log in the way a browser does (CSRF tokens, the password, then the current code).

    Returns the answer to the password when it did not lead on to the code, else the answer to
    the code.
    """
    query = {"next": next} if next else {}
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    response = client.post("/admin/login", data=data, query_string=query)
    if response.status_code != 302 or not response.location.startswith("/admin/login/code"):
        return response
    token = csrf_token(client, response.location)
    code = {"code": fresh_code(client.application, email), "csrf_token": token}
    return client.post(response.location, data=code)


def get_routes(app) -> list:
    """Every GET route of the admin but its static files."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/admin") and "GET" in rule.methods
            if rule.endpoint != "admin.static"
        ),
        key=lambda rule: rule.rule,
    )


def add_call(app, number: str, outcome: str | None, mode: str = "pairing", **fields) -> int:
    """A call row as the line stores it: masked number only; returns its id."""
    parsed = phonenumbers.parse(number)
    arrived = fields.pop("arrived_at", utcnow())
    with app.app_context():
        call = Call(
            sid="CA" + secrets.token_hex(16),
            identity=f"id-{number[1:]}",
            masked_number=masked_form(parsed),
            country=country_of(parsed),
            mode=mode,
            state="ended",
            outcome=outcome,
            arrived_at=arrived,
            wait_started_at=arrived + timedelta(seconds=5),
            ended_at=arrived + timedelta(seconds=65),
            **fields,
        )
        db.session.add(call)
        db.session.commit()
        return call.id


def number_forms(number: str) -> set[str]:
    """A raw number as it could leak: E.164, international, national and digits only."""
    parsed = phonenumbers.parse(number)
    fmt = phonenumbers.PhoneNumberFormat
    forms = {phonenumbers.format_number(parsed, f) for f in (fmt.E164, fmt.INTERNATIONAL)}
    national = phonenumbers.format_number(parsed, fmt.NATIONAL)
    forms |= {national, re.sub(r"\D", "", number), str(parsed.national_number)}
    return {f for f in forms if f}
