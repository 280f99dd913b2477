"""Drill: PostgreSQL unreachable for 10 s.

The line reaches PostgreSQL through this drill's own TCP proxy on loopback (the shared server is
never touched). Two callers talk, one waits; the proxy drops every connection and refuses new
ones for 10 s while callers dial and one talker hangs up; then it is restored. Callers during
the cut hear an apology; afterwards the line serves again and nothing it knew is lost.
Usage: python -m bench.drills.postgres_cut
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

from app import create_app
from app.db import db
from app.line.models import Call, CallState
from bench.drills import Drill
from bench.drills.common_line import dial_and_press, states, wait_until
from bench.drills.proxy import Proxy
from bench.stack import Stack
from workers.waiting import reconcile_calls

OUTAGE = 10


def _heard(caller, text: str) -> bool:
    return any(text in line.lower() for line in caller.heard)


def main() -> None:
    """Run the drill."""
    drill = Drill("PostgreSQL unreachable for 10 s")
    target = urlsplit(os.environ["DATABASE_URL"])
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432))
    try:
        with Stack(db_port=proxy.port, WAIT_TIMEOUT_SECONDS="60") as stack:
            _run(drill, stack, proxy)
    finally:
        proxy.close()
    drill.finish()


def _run(drill: Drill, stack: Stack, proxy: Proxy) -> None:
    app = create_app()
    stack.worker()
    twin = stack.twin
    talkers = [dial_and_press(twin, "+15550100061"), dial_and_press(twin, "+15550100062")]
    rooms = {c.wait_until_in_conference(timeout=15) for c in talkers}
    waiter = dial_and_press(twin, "+15550100063")
    wait_until(lambda: states(app).get(CallState.WAITING) == 1, 15)
    drill.check(len(rooms) == 1, "before the cut two callers talk and one waits", states(app))
    known = states(app)

    proxy.cut()
    cut_at = time.monotonic()
    talkers[0].hang_up()  # its status callback arrives while the database is away
    hung_at = time.monotonic()
    during = [twin.dial(f"+4477009000{n:02d}") for n in range(4)]
    apologised = wait_until(lambda: all(_heard(c, "we are sorry") for c in during), OUTAGE - 2)
    drill.check(apologised, "callers during the outage hear an apology", len(during))
    drill.check(
        wait_until(lambda: all(c.ended for c in during), 5), "and are hung up, not left in silence"
    )
    errors = [e for c in during for e in c.errors]
    drill.check(not errors, "every answer was valid TwiML (no Twilio application errors)", errors)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
    proxy.restore()
    restored = time.monotonic()

    after = dial_and_press(twin, "+15550100064")
    room = after.wait_until_in_conference(timeout=20)
    took = (time.monotonic() - restored) * 1000
    drill.note(f"the first caller after the outage dialled, chose and was paired in {took:.0f} ms")
    drill.check(room == waiter.conference, "the caller who waited through it is paired next", room)
    with app.app_context():
        rows = {c.sid: c for c in db.session.query(Call)}
        first = rows.get(talkers[0].sid)
        missing = [c.sid for c in [*talkers, waiter, after] if c.sid not in rows]
        drill.check(not missing, "every call the line answered is still in the database")
        drill.check(
            not any(c.sid in rows for c in during),
            "calls turned away during the outage left no half-written rows",
        )
        drill.note(f"10 s after the outage the lost hang-up's call is {_state(first)}")
        # The scheduler runs reconcile_calls every minute for calls quiet for a minute or more.
        db.session.remove()  # no transaction left open across the wait
        time.sleep(max(0.0, 62 - (time.monotonic() - hung_at)))
        first = db.session.get(Call, first.id)
        drill.note(f"reconcile_calls: {reconcile_calls()}")
        drill.check(
            _state(first) == CallState.ENDED,
            "the call that hung up during the outage is recorded as ended by reconciliation",
            _state(first),
        )
        db.session.remove()
    drill.note(f"states before the cut {known}; after {states(app)}")
    for caller in [*talkers, waiter, after]:
        caller.hang_up()


def _state(call: Call | None) -> str | None:
    if call is None:
        return None
    db.session.refresh(call)
    return call.state


if __name__ == "__main__":
    main()
