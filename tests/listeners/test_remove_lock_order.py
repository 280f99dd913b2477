"""An admin who removes a listener while a ring of theirs ends does not deadlock with it: the
ring's close updates the offer and then the listener, and the removal deletes the offers
before the listener, so neither holds a row the other waits for while it waits.

PostgreSQL only: the embedded SQLite has one write lock, which a transaction takes whole.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from app.db import db
from app.line.models import Call
from app.listeners import offers, roster
from app.listeners.models import Listener, ListenerOffer, OfferState
from tests.support import blocking_pids, eventually, waiting_call


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
        raw = create_engine(db.engine.url, poolclass=NullPool)
    errors: list[BaseException] = []
    pids: dict[str, int] = {}
    holding, go_on = threading.Event(), threading.Event()
    unrest = offers._unrest

    def held_unrest(which: int) -> None:
        """The close has updated its offer: it holds that row until it commits."""
        holding.set()
        go_on.wait(15)
        unrest(which)

    monkeypatch.setattr(offers, "_unrest", held_unrest)

    def ring_ends() -> None:
        with app.app_context():
            try:
                offers.close(offers.by_id(offer_id), OfferState.NO_ANSWER, try_next=False)
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    def admin_removes() -> None:
        with app.app_context():
            try:
                pids["remove"] = db.session.scalar(text("SELECT pg_backend_pid()"))
                roster.remove(db.session.get(Listener, listener_id))
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    with raw.connect() as monitor:
        closer = threading.Thread(target=ring_ends)
        closer.start()
        assert holding.wait(10)
        remover = threading.Thread(target=admin_removes)
        remover.start()
        eventually(lambda: "remove" in pids and blocking_pids(monitor, pids["remove"]))
        go_on.set()
        closer.join(15)
        remover.join(15)
    raw.dispose()
    assert not errors, errors
    with app.app_context():
        assert db.session.scalars(select(Listener)).all() == []
        assert db.session.scalars(select(ListenerOffer)).all() == []
