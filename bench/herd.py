"""Pairing under a herd: many callers arriving within a minute, through the twin.

Each simulated caller dials, presses 1 at once and waits. The twin runs in a process of its
own and several dialler processes keep the pace through its control API. Measured: time from
dialling to being in a room with one other person, and from the later of the pair's two
arrivals (p50/p99). Checked: no room ever held more than two,
nobody was in two rooms, and every caller ended up paired, still waiting, or timed out and
told so. Usage: python -m bench.herd [callers] [seconds]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.line.models import Call, Participant
from bench.common import percentile, record
from bench.stack import Stack
from twin.remote import RemoteTwin

WAIT = 20
DIALLERS = 4  # processes dialling: one could not keep a pace of 2,000 a minute
DIAL_THREADS = 4  # in each
NOBODY = "nobody is free"  # what a caller who timed out hears
POLL = 0.1  # seconds between looks at the twin's rooms


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


def _dial_share(base: str, token: str, indices: list[int], origin: float, spacing: float):
    """One dialler process: dial each caller of its share at its slot (wall clock), press 1.

    Threads absorb a slow answer of the twin's control API, so one late dial does not push
    the next ones back. Returns (index, CallSid, when dialled) for each.
    """
    twin = RemoteTwin(base, token)

    def one(index: int) -> tuple[int, str, float]:
        delay = origin + index * spacing - time.time()
        if delay > 0:
            time.sleep(delay)
        dialled = time.time()
        phone = twin.dial(_number(index))
        phone.press("1")  # buffered: the greeting's Gather takes it at once
        return index, phone.sid, dialled

    with ThreadPoolExecutor(DIAL_THREADS) as pool:
        return list(pool.map(one, indices))


class RemoteWatcher(threading.Thread):
    """Notes when each call is first in a room with exactly one other person, and with whom
    (polling the twin's control API; wall clock)."""

    def __init__(self, twin: RemoteTwin):
        super().__init__(daemon=True)
        self.twin, self.stop = twin, threading.Event()
        self.paired_at: dict[str, float] = {}
        self.partner: dict[str, str] = {}
        self.most = 0

    def run(self) -> None:
        while not self.stop.is_set():
            rooms = self.twin.conferences()
            now = time.time()
            for sids in rooms.values():
                self.most = max(self.most, len(sids))
                if len(sids) == 2:
                    for sid, other in (sids, sids[::-1]):
                        if sid not in self.paired_at:
                            self.paired_at[sid], self.partner[sid] = now, other
            time.sleep(POLL)


def run(callers: int, seconds: float) -> list[str]:
    """One herd; returns table rows."""
    with Stack(
        web_workers=2, web_threads=8, twin_process=True, WAIT_TIMEOUT_SECONDS=str(WAIT)
    ) as stack:
        app = create_app()
        stack.worker()
        remote = stack.remote
        watcher = RemoteWatcher(remote)
        watcher.start()
        origin, spacing = time.time() + 5, seconds / callers  # the diallers start meanwhile
        shares = [list(range(k, callers, DIALLERS)) for k in range(DIALLERS)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(DIALLERS, mp_context=context) as diallers:
            token = remote.http.headers["Authorization"].removeprefix("Bearer ")
            futures = [
                diallers.submit(_dial_share, remote.base, token, share, origin, spacing)
                for share in shares
            ]
            placed = [row for future in futures for row in future.result()]
        arrival_span = max(when for _, _, when in placed) - origin
        dialled = {sid: when for _, sid, when in placed}
        time.sleep(WAIT + 10)  # the last arrivals are paired, or time out and hear why
        watcher.stop.set()
        watcher.join()
        phones = {c["sid"]: c for c in remote.get("/_twin/calls") if c["sid"] in dialled}
        told = {sid for sid, c in phones.items() if any(NOBODY in h.lower() for h in c["heard"])}
        waits, beyond = [], []
        for sid, at in watcher.paired_at.items():
            if sid in dialled:
                waits.append(at - dialled[sid])
                later = max(dialled[sid], dialled.get(watcher.partner[sid], dialled[sid]))
                beyond.append(at - later)
        with app.app_context():
            waiting = set(db.session.scalars(select(Call.sid).where(Call.state == "waiting")).all())
            db.session.remove()
        paired = set(watcher.paired_at) & set(dialled)
        lost = [sid for sid in dialled if sid not in paired | told | waiting]
        errors = sum(len(c["errors"]) for c in phones.values())
        checks = _database_checks(app)
    return [
        f"| {callers} | {arrival_span:.0f} | {len(paired)} | {len(told)} | {len(waiting)} "
        f"| {len(lost)} | {percentile(waits, 0.5) * 1e3:.0f} | {percentile(waits, 0.99) * 1e3:.0f} "
        f"| {percentile(beyond, 0.5) * 1e3:.0f} | {percentile(beyond, 0.99) * 1e3:.0f} "
        f"| {watcher.most} | {checks['calls in two conversations']} "
        f"| {checks['conversations with more than two']} | {errors} |",
        "",
        f"Database afterwards: {checks}.",
    ]


def main(callers: int = 2000, seconds: float = 60) -> None:
    """Measure and record."""
    rows = [
        f"Callers dial evenly over {seconds:.0f} s, press 1 at once; WAIT_TIMEOUT_SECONDS={WAIT}; "
        f"gunicorn 2x8, one RQ worker, the twin in a process of its own on loopback, dialled by "
        f"{DIALLERS} processes through its control API. Waits in ms from dialling to being in a "
        f"room with one other person, and from the later of the two arrivals (sampled every "
        f"{POLL * 1000:.0f} ms); load average before: "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "",
        "| callers | arrival s | paired | timed out, told | waiting | lost | p50 ms | p99 ms "
        "| beyond the partner p50 ms | beyond the partner p99 ms | largest room (twin) "
        "| calls in 2 rooms (db) | rooms > 2 (db) | twin errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows += run(callers, seconds)
    rows.append(f"- load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    record("Pairing under a herd", rows)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
        float(sys.argv[2]) if len(sys.argv) > 2 else 60,
    )
