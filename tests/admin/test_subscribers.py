"""The SMS subscribers page: counts by status and the latest changes, behind the login,
never a number."""

from __future__ import annotations

import re

from app.db import db
from app.identity import identify
from app.sms import subscribers
from app.sms.models import Subscriber
from tests.admin.support import number_forms

ZONE = "Europe/Berlin"
ACTIVE = ("+15550100181", "+4915550100182", "+447700900183")
STOPPED, OPTED_OUT = "+15550100184", "+15550100185"


def _identity(app, number: str) -> str:
    return identify(number, app.config["NUMBER_HASH_KEY"], "x").identity


def _signed_up(app) -> None:
    with app.app_context():  # the two who stop later signed up first
        for number in (STOPPED, OPTED_OUT):
            assert subscribers.subscribe(number, _identity(app, number), "call", ZONE)
        for number in ACTIVE:
            source = "text" if number.startswith("+44") else "call"
            assert subscribers.subscribe(number, _identity(app, number), source, ZONE)
        subscribers.stop(STOPPED, _identity(app, STOPPED), at_provider=False)
        subscribers.stop(OPTED_OUT, _identity(app, OPTED_OUT), at_provider=True)


def _changes(page: str) -> list[str]:
    table = page[page.index('id="subscriber-changes"') :]
    return re.findall(r'<td data-label="Change">(.*?)</td>', table)


def test_the_page_needs_a_login(client):
    response = client.get("/admin/subscribers")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_counts_by_status_and_the_latest_changes_without_a_number(app, admin_client):
    empty = admin_client.get("/admin/subscribers").get_data(as_text=True)
    assert "No one has signed up for text reminders yet" in empty
    _signed_up(app)
    response = admin_client.get("/admin/subscribers")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert '<strong id="subscribers-active">3</strong>' in page
    assert '<strong id="subscribers-stopped">1</strong>' in page
    assert '<strong id="subscribers-opted_out">1</strong>' in page
    assert '<dd id="source-call">2</dd>' in page and '<dd id="source-text">1</dd>' in page
    # Newest first: the two stops came last.
    changes = _changes(page)
    assert changes[:2] == ["Opted out (STOP): texts refused until START", "Stopped the reminders"]
    assert changes[2:] == ["Signed up"] * 3
    with app.app_context():
        masked = {s.masked_number for s in db.session.query(Subscriber)}
        identities = {s.identity for s in db.session.query(Subscriber)}
    for number in (*ACTIVE, STOPPED, OPTED_OUT):
        assert not [form for form in number_forms(number) if form in page], number
    assert not [m for m in masked if m in page]
    assert not [i for i in identities if i[:10] in page]


def test_the_nav_links_to_it(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/subscribers"' in page and ">Subscribers<" in page
