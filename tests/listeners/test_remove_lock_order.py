"""An admin who removes a listener while a ring of theirs ends does not deadlock with it: the
ring's close updates the offer and then the listener, and the removal deletes the offers
before the listener, so neither holds a row the other waits for while it waits.

PostgreSQL only: the embedded SQLite has one write lock, which a transaction takes whole.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.line.models import Call
from app.listeners import offers, roster
from app.listeners.models import Listener, ListenerOffer, OfferState
from tests.support import interleave, waiting_call


def test_removing_a_listener_while_their_ring_ends_does_not_deadlock(app, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        listener = roster.add(
            "Robin", "+15550100186", ["en"], "Europe/Berlin", "mon-sun 00:00-24:00"
        )
        call = waiting_call("e" * 64)
        db.session.commit()
        offer = offers.claim_for(db.session.get(Call, call.id))
        assert offer is not None
        offer_id, listener_id = offer.id, listener.id
    unrest = offers._unrest

    def ring_ends(held) -> None:
        """A close that has updated its offer, and holds it, before it updates the listener."""
        monkeypatch.setattr(offers, "_unrest", lambda which: (held(), unrest(which)))
        offers.close(offers.by_id(offer_id), OfferState.NO_ANSWER, try_next=False)

    def admin_removes() -> None:
        roster.remove(db.session.get(Listener, listener_id))
        db.session.commit()

    errors = interleave(app, ring_ends, admin_removes)
    assert not errors, errors
    with app.app_context():
        assert db.session.scalars(select(Listener)).all() == []
        assert db.session.scalars(select(ListenerOffer)).all() == []
