"""The greeting is the hot path: one Redis round trip and no SQL once the caches are warm."""

from __future__ import annotations

import phonenumbers
from flask import request
from flask.sessions import SecureCookieSessionInterface
from redis.connection import AbstractConnection
from sqlalchemy import event

from app.db import db
from app.line import calls
from tests.support import call_form, twiml


def test_a_warm_greeting_costs_one_redis_round_trip_and_no_sql(twilio, app, monkeypatch):
    twiml(twilio.post("/twilio/voice", call_form("+15550100405")))  # warms caches and pools
    sent: list[bytes] = []
    real_send = AbstractConnection.send_packed_command

    def send(self, command, *args, **kwargs):
        sent.append(command)  # one send per round trip: a pipeline goes out whole
        return real_send(self, command, *args, **kwargs)

    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        root = twiml(twilio.post("/twilio/voice", call_form("+15550100405")))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert root.find("Gather") is not None
    assert statements == []
    assert len(sent) == 1, sent


def test_a_webhook_builds_no_session_signer_but_the_admin_still_signs_its_cookie(
    twilio, app, monkeypatch
):
    built: list[str] = []
    real = SecureCookieSessionInterface.get_signing_serializer

    def signer(self, app):
        built.append(request.path)
        return real(self, app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", signer)
    root = twiml(twilio.post("/twilio/voice", call_form("+15550100406")))
    assert root.find("Gather") is not None
    assert built == []  # no cookie came, none is set: nothing to sign or check
    browser = app.test_client()
    browser.set_cookie("session", "forged")  # a request that brings one has it checked
    browser.get("/admin/login")
    assert built and set(built) == {"/admin/login"}


def test_a_greeting_that_writes_no_row_looks_up_no_region(twilio, app, monkeypatch):
    """+1 and +44 are shared by several regions: finding a number's region costs more than
    parsing it, and only a call's row needs it."""
    looked_up: list[object] = []
    real = phonenumbers.region_code_for_number

    def region(number):
        looked_up.append(number)
        return real(number)

    monkeypatch.setattr(phonenumbers, "region_code_for_number", region)
    root = twiml(twilio.post("/twilio/voice", call_form("+447700900406")))
    assert root.find("Gather") is not None
    assert looked_up == []
    with app.app_context():
        caller = calls.caller_of("CA" + "7" * 32, "+447700900406")
        assert caller.country == "GB" and caller.masked == "+44 ••• •••• 06"
    assert len(looked_up) == 1
