"""A listener rung with another who took the caller first hears so, whether their phone is
answered or their 1 comes after, and never joins anyone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import urls
from app.db import db
from app.line.models import Call
from app.listeners import offers
from app.listeners.models import ListenerOffer, OfferState
from tests.support import call_form, rung_together, spoken, twiml


@pytest.mark.parametrize("view", ["answer", "choice"])
def test_a_listener_whose_group_was_taken_by_another_hears_the_caller_is_gone(app, twilio, view):
    loser_sid = "CA" + "7" * 32
    with app.app_context():
        taker, loser = rung_together(("+15550100175", "+15550100176"), "q" * 64)
        offers.placed(loser, loser_sid)
        assert offers.close(taker, OfferState.TAKEN)
        offers.taken_elsewhere(taker)
        loser_id = loser.id
    path = urls.LISTENER_ANSWER if view == "answer" else urls.LISTENER_CHOICE
    form = call_form("+15550100000", sid=loser_sid, To="+15550100176", CallStatus="in-progress")
    form.update({"AnsweredBy": "human"} if view == "answer" else {"Digits": "1"})
    root = twiml(twilio.post(f"{path}?offer={loser_id}", form))
    assert "no longer waiting" in spoken(root)
    assert root.find("Gather") is None and root.find("Dial") is None
    with app.app_context():
        assert db.session.scalar(select(Call).where(Call.sid == loser_sid)) is None
        assert db.session.get(ListenerOffer, loser_id).state == OfferState.ELSEWHERE
