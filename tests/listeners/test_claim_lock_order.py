"""A claim of listeners for a waiting caller and a count of the free listeners (a call-back
for a free listener) at once do not deadlock: both hold listener rows in the order of their
ids, so neither waits for a row while holding one of a higher id that the other wants.

PostgreSQL only: the embedded SQLite has one write lock, which a transaction takes whole.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.pool import NullPool

from app.db import db, locked_in_order, utcnow
from app.line.models import Call
from app.listeners import offers, roster
from app.listeners.models import Listener, ListenerOffer
from tests.support import blocking_pids, eventually, waiting_call

ALWAYS = "mon-sun 00:00-24:00"


def test_a_claim_and_a_count_of_free_listeners_at_once_do_not_deadlock(app):
    app.config["LISTENERS_RUNG_AT_ONCE"] = 2
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        enlisted = [
            roster.add(f"L{n}", f"+1555010018{n}", ["en"], "Europe/Berlin", ALWAYS)
            for n in range(1, 5)
        ]
        db.session.commit()
        first, second, third, fourth = (listener.id for listener in enlisted)
        # Least recently called first: the second (never), the fourth, the third, the first.
        now = utcnow()
        for listener_id, days in ((fourth, 3), (third, 2), (first, 1)):
            db.session.execute(
                update(Listener)
                .where(Listener.id == listener_id)
                .values(last_called_at=now - timedelta(days=days))
            )
        call = waiting_call("d" * 64)
        db.session.commit()
        call_id = call.id
        raw = create_engine(db.engine.url, poolclass=NullPool)  # the test's own connections
    errors: list[BaseException] = []
    pids: dict[str, int] = {}
    holding, go_on = threading.Event(), threading.Event()

    def claim() -> None:
        with app.app_context():
            try:
                pids["claim"] = db.session.scalar(text("SELECT pg_backend_pid()"))
                offers.claim_for(db.session.get(Call, call_id))
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    def count() -> None:
        """A count of the free listeners that has locked the first and the third when the
        claim begins, and then locks the rest (`free_on_hours`, in the order of their ids)."""
        with app.app_context():
            try:
                locked_in_order(Listener.id, (first, third))
                holding.set()
                go_on.wait(15)
                offers.free_on_hours()
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    with raw.connect() as pauser, raw.connect() as monitor:
        # The second listener's row is held by an admin's pause: the claim, which prefers
        # them, finds them paused once it may look, and goes on to the others.
        pauser.execute(select(Listener.id).where(Listener.id == second).with_for_update())
        counter = threading.Thread(target=count)
        counter.start()
        assert holding.wait(10)
        claimer = threading.Thread(target=claim)
        claimer.start()
        eventually(lambda: "claim" in pids and blocking_pids(monitor, pids["claim"]))
        pauser.execute(update(Listener).where(Listener.id == second).values(paused=True))
        pauser.commit()
        counted_pid = eventually(lambda: blocking_pids(monitor, pids["claim"]))[0]
        assert counted_pid != pauser.scalar(text("SELECT pg_backend_pid()"))
        go_on.set()
        counter.join(15)
        claimer.join(15)
    raw.dispose()
    assert not errors, errors
    with app.app_context():
        rung = db.session.scalars(
            select(ListenerOffer.listener_id).where(ListenerOffer.waiting_call_id == call_id)
        ).all()
    assert sorted(rung) == sorted([third, fourth])
