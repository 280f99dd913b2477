"""Membership through the twin: a non-member gets a checkout link by text, with consent."""

from __future__ import annotations

from sqlalchemy import select

from app.billing.models import Membership
from app.db import db, utcnow
from app.identity import identify
from app.sms.models import Subscriber
from tests.support import eventually

CHECKOUT = "https://checkout.stripe.com/c/pay/cs_test_"


def _free_conversation_used(line, number: str) -> str:
    identity = identify(number, line.app.config["NUMBER_HASH_KEY"], "x").identity
    with line.app.app_context():
        db.session.add(Membership(identity=identity, free_used_at=utcnow()))
        db.session.commit()
    return identity


def _asks_to_talk(line, number: str):
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_heard("4 euros a month")
    return caller


def test_a_subscriber_who_is_not_a_member_gets_the_link_by_text(line):
    number = "+4915550100801"
    identity = _free_conversation_used(line, number)
    line.twin.send_sms(number, "JOIN")  # agreed to texts earlier
    caller = _asks_to_talk(line, number)
    caller.wait_until_heard("sending you a text with a link")
    assert caller.wait_until_ended() == "completed" and caller.conference is None
    link = eventually(lambda: [t for t in line.twin.inbox(number) if CHECKOUT in t])
    assert "4 euros a month" in link[0]
    session = line.twin.checkout.sessions[-1]
    assert session["metadata"] == {"identity": identity} and session["mode"] == "subscription"
    form = line.twin.checkout.forms[session["id"]]
    assert number.lstrip("+") not in str(form)  # the provider never sees the number


def test_a_caller_who_agrees_to_texts_gets_the_link(line):
    number = "+4915550100802"
    _free_conversation_used(line, number)
    caller = _asks_to_talk(line, number)
    caller.wait_until_heard("press 1 to get texts")
    caller.press("1")
    caller.wait_until_heard("sending you a text with a link")
    eventually(lambda: [t for t in line.twin.inbox(number) if CHECKOUT in t])
    with line.app.app_context():
        assert db.session.scalar(select(Subscriber.status)) == "active"
