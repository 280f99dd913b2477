"""app.db.locked: rows read FOR UPDATE are held until the transaction ends, on PostgreSQL
by the row lock and on the embedded SQLite (which has none) by its one write lock, so a
second transaction's check waits for the first's claim and sees it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from app import create_app
from app.db import db, locked
from app.line.models import Call, CallState
from tests.support import waiting_call


@pytest.fixture(params=["configured", "sqlite"])
def either(request, tmp_path):
    """The suite's own database (PostgreSQL in CI), and a SQLite file."""
    if request.param == "configured":
        yield request.getfixturevalue("app")
        return
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/l.db"})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _race(app, call_id: int) -> tuple[str, bool]:
    """The first transaction locks the row, and half a second later changes and commits it;
    the second locks it meanwhile: what the second read, and whether it asked before the
    first committed (if not, the try tells nothing)."""
    held, committed, seen = threading.Event(), threading.Event(), []

    def first() -> None:
        with app.app_context():
            locked(select(Call.id).where(Call.id == call_id))
            held.set()
            threading.Event().wait(0.5)  # the second tries meanwhile
            db.session.execute(update(Call).where(Call.id == call_id).values(state="matched"))
            db.session.commit()
            committed.set()

    def second() -> None:
        held.wait(5)
        with app.app_context():
            early = not committed.is_set()
            seen.append((locked(select(Call.state).where(Call.id == call_id)).scalar(), early))
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return seen[0]


def test_a_second_check_waits_for_the_first_claim_and_sees_it(either):
    with either.app_context():
        call = waiting_call("l" * 64)
        db.session.commit()
        call_id = call.id
    for _ in range(5):  # a loaded machine may start the second only after the first is done
        with either.app_context():
            db.session.execute(update(Call).where(Call.id == call_id).values(state="waiting"))
            db.session.commit()
        state, early = _race(either, call_id)
        if early:
            assert state == CallState.MATCHED
            return
    pytest.fail("the second transaction never asked before the first committed")
