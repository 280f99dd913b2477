"""The jobs of a ring group: a listener's call not yet placed when another listener took the
caller is never placed; one placed at that very moment is stopped once its sid is known."""

from __future__ import annotations

from app.listeners import offers
from app.listeners.models import OfferState
from tests.support import rung_together
from workers import listeners


def _group(app) -> tuple[int, int]:
    with app.app_context():
        taker, other = rung_together(("+15550100177", "+15550100178"), "r" * 64)
        return taker.id, other.id


def _take(taker_id: int) -> None:
    taker = offers.by_id(taker_id)
    assert offers.close(taker, OfferState.TAKEN)
    offers.taken_elsewhere(taker)


def test_a_call_not_yet_placed_when_another_took_the_caller_is_never_placed(app, monkeypatch):
    taker_id, other_id = _group(app)
    placed = []
    monkeypatch.setattr(listeners, "ring_once", lambda *args: placed.append(args) or "CA1")
    with app.app_context():
        _take(taker_id)
        assert listeners.place_listener_call(other_id) == "not ringing"
        assert listeners.stop_ringing(other_id) == "not placed"
    assert placed == []


def test_a_call_placed_as_another_took_the_caller_is_stopped(app, monkeypatch):
    taker_id, other_id = _group(app)
    sid, stopped = "CA" + "8" * 32, []

    def ring_once(*args):  # Twilio takes the call while the other listener presses 1
        _take(taker_id)
        return sid

    monkeypatch.setattr(listeners, "ring_once", ring_once)
    monkeypatch.setattr(listeners.rest, "cancel_call", stopped.append)
    with app.app_context():
        assert listeners.place_listener_call(other_id) == "stopped"
        assert offers.by_id(other_id).state == OfferState.ELSEWHERE
    assert stopped == [sid]
