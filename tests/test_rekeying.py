"""Re-keying the caller identity: blocks, reports, memberships and subscribers stay with
their callers while a new key is added and after `mindfuse rekey`, and the old key alone no
longer finds anyone."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from app import identity_keys
from app.billing import membership
from app.billing.models import Membership, MembershipStatus
from app.cli import rekey_command
from app.db import db, utcnow
from app.identity import generation, identify
from app.line import safety
from app.line.models import Block, Call, CallerLanguage, Report
from app.sms import subscribers
from tests.support import call_form, dump_database, spoken, twiml

BLOCKED, MEMBER, PARTNER = "+15550100451", "+15550100452", "+15550100453"


def _identity(app, number: str) -> str:
    return identify(number, app.config["NUMBER_HASH_KEY"], "CA" + "0" * 32).identity


def _turned_away(twilio, number: str) -> tuple[str, str]:
    form = call_form(number)
    said = spoken(twiml(twilio.post("/twilio/voice", form)))
    call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
    return said, call.identity if call else ""


def _line_under_the_first_key(app) -> dict[str, str]:
    found = {number: _identity(app, number) for number in (BLOCKED, MEMBER, PARTNER)}
    with app.app_context():
        later = utcnow() + timedelta(days=1)
        db.session.add(Block(identity=found[BLOCKED], reason="reports", expires_at=later))
        db.session.add(Report(reporter=found[MEMBER], reported=found[PARTNER]))
        db.session.add(Membership(identity=found[MEMBER], status=MembershipStatus.ACTIVE))
        db.session.add(CallerLanguage(identity=found[PARTNER], language="de"))
        db.session.commit()
        assert subscribers.subscribe(MEMBER, found[MEMBER], "call", "Europe/Berlin")
    return found


def _still_the_same_people(app, twilio, first: dict[str, str], held: str) -> None:
    with app.app_context():
        said, identity = _turned_away(twilio, BLOCKED)
        assert "closed to you" in said and identity == held
        member = identity_keys.in_hand(first[MEMBER])
        assert safety.excluded_partners(member) >= {identity_keys.newest(first[PARTNER])}
        assert membership._row(member).status == MembershipStatus.ACTIVE
        assert subscribers.by_identity(member) is not None
        assert db.session.query(Membership).count() == 1  # found, not made again


def test_a_new_key_is_accepted_at_once_and_the_command_rekeys_everyone(app, twilio):
    first = _line_under_the_first_key(app)
    app.config["NUMBER_HASH_REKEYS"] = (secrets.token_hex(32),)
    # Added, not yet applied: identities in hand stay in the stored rows' generation.
    _still_the_same_people(app, twilio, first, held=first[BLOCKED])
    with app.app_context():
        counts = identity_keys.rekey()
        assert counts["block.identity"] == 1 and counts["membership.identity"] == 1
        assert counts["report.reporter"] == counts["report.reported"] == 1
        assert counts["subscriber.identity"] == 1 and counts["call.identity"] == 1
        assert counts["caller_language.identity"] == 1
        assert subscribers.language_of(identity_keys.newest(first[PARTNER]), None) == "de"
        assert identity_keys.applied() == 1
        stored = db.session.scalars(select(Block.identity)).all()
        assert stored == [identity_keys.newest(first[BLOCKED])] and generation(stored[0]) == 1
        assert set(identity_keys.rekey().values()) == {0}  # a second run changes nothing
    with app.app_context():
        _still_the_same_people(app, twilio, first, held=identity_keys.newest(first[BLOCKED]))
        # An identity from before, still in hand (a payment's metadata, a call's row):
        assert safety.active_block(first[BLOCKED]) is not None
        assert subscribers.by_identity(first[MEMBER]) is not None
        assert membership._row(first[MEMBER]).status == MembershipStatus.ACTIVE
        assert db.session.query(Membership).count() == 1
    dump = dump_database(app)
    assert not [n for n, identity in first.items() if identity in dump]  # the old key finds no one


def test_a_key_changed_after_it_was_applied_is_refused(app):
    app.config["NUMBER_HASH_REKEYS"] = (secrets.token_hex(32),)
    with app.app_context():
        identity_keys.rekey()
    app.config["NUMBER_HASH_REKEYS"] = (secrets.token_hex(32),)  # not the key applied
    result = app.test_cli_runner().invoke(rekey_command)
    assert result.exit_code != 0 and "not the key that was applied" in result.output
    app.config["NUMBER_HASH_REKEYS"] = ()
    result = app.test_cli_runner().invoke(rekey_command)
    assert result.exit_code != 0 and "applied but is not configured" in result.output


def test_a_row_of_the_newer_form_written_meanwhile_keeps_the_older_beside_it(app, caplog):
    app.config["NUMBER_HASH_REKEYS"] = (secrets.token_hex(32),)
    with app.app_context():
        older, other = _identity(app, MEMBER), _identity(app, PARTNER)
        newer = identity_keys.newest(older)
        for identity in (older, newer, other):
            db.session.add(Membership(identity=identity, status=MembershipStatus.ACTIVE))
        db.session.commit()
        counts = identity_keys.rekey()
        assert counts["membership.identity"] == 1  # the other caller's, after the refusal
        stored = set(db.session.scalars(select(Membership.identity)))
        assert stored == {older, newer, identity_keys.newest(other)}
    assert "left beside its newer one" in caplog.text
