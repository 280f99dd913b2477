"""Behind a proxy: forged X-Forwarded-Host/Proto/For choose neither the signed URL, the
client's address nor its scheme; the web listens on loopback unless told otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import request

from app import create_app
from app.settings import Settings
from tests.admin.support import EMAIL, PASSWORD, csrf_token, make_admin
from tests.support import PUBLIC, call_form, sign

PROXY = "127.0.0.1"  # the reverse proxy, as the web process sees it
CLIENT = "198.51.100.7"  # the address the proxy saw and appended


def _app(**config):
    app = create_app({"TESTING": True, **config})

    @app.get("/_seen")
    def seen():
        return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app


def _seen(app, headers: dict) -> dict:
    response = app.test_client().get("/_seen", headers=headers, environ_base={"REMOTE_ADDR": PROXY})
    return response.get_json()


@pytest.mark.parametrize("trusting", [False, True])
def test_a_request_signed_for_the_host_it_names_is_refused(app, trusting):
    form = call_form()
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "line.example.org"}
    client = _app(TRUST_PROXY_HEADERS=trusting).test_client()
    for host in ("line.example.org", "line.example.org:443"):
        signature = sign(f"https://{host}/twilio/voice", form)
        headers = {**forged, "Host": host, "X-Twilio-Signature": signature}
        assert client.post("/twilio/voice", data=form, headers=headers).status_code == 403


@pytest.mark.parametrize("trusting", [False, True])
def test_a_request_signed_for_the_public_url_is_served_whatever_host_it_names(app, trusting):
    form = call_form()
    headers = {
        "Host": "elsewhere.test",
        "X-Forwarded-Host": "elsewhere.test",
        "X-Forwarded-Proto": "https",
        "X-Twilio-Signature": sign(PUBLIC + "/twilio/voice", form),
    }
    client = _app(TRUST_PROXY_HEADERS=trusting).test_client()
    assert client.post("/twilio/voice", data=form, headers=headers).status_code == 200


def test_without_trust_forwarding_headers_change_nothing(app):
    forged = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.test",
        "Host": "line.test",
    }
    assert _seen(_app(), forged) == {"addr": PROXY, "scheme": "http", "host": "line.test"}


def test_trusted_proxies_give_the_address_and_scheme_but_never_the_host(app):
    # The client sent its own X-Forwarded-* entries; one proxy appended what it saw.
    forwarded = {
        "X-Forwarded-For": f"203.0.113.9, {CLIENT}",
        "X-Forwarded-Proto": "http, https",
        "X-Forwarded-Host": "evil.test",
        "Host": "line.test",
    }
    seen = _seen(_app(TRUST_PROXY_HEADERS=True), forwarded)
    assert seen == {"addr": CLIENT, "scheme": "https", "host": "line.test"}
    # Two proxies: the address the outer one saw is second from the right.
    two = {"X-Forwarded-For": f"203.0.113.9, {CLIENT}, 10.0.0.2", "Host": "line.test"}
    assert _seen(_app(TRUST_PROXY_HEADERS=True, PROXY_HOPS=2), two)["addr"] == CLIENT


def test_varied_forwarded_for_entries_do_not_escape_the_per_address_login_limit(app):
    trusting = _app(TRUST_PROXY_HEADERS=True, ADMIN_LOGIN_MAX_PER_ADDRESS=3)
    make_admin(trusting)

    def attempt(n: int, email: str, password: str, client_address: str = CLIENT) -> int:
        client = trusting.test_client()
        data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
        # The client varies what it sends; the proxy appends the address it saw.
        headers = {"X-Forwarded-For": f"203.0.113.{n}, {client_address}"}
        environ = {"REMOTE_ADDR": PROXY}
        response = client.post("/admin/login", data=data, headers=headers, environ_base=environ)
        return response.status_code

    for n in range(3):
        assert attempt(n, f"guess{n}@example.test", "wrong guess") == 401
    assert attempt(9, EMAIL, PASSWORD) == 429
    # Someone else behind the same proxy is not held back by those failures.
    assert attempt(9, EMAIL, PASSWORD, client_address="192.0.2.44") == 302


def test_the_web_listens_on_loopback_unless_bind_address_says_otherwise():
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    bind = re.search(r"--bind (\S+)", web).group(1)
    assert Settings.BIND_ADDRESS.default == "127.0.0.1"
    assert bind == "${BIND_ADDRESS:-127.0.0.1}:${PORT:-5000}"
