"""`mindfuse rekey` while the line runs holds no caller's rows while it waits for another's:
each identity is re-keyed in a transaction of its own, so a live request that holds one
caller's row and then wants another's (as a pairing does) does not deadlock with it.

PostgreSQL only: the embedded SQLite has one write lock, which a transaction takes whole.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.pool import NullPool

from app import identity_keys
from app.db import db
from app.identity import generation, identify
from app.line.models import Call
from tests.support import blocking_pids, eventually

NUMBERS = ("+15550100461", "+15550100462")


def test_a_rekey_and_a_request_holding_two_callers_rows_do_not_deadlock(app, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL")
        rows = {}
        for number in NUMBERS:
            sid = "CA" + secrets.token_hex(16)
            caller = identify(number, app.config["NUMBER_HASH_KEY"], sid)
            call = Call(sid=sid, identity=caller.identity, masked_number="+1 ••• ••• 0100")
            db.session.add(call)
            db.session.flush()
            rows[caller.identity] = call.id
        db.session.commit()
        raw = create_engine(db.engine.url, poolclass=NullPool)  # the request's connection
    app.config["NUMBER_HASH_REKEYS"] = (secrets.token_hex(32),)
    errors: list[BaseException] = []
    pids: dict[str, int] = {}
    second: list[int] = []
    holding, go_on = threading.Event(), threading.Event()
    current = identity_keys.current
    seen: list[str] = []

    def held_current(identity: str, keys: tuple[str, ...]) -> str:
        """Before the second caller's rows: the first caller's are re-keyed."""
        if identity in rows:
            seen.append(identity)
            if len(seen) == 2:
                second.append(rows[identity])
                pids["rekey"] = db.session.scalar(text("SELECT pg_backend_pid()"))
                holding.set()
                go_on.wait(15)
        return current(identity, keys)

    monkeypatch.setattr(identity_keys, "current", held_current)

    def rekey() -> None:
        with app.app_context():
            try:
                identity_keys.rekey()
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    rekeying = threading.Thread(target=rekey)
    rekeying.start()
    with raw.connect() as request, raw.connect() as monitor:
        assert holding.wait(10)
        (held,) = second
        (other,) = set(rows.values()) - {held}
        # The request holds the second caller's row; the re-key waits for it.
        request.execute(update(Call).where(Call.id == held).values(menu_choice="1"))
        go_on.set()
        eventually(lambda: blocking_pids(monitor, pids["rekey"]))
        try:  # ... and then wants the first caller's row
            request.execute(update(Call).where(Call.id == other).values(menu_choice="1"))
            request.commit()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
            request.rollback()
        rekeying.join(15)
    raw.dispose()
    assert not errors, errors
    with app.app_context():
        identities = db.session.scalars(select(Call.identity)).all()
        assert [generation(identity) for identity in identities] == [1, 1]
