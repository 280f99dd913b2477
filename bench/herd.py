"""Pairing under a herd: many callers arriving within a minute, through the twin.

Each simulated caller dials, presses 1 at once and waits. Measured: time from dialling to
being in a room with one other person (p50/p99). Checked: no room ever held more than two,
nobody was in two rooms, and every caller ended up paired, still waiting, or timed out and
told so. Usage: python -m bench.herd [callers] [seconds]
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.line.models import Call, Participant
from bench.common import percentile, record
from bench.stack import Stack

WAIT = 20


def _number(index: int) -> str:
    return f"+491555{index:07d}"  # the fictional +49 155 5xxxxxxx range


class Watcher(threading.Thread):
    """Notes when each call is first in a room with exactly one other person."""

    def __init__(self, twin):
        super().__init__(daemon=True)
        self.twin, self.paired_at, self.stop = twin, {}, threading.Event()
        self.most = 0

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for sids in self.twin.conferences().values():
                self.most = max(self.most, len(sids))
                if len(sids) == 2:
                    for sid in sids:
                        self.paired_at.setdefault(sid, now)
            time.sleep(0.05)


def _database_checks(app) -> dict[str, int]:
    with app.app_context():
        per_call = db.session.execute(
            select(Participant.call_id, func.count()).group_by(Participant.call_id)
        ).all()
        per_room = db.session.execute(
            select(Participant.conversation_id, func.count()).group_by(Participant.conversation_id)
        ).all()
        state = dict(
            db.session.execute(select(Call.state, func.count()).group_by(Call.state)).all()
        )
        db.session.remove()
    return {
        "calls in two conversations": sum(1 for _, n in per_call if n > 1),
        "conversations with more than two": sum(1 for _, n in per_room if n > 2),
        **{f"state {k}": v for k, v in state.items()},
    }


def run(callers: int, seconds: float) -> list[str]:
    """One herd; returns table rows."""
    with Stack(web_workers=2, web_threads=8, WAIT_TIMEOUT_SECONDS=str(WAIT)) as stack:
        app = create_app()
        stack.worker()
        twin = stack.twin
        watcher = Watcher(twin)
        watcher.start()
        dialled: dict[str, float] = {}
        phones = []
        origin = time.monotonic()
        for index in range(callers):
            delay = origin + index * seconds / callers - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            phone = twin.dial(_number(index))
            phone.press("1")  # buffered: the greeting's Gather takes it at once
            dialled[phone.sid] = time.monotonic()
            phones.append(phone)
        arrival_span = time.monotonic() - origin
        time.sleep(WAIT + 10)  # the last arrivals are paired, or time out and hear why
        watcher.stop.set()
        watcher.join()
        told = {p.sid for p in phones if any("nobody is free" in h.lower() for h in p.heard)}
        waits = [watcher.paired_at[s] - t for s, t in dialled.items() if s in watcher.paired_at]
        history = twin.conference_history
        rooms_of = Counter(sid for conf in history for sid in set(conf.members_ever))
        crowded = sum(1 for conf in history if len(set(conf.members_ever)) > 2)
        with app.app_context():
            waiting = set(db.session.scalars(select(Call.sid).where(Call.state == "waiting")).all())
            db.session.remove()
        paired = set(watcher.paired_at)
        lost = [p.sid for p in phones if p.sid not in paired | told | waiting]
        errors = sum(len(p.errors) for p in phones)
        checks = _database_checks(app)
        for phone in phones:
            phone.hang_up()
        twin.wait_idle(timeout=30)
    return [
        f"| {callers} | {arrival_span:.0f} | {len(paired)} | {len(told)} | {len(waiting)} "
        f"| {len(lost)} | {percentile(waits, 0.5) * 1e3:.0f} | {percentile(waits, 0.99) * 1e3:.0f} "
        f"| {crowded} | {sum(1 for n in rooms_of.values() if n > 1)} "
        f"| {checks['calls in two conversations']} | {checks['conversations with more than two']} "
        f"| {errors} |",
        "",
        f"Database afterwards: {checks}; largest room seen live: {watcher.most}.",
    ]


def main(callers: int = 2000, seconds: float = 60) -> None:
    """Measure and record."""
    rows = [
        f"Callers dial evenly over {seconds:.0f} s, press 1 at once; WAIT_TIMEOUT_SECONDS={WAIT}; "
        "gunicorn 2x8, one RQ worker, the twin on loopback. Waits in ms from dialling to being "
        "in a room with one other person (sampled every 50 ms).",
        "",
        "| callers | arrival s | paired | timed out, told | waiting | lost | p50 ms | p99 ms "
        "| rooms > 2 | calls in 2 rooms (twin) | calls in 2 rooms (db) | rooms > 2 (db) "
        "| twin errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows += run(callers, seconds)
    record("Pairing under a herd", rows)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
        float(sys.argv[2]) if len(sys.argv) > 2 else 60,
    )
