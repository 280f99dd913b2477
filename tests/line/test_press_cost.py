"""The key that starts a wait or pairs is the herd's hot path: what it reads and commits."""

from __future__ import annotations

from sqlalchemy import event

from app.db import db
from tests.support import call_form, twiml

NOT_READ = ("FROM report", "FROM callback_request", "FROM call ", "FROM call\n")


def _press(twilio, number: str):
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    return twiml(twilio.post("/twilio/voice/menu?arrived=1764600000000", {**form, "Digits": "1"}))


def _costs(app, action) -> tuple[list[str], int]:
    statements: list[str] = []
    commits: list[object] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    def committed(conn):
        commits.append(conn)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", committed)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "commit", committed)
    return statements, len(commits)


def test_a_press_that_waits_or_pairs_reads_no_call_report_or_request_and_commits_once(twilio, app):
    _press(twilio, "+15550100091")  # warms caches and pools: this one waits
    _press(twilio, "+15550100092")  # and this one pairs
    for number, paired in (("+15550100093", False), ("+15550100094", True)):
        statements, commits = _costs(app, lambda n=number: _press(twilio, n))
        menu = [s for s in statements if not s.startswith("INSERT INTO call (")]
        assert not [s for s in menu if any(table in s + " " for table in NOT_READ)], menu
        assert commits <= 2, statements  # the arrival's own, and the wait's or the pairing's
        assert any(s.startswith("INSERT INTO participant") for s in menu) == paired
