"""The admin in German or English per admin; each call's language, the pool and the charts
per language."""

from __future__ import annotations

import csv
import io
import re

from flask_babel import force_locale

from app.admin import labels, stats
from app.admin.models import AdminUser
from app.db import db
from app.line import pool
from app.line.models import Step
from tests.admin.support import add_call, csrf_token


def _choose(client, code: str, next_path: str = "/admin/"):
    token = csrf_token(client, "/admin/")
    return client.post(
        "/admin/language", data={"csrf_token": token, "language": code, "next": next_path}
    )


def test_an_admin_chooses_german_and_keeps_it_on_the_account(app, admin_client, admin_id):
    assert "Line health" in admin_client.get("/admin/").get_data(as_text=True)
    assert _choose(admin_client, "de").status_code == 302
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert '<html lang="de">' in page and "Zustand der Leitung" in page and "Abmelden" in page
    assert "Heute noch keine Anrufe" in page and "Line health" not in page
    with app.app_context():
        assert db.session.get(AdminUser, admin_id).language == "de"
    with admin_client.session_transaction() as session:
        session.pop("admin_language")  # another browser: the account's choice still counts
    assert "Zustand der Leitung" in admin_client.get("/admin/").get_data(as_text=True)
    _choose(admin_client, "en")
    assert "Line health" in admin_client.get("/admin/").get_data(as_text=True)


def test_an_unknown_language_changes_nothing(app, admin_client, admin_id):
    _choose(admin_client, "xx")
    with app.app_context():
        assert db.session.get(AdminUser, admin_id).language is None
    assert "Line health" in admin_client.get("/admin/").get_data(as_text=True)


def test_the_login_page_follows_the_browser_until_someone_chooses(client):
    page = client.get("/admin/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Anmelden" in page.get_data(as_text=True)
    assert "Log in" in client.get("/admin/login").get_data(as_text=True)


def test_every_page_renders_in_german(app, admin_client):
    call_id = add_call(app, "+4915550100301", "paired", language="de")
    _choose(admin_client, "de")
    for path, words in (
        ("/admin/calls", "Anrufe"),
        (f"/admin/calls/{call_id}", "Verlauf"),
        ("/admin/safety", "Aktive Sperren"),
        ("/admin/schedule", "Zeitplan der Fusing Hour"),
        ("/admin/members", "Mitglieder"),
        ("/admin/subscribers", 'aria-label="Abonnenten nach Status"'),
        ("/admin/audit", "Protokoll"),
        ("/admin/account", "Ihr Konto"),
    ):
        response = admin_client.get(path)
        assert response.status_code == 200 and words in response.get_data(as_text=True), path
    schedule = admin_client.get("/admin/schedule").get_data(as_text=True)
    german_days = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
    assert re.search(f"Jeden <strong>({german_days})</strong> um", schedule)  # the rule's day


def test_the_call_log_shows_and_filters_each_calls_language(app, admin_client):
    german = add_call(app, "+4915550100302", "paired", language="de")
    add_call(app, "+15550100302", "timed_out", language="en")
    page = admin_client.get("/admin/calls").get_data(as_text=True)
    assert 'class="language">Deutsch<' in page and 'class="language">English<' in page
    only = admin_client.get("/admin/calls?language=de").get_data(as_text=True)
    assert 'class="language">English<' not in only and f"/admin/calls/{german}" in only
    detail = admin_client.get(f"/admin/calls/{german}").get_data(as_text=True)
    assert '<dd id="call-language">Deutsch</dd>' in detail
    rows = list(csv.DictReader(io.StringIO(admin_client.get("/admin/calls.csv").get_data(True))))
    assert sorted(r["language"] for r in rows) == ["de", "en"]


def test_the_pool_and_the_charts_per_language(app, admin_client):
    add_call(app, "+4915550100303", "paired", language="de")
    add_call(app, "+4915550100304", "timed_out", language="de")
    add_call(app, "+15550100304", "paired", language="en")
    with app.test_request_context():
        pool.match_or_wait("tok-de-1", "i" * 64, "room-de", 1, language="de")
        every = stats.chart_data(stats.PERIODS["7d"])
        german = stats.chart_data(stats.PERIODS["7d"], "de")
    assert {name: sum(v) for name, v in every["languages"]} == {"English": 1, "Deutsch": 2}
    assert german["total"] == 2 and dict(german["share"]) == {"Paired": 1, "Timed out": 1}
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert '<span data-language="de">1 Deutsch</span>' in page
    assert '<span data-language="en">0 English</span>' in page
    assert 'id="chart-languages-volume"' in page
    filtered = admin_client.get("/admin/?language=de").get_data(as_text=True)
    assert 'aria-current="true">Deutsch</a>' in filtered


def test_the_timeline_and_outcome_words_follow_the_admins_language(app):
    rescued = f"{Step.RESCUED}: HTTP 502"
    with app.test_request_context():
        with force_locale("de"):
            assert labels.describe(Step.MENU, "1") == "Begrüßungsmenü: 1 gedrückt (jetzt sprechen)"
            assert labels.describe(Step.AFTER_MENU, "9") == (
                "Nach dem Gespräch: 9 gedrückt (Verabschiedung)"
            )
            assert labels.describe(Step.REDIRECT_FAILED, rescued) == (
                "Weiterleiten des Anrufs bei Twilio fehlgeschlagen (HTTP 502)"
            )
            assert labels.describe(Step.ENDED, "busy") == "Anruf beendet: besetzt"
            assert labels.outcome_label(None) == "Läuft"
            assert str(labels.SUBSCRIBER_STATUS_LABELS["active"]) == "Erhalten Erinnerungen"
        with force_locale("en"):
            assert labels.describe(Step.MENU, None) == "Greeting menu: no key (talk now)"
            assert labels.describe(Step.REDIRECT_FAILED, rescued) == (
                "Moving the call on failed at Twilio (HTTP 502)"
            )
            assert labels.outcome_label("paired") == "Paired"
