"""Fusing Hour rotation at scale: guests in the lobby, then rounds of REST redirects.

Runs the web app under gunicorn with the twin, in a process of its own, as the callers' side
(and Twilio's REST API); the rotation job runs in this process as a worker would run it. The
twin's REST API answers at a realistic pace (TWIN_REST_LATENCY_MS, TWIN_REST_429_RATE,
TWIN_REST_CONCURRENCY; defaults 150 ms, 2 %, 100), and counts the most REST requests it saw in
flight, which must stay within FUSING_MAX_IN_FLIGHT.
Usage: python -m bench.fusing_rotation [guests ...]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

from app import create_app
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingSession
from bench.common import record
from bench.stack import Stack
from twin.faults import RestPace
from workers.fusing import close, rotate

ROUNDS = 2
GOAL_SECONDS = 30.0  # 2,000 guests seated in new rooms within this


def _pace() -> RestPace:
    env = os.environ.get
    return RestPace(
        latency_ms=float(env("TWIN_REST_LATENCY_MS", "150")),
        rate_429=float(env("TWIN_REST_429_RATE", "0.02")),
        concurrency=int(env("TWIN_REST_CONCURRENCY", "100")) or None,
    )


def plan_session(app) -> None:
    """A Fusing Hour whose lobby opens now: 10 minutes, rounds of 2, starting in 90 s."""
    start = (utcnow() + timedelta(seconds=90)).replace(microsecond=0)
    with app.app_context():
        sessions.change_rule(
            weekday=start.weekday(),
            start_time=start.time(),
            timezone="UTC",
            duration_seconds=600,
            round_seconds=120,
        )


def _wait(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the twin's callers did not get there in time")
        time.sleep(0.1)
    return time.monotonic() - started


def run(guests: int, in_flight: int) -> list[str]:
    """One session with `guests` callers; returns table rows."""
    pace = _pace()
    knobs = {
        "TWIN_REST_LATENCY_MS": str(pace.latency_ms),
        "TWIN_REST_429_RATE": str(pace.rate_429),
        "TWIN_REST_CONCURRENCY": str(pace.concurrency or 0),
    }
    with Stack(FUSING_MAX_IN_FLIGHT=str(in_flight), twin_process=True, **knobs) as stack:
        app = create_app()
        plan_session(app)
        twin = stack.remote
        callers = []
        arriving = time.monotonic()
        for index in range(guests):
            callers.append(twin.dial(f"+4915550{index:06d}"))
            if index % 50 == 49:
                time.sleep(0.2)  # arrivals spread a little, as on a Sunday morning

        def everyone_in(kind):
            rooms = twin.conferences()
            placed = sum(len(sids) for name, sids in rooms.items() if kind(name))
            return placed == guests

        _wait(lambda: everyone_in(lambda n: "lobby" in n), 300)
        lobby_seconds = time.monotonic() - arriving
        with app.app_context():
            session_id = db.session.query(FusingSession.id).scalar()
        rows = []
        for number in range(ROUNDS):
            twin.reset_pace()
            began = time.monotonic()
            with app.app_context():
                outcome = rotate(session_id, number)
            job_seconds = time.monotonic() - began
            seated = job_seconds + _wait(lambda: everyone_in(lambda n: "lobby" not in n), 300)
            counted = twin.pace()
            rows.append(
                f"| {guests} | {in_flight} | {number} | {outcome['moved']} | "
                f"{outcome['requests']} | {outcome['failed']} | {counted['refused']} "
                f"| {counted['max_in_flight']} | {job_seconds:.2f} | {seated:.2f} |"
            )
        with app.app_context():
            close(session_id)
        errors = len(twin.errors())
        rows.append(
            f"| {guests} | {in_flight} | lobby | {guests} joined in {lobby_seconds:.1f} s"
            f" | | {errors} twin errors | | | | |"
        )
        return rows


def main(sizes: list[int]) -> None:
    """Measure and record."""
    pace = _pace()
    in_flight = int(os.environ.get("FUSING_MAX_IN_FLIGHT", "50"))
    rows = [
        f"Twin REST pace: {pace.latency_ms:.0f} ms per answer, {pace.rate_429:.0%} refused "
        f"with 429 at random, 429 beyond {pace.concurrency or 'no limit'} in flight; "
        f"FUSING_MAX_IN_FLIGHT {in_flight}; goal: seated within {GOAL_SECONDS:.0f} s, max "
        f"in flight at the twin <= FUSING_MAX_IN_FLIGHT; load average before: "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "",
        "| guests | in flight | round | moved | REST requests | failed | 429s at the twin "
        "| max in flight at the twin | rotation job s | all seated s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        rows += run(size, in_flight)
    rows.append(f"- load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    record("Fusing Hour rotation (gunicorn 2x8, twin on loopback, REST at a realistic pace)", rows)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [500])
