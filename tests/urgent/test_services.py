"""Crisis services: the seeded ones, marked to be checked; the admin page that edits them."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.db import db
from app.urgent import services
from app.urgent.models import CrisisService, UrgentHelpDay


def test_the_migration_seeds_well_known_services_each_to_be_checked(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade()
        seeded = {s.country: s for s in db.session.scalars(select(CrisisService))}
        db.engine.dispose()
    assert seeded["GB"].spoken == "116 123" and seeded["DE"].spoken == "0800 111 0 111"
    assert seeded["US"].spoken == "988"
    assert not any(s.checked for s in seeded.values())


def test_uses_are_counted_per_day_in_one_row(app):
    with app.app_context():
        for _ in range(3):
            services.count_use()
        (day,) = db.session.scalars(select(UrgentHelpDay)).all()
        assert day.uses == 3


def test_key_0_at_the_membership_offer_reaches_urgent_help(app, twilio):
    from tests.support import call_form, spoken, twiml  # noqa: PLC0415

    with app.app_context():
        db.session.add(
            CrisisService(country="DE", name="TelefonSeelsorge", spoken="0800 111 0 111")
        )
        db.session.commit()
    form = call_form("+4915550100171")
    twilio.post("/twilio/voice", form)
    said = spoken(twiml(twilio.post("/twilio/voice/join/choice", {**form, "Digits": "0"})))
    assert "TelefonSeelsorge is there for you" in said and "0800 111 0 111" in said
