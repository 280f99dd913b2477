"""What a Fusing Hour guest's phone is told to play: the lobby's countdown loops itself."""

from __future__ import annotations

from datetime import timedelta

from app.db import db, utcnow
from app.fusing.models import FusingSession
from tests.support import PUBLIC, call_form, spoken, twiml


def _session(app, starts_in: timedelta) -> int:
    with app.app_context():
        starts = utcnow().replace(microsecond=0) + starts_in
        session = FusingSession(
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            timezone="UTC",
            round_seconds=720,
            gap_seconds=30,
        )
        db.session.add(session)
        db.session.commit()
        return session.id


def test_the_countdown_speaks_plays_once_and_comes_back_to_itself(twilio, app):
    number = _session(app, timedelta(minutes=5))
    path = f"/twilio/fusing/countdown?session={number}"
    root = twiml(twilio.post(path, call_form()))
    assert [node.tag for node in root] == ["Say", "Play", "Redirect"]
    assert "about 5 minutes" in spoken(root)
    assert root.find("Play").get("loop") in (None, "1")  # one piece, then the countdown again
    # Twilio plays a waitUrl document once: the Redirect back is what keeps the lobby talking.
    assert root.find("Redirect").text == PUBLIC + path
    assert root.find("Redirect").get("method") == "POST"


def test_after_the_last_round_began_the_lobby_still_loops(twilio, app):
    number = _session(app, -timedelta(minutes=59))
    root = twiml(twilio.post(f"/twilio/fusing/countdown?session={number}", call_form()))
    assert "last round" in spoken(root).lower()
    assert root.find("Redirect").text.endswith(f"/twilio/fusing/countdown?session={number}")


def test_a_countdown_for_no_session_is_music_that_loops_by_itself(twilio):
    root = twiml(twilio.post("/twilio/fusing/countdown?session=999999", call_form()))
    assert root.find("Play").get("loop") == "0" and root.find("Redirect") is None
