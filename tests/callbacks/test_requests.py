"""Asking for a call-back and claiming one: who may ask, how often, what is kept, who is
never rung for whom, and that one request is claimed once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.callbacks import requests as callbacks
from app.callbacks.models import CallbackRequest, CallbackState
from app.db import db, utcnow
from app.line.models import Block, Call, CallState, Report
from app.sms.crypto import decrypt
from tests.support import call_form, dump_database, spoken, together, twiml, waiting_call

REQUESTER = "+15550100151"


def _ask(twilio, number: str, menu: str = "/twilio/voice/menu") -> str:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return spoken(twiml(twilio.post(menu, {**form, "Digits": "3"})))


def _rows(app) -> list[CallbackRequest]:
    with app.app_context():
        found = db.session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).all()
        db.session.expunge_all()
        return found


def _open_request(identity: str, **fields) -> CallbackRequest:
    """An open request of `identity`, open an hour more (its number a stand-in)."""
    fields = {"masked_number": "+1 ••• •••• 51", **fields}
    return CallbackRequest(
        identity=identity,
        open_for=identity,
        number_encrypted=b"x",
        expires_at=utcnow() + timedelta(hours=1),
        **fields,
    )


def _wait(twilio, number: str) -> tuple[dict, str]:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return form, spoken(twiml(twilio.post("/twilio/voice/menu", {**form, "Digits": "1"})))


def test_a_caller_asks_at_the_greeting_and_the_number_is_kept_only_encrypted(twilio, app):
    said = _ask(twilio, REQUESTER)
    assert "call you back" in said and "2 hours" in said
    (row,) = _rows(app)
    assert row.state == CallbackState.OPEN and row.masked_number.endswith("51")
    assert row.expires_at - row.requested_at == timedelta(minutes=120)
    with app.app_context():
        assert decrypt(row.number_encrypted) == REQUESTER
        call = db.session.scalar(select(Call))
        assert call.outcome == "callback_asked" and row.asked_on_call_id == call.id
    assert "5550100151" not in dump_database(app)


def test_nobody_free_offers_a_call_back_too(twilio, app):
    assert "call you back" in _ask(twilio, REQUESTER, "/twilio/voice/timeout/choice")
    assert len(_rows(app)) == 1


def test_a_withheld_number_cannot_ask(twilio, app):
    assert "withheld" in _ask(twilio, "anonymous")
    assert _rows(app) == []


def test_one_open_request_per_caller_and_a_daily_limit(twilio, app):
    app.config["CALLBACKS_PER_DAY"] = 2
    assert "call you back" in _ask(twilio, REQUESTER)
    assert "already asked" in _ask(twilio, REQUESTER)
    with app.app_context():
        db.session.execute(update(CallbackRequest).values(state="dropped", open_for=None))
        db.session.commit()
    assert "call you back" in _ask(twilio, REQUESTER)
    with app.app_context():
        db.session.execute(update(CallbackRequest).values(state="dropped", open_for=None))
        db.session.commit()
    assert "several times today" in _ask(twilio, REQUESTER)
    assert len(_rows(app)) == 2


@pytest.mark.parametrize("who_reported", ["requester", "waiter"])
def test_a_reported_pair_is_never_called_back_for_each_other(twilio, app, who_reported):
    waiter, other = "+447700900151", "+447700900152"
    _ask(twilio, REQUESTER)
    with app.app_context():
        from app.identity import identify  # noqa: PLC0415

        key = app.config["NUMBER_HASH_KEY"]
        ids = {n: identify(n, key, "CA" + "0" * 32).identity for n in (REQUESTER, waiter)}
        pair = (REQUESTER, waiter) if who_reported == "requester" else (waiter, REQUESTER)
        db.session.add(Report(reporter=ids[pair[0]], reported=ids[pair[1]]))
        db.session.commit()
    form, said = _wait(twilio, waiter)
    assert "finding someone" in said.lower()
    assert _rows(app)[0].state == CallbackState.OPEN
    ended = {**form, "CallStatus": "completed", "SequenceNumber": "1", "CallDuration": "5"}
    assert twilio.post("/twilio/voice/status", ended).status_code == 204
    assert "calling someone who asked" in _wait(twilio, other)[1]
    assert _rows(app)[0].state == CallbackState.CALLING


def test_two_callers_starting_to_wait_at_once_claim_one_request_once(app):
    with app.app_context():
        db.session.add(_open_request("r" * 64))
        ids = [waiting_call(f"{i}" * 64).id for i in (1, 2)]
        db.session.commit()
        db.session.flush()
        ids = [c.id for c in db.session.scalars(select(Call))]
    claims, lock = [], threading.Lock()

    def claim() -> None:
        mine = ids.pop()
        call = db.session.get(Call, mine)
        won = callbacks.claim_for(call)
        with lock:
            claims.append(won is not None)
        db.session.remove()

    together(2, claim, app.app_context)
    assert sorted(claims) == [False, True]
    (row,) = _rows(app)
    assert row.state == CallbackState.CALLING and row.waiting_call_id is not None


def test_one_caller_claimed_for_twice_at_once_has_one_requester_called(app):
    with app.app_context():
        db.session.add(_open_request("r" * 64))
        db.session.add(_open_request("s" * 64))
        call = waiting_call("1" * 64)
        db.session.commit()
        call_id = call.id
    claims, lock = [], threading.Lock()

    def claim() -> None:  # the caller's own wait and a job that serves the waiting, say
        won = callbacks.claim_for(db.session.get(Call, call_id))
        with lock:
            claims.append(won is not None)
        db.session.remove()

    together(2, claim, app.app_context)
    assert sorted(claims) == [False, True]
    assert sorted(row.state for row in _rows(app)) == [CallbackState.CALLING, CallbackState.OPEN]


def test_a_caller_paired_since_they_were_read_has_nobody_called_for_them(app):
    with app.app_context():
        db.session.add(_open_request("r" * 64))
        call = waiting_call("1" * 64)
        db.session.commit()
        # Paired by another process after this one read them as waiting.
        db.session.execute(
            update(Call)
            .where(Call.id == call.id)
            .values(state=CallState.MATCHED)
            .execution_options(synchronize_session=False)
        )
        assert call.state == CallState.WAITING  # what this process still holds
        assert callbacks.claim_for(call) is None
    assert [row.state for row in _rows(app)] == [CallbackState.OPEN]


def test_a_blocked_requester_is_skipped_for_one_other_not_two(app):
    with app.app_context():
        now = utcnow()
        for minutes, who in ((3, "b"), (2, "s"), (1, "t")):  # the oldest is blocked
            db.session.add(_open_request(who * 64, requested_at=now - timedelta(minutes=minutes)))
        db.session.add(
            Block(identity="b" * 64, reason="report", expires_at=now + timedelta(days=1))
        )
        call = waiting_call("1" * 64)
        db.session.commit()
        claimed = callbacks.claim_for(call)
        assert claimed is not None and claimed.identity == "s" * 64
    states = {row.identity[0]: row.state for row in _rows(app)}
    assert states == {"b": "dropped", "s": "calling", "t": "open"}


def test_two_requesters_starting_to_wait_at_once_neither_fails(app):
    # Each cancels their own request, then looks at the other's: neither may wait for the
    # other's row (a deadlock, which PostgreSQL ends by failing one of the two).
    with app.app_context():
        ids = []
        for who in ("1", "2"):
            db.session.add(_open_request(who * 64))
            ids.append(waiting_call(who * 64))
        db.session.commit()
        ids = [call.id for call in ids]
    failures, lock = [], threading.Lock()

    def claim() -> None:
        with lock:
            mine = ids.pop()
        try:
            callbacks.claim_for(db.session.get(Call, mine))
        except Exception as error:  # noqa: BLE001 - what the caller's webhook would meet
            with lock:
                failures.append(repr(error))
        db.session.remove()

    for _ in range(3):
        together(2, claim, app.app_context)
        assert failures == []
        with app.app_context():  # open again, for the next try
            db.session.execute(
                update(CallbackRequest).values(
                    state=CallbackState.OPEN, open_for=CallbackRequest.identity
                )
            )
            db.session.commit()
            ids = [call.id for call in db.session.scalars(select(Call))]


def test_the_window_ends_and_the_number_goes(app):
    with app.app_context():
        now = utcnow()
        for hours, state in ((-1, "open"), (1, "open"), (-49, "dropped")):
            db.session.add(
                CallbackRequest(
                    identity=f"{hours}".ljust(64, "x"),
                    open_for=f"{hours}".ljust(64, "x") if state == "open" else None,
                    number_encrypted=b"x" if state == "open" else None,
                    masked_number="+1 ••• •••• 51",
                    state=state,
                    requested_at=now + timedelta(hours=min(hours, 0) - 1),
                    expires_at=now + timedelta(hours=hours),
                )
            )
        db.session.commit()
        assert callbacks.expire_due() == {"expired": 1, "lost": 0, "forgotten": 1}
    states = [(r.state, r.number_encrypted is None, r.open_for is None) for r in _rows(app)]
    assert states == [("expired", True, True), ("open", False, False)]


def test_a_caller_waiting_is_rung_for_only_by_someone_who_asked_in_their_language(app):
    with app.app_context():
        now = utcnow()
        for who, language in (("d", "de"), ("e", "en")):
            db.session.add(
                _open_request(
                    who * 64,
                    masked_number="+49 ••• •••• 51",
                    requested_at=now - timedelta(minutes=5 if language == "de" else 1),
                    language=language,
                )
            )
        english = waiting_call("1" * 64)
        db.session.commit()
        claimed = callbacks.claim_for(english)
        assert claimed is not None and claimed.language == "en"  # not the older German one
        german = waiting_call("2" * 64)
        german.language = "de"
        db.session.commit()
        assert callbacks.claim_for(german).language == "de"


def test_a_request_asked_after_a_wait_found_none_is_claimed_by_the_next_wait(app):
    with app.app_context():
        call = waiting_call("w" * 64)
        db.session.commit()
        assert callbacks.claim_for(call) is None  # none open: kept so by this process
        db.session.add(_open_request("r" * 64))
        db.session.commit()
        won = callbacks.claim_for(db.session.get(Call, call.id))
        assert won is not None and won.waiting_call_id == call.id
