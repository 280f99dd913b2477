"""A late joiner paired with a guest of a higher id while the round's rooms are written (the
rotation flushes every guest it moves in the order of their ids) does not deadlock with it:
the pairing holds the two guests' rows in the order of their ids too.

PostgreSQL only: the embedded SQLite has one write lock, which a transaction takes whole.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, FusingSession, GuestState
from tests.support import interleave, waiting_call


def test_a_late_pairing_and_the_round_s_rooms_at_once_do_not_deadlock(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        now = utcnow()
        session = FusingSession(
            starts_at=now, ends_at=now + timedelta(hours=1), timezone="UTC",
            round_seconds=720, gap_seconds=30,
        )  # fmt: skip
        calls = [waiting_call(letter * 64) for letter in "jp"]
        db.session.add(session)
        db.session.commit()
        joiner, partner = (
            FusingGuest(
                session_id=session.id, call_id=call.id, identity=call.identity,
                state=GuestState.LOBBY,
            )
            for call in calls
        )  # fmt: skip
        db.session.add(joiner)
        db.session.commit()
        db.session.add(partner)  # the higher id
        db.session.commit()
        ids = {"session": session.id, "joiner": joiner.id, "partner": partner.id}
        # The partner waits in the lobby's pool for a late joiner.
        assert sessions.pair_late_joiner(session, partner) == (None, None)
    results: list = []

    def rotate(held) -> None:
        """What the rotation's flush does: each guest it moves, in the order of their ids."""
        for step, guest_id in enumerate((ids["joiner"], ids["partner"])):
            db.session.execute(
                update(FusingGuest)
                .where(FusingGuest.id == guest_id)
                .values(state=GuestState.ROOM, room="fusing-round")
            )
            if step == 0:
                held()  # the rotation goes on to the partner once the pairing waits
        db.session.commit()

    def pair() -> None:
        found = db.session.get(FusingSession, ids["session"])
        guest = db.session.get(FusingGuest, ids["joiner"])
        results.append(sessions.pair_late_joiner(found, guest))

    errors = interleave(app, rotate, pair)
    assert not errors, errors
    assert results == [(None, None)]  # the round took the partner first: the joiner waits
