"""The admin in a real browser (Playwright driving Debian's Chromium) over calls made via the twin.

The line runs as in tests/e2e: the app on loopback, the Twilio twin, a real RQ worker.
"""

from __future__ import annotations

import csv
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.admin.models import AdminUser, AuditLog
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingSession
from app.identity import identify
from app.line.models import Block, Call, DailyStats, Report
from app.sms import subscribers
from tests.admin.browser import ARGS, CHROMIUM, missing_reason
from tests.admin.support import EMAIL, PASSWORD, fresh_code, login, make_admin, number_forms
from tests.support import clean, eventually, in_a_room

SKIP = missing_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
ALICE, BOB, CAROL = "+15550100181", "+447700900181", "+4915550100181"


def _calls_through_the_twin(line) -> None:
    """Alice and Bob talk until Bob hangs up; Carol waits, nobody comes, she hangs up."""
    alice = in_a_room(line, ALICE)
    alice.wait_until_heard("finding someone")
    bob = in_a_room(line, BOB)
    eventually(lambda: alice.conference and alice.conference == bob.conference)
    time.sleep(1.1)  # a conversation of at least a second
    mark = alice.mark()
    bob.hang_up()
    alice.wait_until_heard("left the conversation", since=mark)
    alice.hang_up()
    carol = in_a_room(line, CAROL)
    carol.wait_until_heard("nobody is free", timeout=15)
    carol.hang_up()
    for caller in (alice, bob, carol):
        caller.wait_until_ended()

    def purged():
        with line.app.app_context():
            calls = db.session.scalars(select(Call)).all()
            return len(calls) == 3 and all(c.purged_at for c in calls)

    eventually(purged, timeout=25)


def _more_history(app) -> None:
    """What the twin cannot make quickly: a block after reports, old counts, a Fusing Hour."""
    with app.app_context():
        calls = {c.masked_number[-2:] + c.country: c for c in db.session.scalars(select(Call))}
        bob = next(c for c in calls.values() if c.country == "GB")
        for reporter in ("id-reporter-1", "id-reporter-2"):
            db.session.add(Report(reporter=reporter, reported=bob.identity))
        db.session.add(
            Block(
                identity=bob.identity,
                reason="reported by 2 people",
                masked_number=bob.masked_number,
                expires_at=utcnow() + timedelta(days=30),
            )
        )
        day = (utcnow() - timedelta(days=20)).date()
        db.session.add(DailyStats(day=day, mode="pairing", outcome="paired", calls=12))
        start = utcnow() - timedelta(days=2)
        session = FusingSession(
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            timezone="Europe/Berlin",
            round_seconds=720,
            gap_seconds=30,
            closed_at=start + timedelta(hours=1),
        )
        db.session.add(session)
        db.session.flush()
        for call in calls.values():
            db.session.add(FusingGuest(session_id=session.id, call_id=call.id, identity="g"))
        db.session.commit()


@pytest.fixture(scope="module")
def seeded(running_line):  # noqa: F811
    """The line with an admin, three calls made through the twin, and some older history."""
    clean(running_line.app)
    make_admin(running_line.app)
    _calls_through_the_twin(running_line)
    _more_history(running_line.app)
    return running_line


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, seeded):
    """A fresh browser context (no cookies); anything the CSP refused on its pages fails it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15000)  # a loaded machine can take seconds to navigate
    tab = context.new_page()
    tab.base, tab.app, refused = seeded.server.url, seeded.app, []
    tab.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    yield tab
    context.close()
    assert not refused, refused


def _shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / name), full_page=True)


def _log_in(page, password: str = PASSWORD, shot: str | None = None):
    """The password, then (when it is right) the code the admin's app shows."""
    page.fill("#email", EMAIL)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")
    if password == PASSWORD:
        page.wait_for_selector("#code")
        if shot:
            _shot(page, shot)
        page.fill("#code", fresh_code(page.app))
        page.click("button:has-text('Log in')")


@pytest.fixture
def admin(page):
    """A browser page logged into the admin, its scripts run (forms.js is deferred: it runs
    before DOMContentLoaded, which may come after the heading is drawn on a loaded machine)."""
    page.goto(page.base + "/admin/login")
    _log_in(page)
    page.wait_for_selector("h1:has-text('Line health')")
    page.wait_for_load_state("domcontentloaded")
    return page


def test_wrong_password_then_login_and_a_dashboard_screenshot(page, browser):
    page.goto(page.base + "/admin/calls")
    assert "/admin/login?next=" in page.url
    _log_in(page, password="not my password")
    assert page.inner_text(".form-error") == "Wrong email or password."
    _log_in(page, shot="admin-login-code.png")
    page.wait_for_selector("h1:has-text('Calls')")  # back where the admin was going
    page.click("nav.nav >> text=Line health")
    page.wait_for_selector("body[data-charts='ready']")
    assert page.inner_text("#waiting-now") == "0"
    assert "3" in page.inner_text(".tiles")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-dashboard.png"), full_page=True)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state()
    )
    small = phone.new_page()
    small.goto(page.url)
    small.wait_for_selector("body[data-charts='ready']")
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small.screenshot(path=str(OUTPUT / "admin-dashboard-phone.png"), full_page=True)
    phone.close()


def test_filter_the_call_log_open_a_call_and_export_csv(admin, tmp_path):
    admin.click("nav.nav >> text=Calls")
    assert admin.locator("table.calls tbody tr").count() == 3
    _shot(admin, "admin-calls.png")
    admin.select_option("select[name=outcome]", "timed_out")
    admin.click("button:has-text('Filter')")
    admin.wait_for_url("**outcome=timed_out**")
    rows = admin.locator("table.calls tbody tr")
    assert rows.count() == 1 and "+49 ••• •••• 81" in rows.inner_text()
    with admin.expect_download() as download:
        admin.click("text=Export CSV")
    target = tmp_path / "calls.csv"
    download.value.save_as(target)
    with target.open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [(r["masked_number"], r["outcome"]) for r in exported] == [
        ("+49 ••• •••• 81", "timed_out")
    ]
    rows.locator("a").first.click()
    admin.wait_for_selector("ol.timeline")
    timeline = admin.inner_text("ol.timeline")
    steps = ("Arrived", "Greeting menu: pressed 1", "Started waiting", "Nobody came in time")
    for step in (*steps, "Call ended"):
        assert step in timeline
    assert "Deleted at Twilio" in timeline and "Record checked: masked number only" in timeline
    _shot(admin, "admin-call.png")


def test_lift_a_block(admin, seeded):
    admin.click("nav.nav >> text=Safety")
    assert "+44 ••• •••• 81" in admin.inner_text("table")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("button:has-text('Lift block')")
    admin.wait_for_selector("text=Block lifted")
    assert "Nobody is blocked right now" in admin.content()
    with seeded.app.app_context():
        assert db.session.scalar(select(Block.lifted_at)) is not None
    admin.click("nav.nav >> text=Audit log")
    assert "Block lifted" in admin.inner_text("table")


def test_edit_the_schedule(admin, seeded):
    admin.click("nav.nav >> text=Fusing Hour")
    admin.select_option("#weekday", label="Saturday")
    admin.fill("#start", "18:30")
    admin.fill("#zone", "Nowhere/Atlantis")
    admin.click("button:has-text('Save rule')")
    assert "Unknown time zone" in admin.inner_text("#rule-form")
    _shot(admin, "admin-schedule-error.png")
    admin.fill("#zone", "Europe/London")
    admin.click("button:has-text('Save rule')")
    admin.wait_for_selector("text=Schedule saved.")
    assert "Every Saturday at 18:30 Europe/London" in admin.inner_text(".lead")
    with seeded.app.app_context():
        assert (sessions.rule_row().weekday, sessions.rule_row().timezone) == (5, "Europe/London")
    first = admin.locator("ul.sessions li").first
    first.locator("button:has-text('Cancel')").click()
    admin.wait_for_selector(".badge-muted:has-text('cancelled')")
    with seeded.app.app_context():
        actions = db.session.scalars(select(AuditLog.action)).all()
    assert {"schedule_changed", "date_cancelled"} <= set(actions)


def test_no_admin_page_or_export_shows_a_raw_number(seeded):
    client = seeded.app.test_client()
    assert login(client).status_code == 302
    with seeded.app.app_context():
        call_ids = db.session.scalars(select(Call.id)).all()
    urls = [
        rule.rule
        for rule in seeded.app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        and "GET" in rule.methods
        and not rule.arguments
        # these send a logged-in admin on to the dashboard
        and rule.endpoint not in ("admin.login", "admin.login_code")
    ]
    urls += [f"/admin/calls/{n}" for n in call_ids]
    urls += [f"/admin/?period={p}" for p in ("24h", "30d", "365d")]
    urls += ["/admin/calls.csv", "/admin/calls?outcome=paired"]
    forms = set().union(*(number_forms(n) for n in (ALICE, BOB, CAROL)))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        leaked = [form for form in forms if form in text]
        assert not leaked, (url, leaked)
    assert "+1 ••• •••• 81" in client.get("/admin/calls.csv").get_data(as_text=True)


def test_the_time_zone_selector_submits_itself(admin):
    with admin.expect_navigation():
        admin.select_option("#zone-select", "Asia/Tokyo")  # forms.js submits the form
    admin.reload()
    assert admin.eval_on_selector("#zone-select", "select => select.value") == "Asia/Tokyo"


def test_the_account_page(admin):
    admin.click("text=Account")
    admin.fill("#current", "not my password")
    admin.fill("#new", "a brand new passphrase")
    admin.fill("#confirm", "a brand new passphrase")
    admin.click("button:has-text('Change password')")
    assert "That is not your current password." in admin.inner_text("#password-form")
    _shot(admin, "admin-account.png")


def test_the_sms_subscribers_page(admin, seeded):
    key = seeded.app.config["NUMBER_HASH_KEY"]
    with seeded.app.app_context():
        for number in ("+15550100186", "+4915550100187", "+447700900188"):
            subscribers.subscribe(number, identify(number, key, "x").identity, "call", "UTC")
        stopped = "+15550100189"
        subscribers.subscribe(stopped, identify(stopped, key, "x").identity, "text", "UTC")
        subscribers.stop(stopped, identify(stopped, key, "x").identity, at_provider=True)
    admin.click("nav.nav >> text=Subscribers")
    admin.wait_for_selector("h1:has-text('SMS subscribers')")
    assert admin.inner_text("#subscribers-active") == "3"
    assert admin.inner_text("#subscribers-opted_out") == "1"
    assert admin.locator("#subscriber-changes tbody tr").count() == 4
    assert "+1555" not in admin.content() and "•••" not in admin.content()
    _shot(admin, "admin-subscribers.png")


@pytest.fixture
def german_admin(admin, seeded):
    """The logged-in admin, switched to German with the selector; English again afterwards."""
    with admin.expect_navigation():
        admin.select_option("#language-select", "de")  # forms.js submits the form
    yield admin
    with seeded.app.app_context():
        for user in db.session.scalars(select(AdminUser)):
            user.language = None
        db.session.commit()


def test_the_admin_in_german(german_admin, seeded):
    page = german_admin
    page.wait_for_selector("h1:has-text('Zustand der Leitung')")
    assert page.get_attribute("html", "lang") == "de"
    nav = page.locator("nav.nav a").all_inner_texts()
    assert nav == ["Zustand der Leitung", "Anrufe", "Sicherheit", "Fusing Hour"] + [
        "Dringende Hilfe",
        "Zuhörer",
        "Mitglieder",
        "Abonnenten",
        "Protokoll",
    ]
    page.wait_for_selector("body[data-charts='ready']")
    assert "Anrufe pro Tag, nach Sprache" in page.inner_text(".charts")
    assert "0 English" in page.inner_text("#waiting-by-language")
    _shot(page, "admin-dashboard-de.png")
    page.reload()  # kept on the account, not only in this page
    page.wait_for_selector("h1:has-text('Zustand der Leitung')")
    page.click("nav.nav >> text=Anrufe")
    page.wait_for_selector("h1:has-text('Anrufe')")
    assert page.locator("table.calls td.language").all_inner_texts() == ["English"] * 3
    page.select_option("select[name=outcome]", "timed_out")
    page.click("button:has-text('Filtern')")
    page.wait_for_url("**outcome=timed_out**")
    page.locator("table.calls tbody tr a").first.click()
    page.wait_for_selector("ol.timeline")
    timeline = page.inner_text("ol.timeline")
    for step in ("Warten auf jemanden begonnen", "Niemand kam rechtzeitig", "Anruf beendet"):
        assert step in timeline
    assert page.inner_text("#call-language") == "English"
    _shot(page, "admin-call-de.png")
    page.click("nav.nav >> text=Fusing Hour")
    assert re.search(r"Jeden \w+tag um \d\d:\d\d", page.inner_text(".lead"))
    with seeded.app.app_context():
        assert {u.language for u in db.session.scalars(select(AdminUser))} == {"de"}
