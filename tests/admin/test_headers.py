"""Security headers: a strict CSP and no caching on the admin, nosniff everywhere, HSTS on https."""

from __future__ import annotations

import re

from flask import url_for

from app import create_app
from app.db import db, utcnow
from app.line.models import Block
from tests.admin.support import add_call, get_routes
from tests.support import call_form

INLINE = (
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),  # inline code
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick=, onsubmit=, ...
)


def _pages(app, admin_client) -> dict[str, object]:
    """Every admin GET page (ids filled with a real call's, a block to lift), fetched."""
    call_id = add_call(app, "+15550100192", "paired")
    with app.app_context():
        db.session.add(
            Block(identity="id-x", reason="test", expires_at=utcnow().replace(year=2099))
        )
        db.session.commit()
    with app.test_request_context():
        urls = [url_for(r.endpoint, **dict.fromkeys(r.arguments, call_id)) for r in get_routes(app)]
    urls += ["/admin/calls.csv", "/admin/no-such-page", "/admin/?period=365d"]
    pages = {}
    for url in urls:
        pages[url] = response = admin_client.get(url)
        response.get_data()  # a streamed export ends its request once read, before the next
        response.close()
    return pages


def test_every_admin_page_has_a_strict_csp_and_is_never_stored(app, admin_client):
    pages = _pages(app, admin_client)
    assert len(pages) >= 10
    for url, response in pages.items():
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, url
        assert "style-src 'self';" in csp and "unsafe-inline" not in csp, url
        assert headers.get("X-Content-Type-Options") == "nosniff", url
        assert headers.get("Referrer-Policy") == "same-origin", url
        assert headers.get("X-Frame-Options") == "DENY", url
        assert headers.get("Cache-Control") == "no-store", url
        assert "Strict-Transport-Security" not in headers, url  # the tests run over http


def test_no_admin_page_relies_on_inline_scripts_or_styles(app, admin_client):
    logged_out = app.test_client().get("/admin/login")
    pages = {**_pages(app, admin_client), "/admin/login (logged out)": logged_out}
    for url, response in pages.items():
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        found = [m.group(0) for pattern in INLINE for m in pattern.finditer(html)]
        assert not found, (url, found)


def test_static_files_and_webhooks_get_only_what_fits_them(app, client, twilio):
    script = client.get("/admin/static/forms.js")
    assert script.status_code == 200 and script.headers["X-Content-Type-Options"] == "nosniff"
    assert script.headers.get("Cache-Control") != "no-store"  # no call data: cache it
    script.close()
    twiml = twilio.post("/twilio/voice", call_form("+15550100193"))
    assert twiml.status_code == 200 and twiml.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in twiml.headers
    assert "Cache-Control" not in twiml.headers


def test_hsts_when_the_public_address_is_https(test_environment):
    secure = create_app({"TESTING": True, "PUBLIC_BASE_URL": "https://line.example"})
    response = secure.test_client().get("/admin/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = create_app({"TESTING": True, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    assert "Strict-Transport-Security" not in plain.test_client().get("/admin/login").headers
