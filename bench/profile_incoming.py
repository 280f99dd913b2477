"""Where the time of the incoming-call webhook goes: pyinstrument over the Flask test client.

Runs in-process against the configured PostgreSQL and Redis (a fresh schema, as the other
benchmarks). Usage: python -m bench.profile_incoming [calls] [html path]
"""

from __future__ import annotations

import secrets
import sys
import time
from collections import Counter

from pyinstrument import Profiler
from sqlalchemy import event
from twilio.request_validator import RequestValidator

from app import create_app
from app.db import db
from bench.common import record
from bench.stack import Stack

BUCKETS = (
    ("signature check", ("twilio/request_validator", "telephony/signature")),
    ("database (SQLAlchemy, psycopg)", ("sqlalchemy", "psycopg", "flask_sqlalchemy")),
    ("Redis", ("redis/",)),
    ("caller identity (phonenumbers, HMAC)", ("phonenumbers", "app/identity")),
    ("TwiML building", ("twilio/twiml", "telephony/twiml", "xml/etree")),
    ("Fusing Hour schedule lookup", ("app/fusing",)),
    ("Flask and Werkzeug", ("flask/", "werkzeug/")),
)


def _bucket(path: str) -> str:
    for name, needles in BUCKETS:
        if any(needle in path for needle in needles):
            return name
    return "other"


def _attribute(frame, totals: Counter, seen: str | None = None) -> None:
    """Charge each frame's own time to the innermost known bucket on its stack."""
    here = _bucket(frame.file_path or "")
    owner = here if here != "other" else seen
    own = frame.time - sum(child.time for child in frame.children)
    totals[owner or "other"] += max(own, 0.0)
    for child in frame.children:
        _attribute(child, totals, owner)


def _steps(frame, totals: Counter) -> None:
    """Time by the view's direct steps (what `incoming` calls)."""
    if frame.function == "incoming" and (frame.file_path or "").endswith("voice/views.py"):
        for child in frame.children:
            totals[f"{child.function} ({(child.file_path or '').split('/')[-1]})"] += child.time
        return
    for child in frame.children:
        _steps(child, totals)


def _statements(engine, action) -> list[str]:
    """The SQL statements (first words) that one action sends."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split())[:70])

    event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def profiled(action, indices: range) -> tuple:
    """Run `action(index)` for each index under pyinstrument: the profiler, its session and
    the wall time in seconds."""
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for index in indices:
        action(index)
    profiler.stop()
    return profiler, profiler.last_session, time.perf_counter() - started


def layer_rows(session, count: int, title: str, unit: str) -> list[str]:
    """The table of the session's time by layer, per `unit` (one of `count`), under `title`."""
    totals: Counter = Counter()
    _attribute(session.root_frame(), totals)
    whole = sum(totals.values()) or 1
    rows = [title, "", f"| layer | share of wall time | ms per {unit} |", "| --- | --- | --- |"]
    for name, seconds in totals.most_common():
        rows.append(f"| {name} | {seconds / whole:.0%} | {seconds / count * 1000:.2f} |")
    return rows


def finish(profiler, html: str | None, heading: str, rows: list[str], shown: int) -> None:
    """Write the HTML profile if asked, print the text one, and record the rows."""
    if html:
        with open(html, "w") as out:
            out.write(profiler.output_html())
    print(profiler.output_text(unicode=False, color=False, show_all=False)[:shown])
    record(heading, rows)


def main(count: int = 500, html: str | None = None) -> None:
    """Profile `count` incoming calls and record where their time went."""
    with Stack(web_workers=1, web_threads=1) as stack:
        app = create_app()
        client = app.test_client()
        validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])
        url = stack.env["PUBLIC_BASE_URL"] + "/twilio/voice"

        def one(index: int) -> None:
            form = {
                "CallSid": "CA" + secrets.token_hex(16),
                "From": f"+491555{index:07d}",
                "To": "+15550100000",
                "CallStatus": "ringing",
            }
            headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
            assert client.post("/twilio/voice", data=form, headers=headers).status_code == 200

        for index in range(50):  # warm the connection pools and caches
            one(index)
        with app.app_context():
            statements = _statements(db.engine, lambda: one(49_999))
        profiler, session, wall = profiled(one, range(50, 50 + count))
    rows = layer_rows(
        session,
        count,
        f"{count} incoming calls in-process (Flask test client), {wall / count * 1000:.2f} ms "
        f"each; {session.cpu_time / count * 1000:.2f} ms CPU each.",
        "call",
    )
    steps: Counter = Counter()
    _steps(session.root_frame(), steps)
    rows += ["", "| step of the view | ms per call |", "| --- | --- |"]
    for name, seconds in steps.most_common(8):
        rows.append(f"| {name} | {seconds / count * 1000:.2f} |")
    rows += ["", f"SQL statements per incoming call: {len(statements)}", ""]
    rows += [f"- `{sql}`" for sql in statements]
    finish(
        profiler,
        html,
        "Profile of the incoming-call webhook (pyinstrument, PostgreSQL, Redis)",
        rows,
        6000,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500, sys.argv[2] if len(sys.argv) > 2 else None)
