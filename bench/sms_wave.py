"""A reminder wave to many subscribers, sent through the twin by RQ workers.

The twin's sender sends RATE segments a second (a Messaging Service's pool, say; a long code
sends one), and the line is told so (SMS_SEGMENTS_PER_SECOND). The wave is planned as the
scheduler would, at the moment it must start to be done by its due time.
Measured: texts per second from planning the wave until every subscriber has their text,
whether the last left before the wave was due, the longest a text waited in Twilio's queue,
the peak memory of the worker processes, and that each subscriber got exactly one text.
Usage: python -m bench.sms_wave [subscribers] [workers]
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import timedelta

import psutil
from sqlalchemy import insert

from app import create_app
from app.db import db, utcnow
from app.fusing import sessions
from app.identity import identify
from app.sms import subscribers, waves
from app.sms.crypto import encrypt
from app.sms.models import Subscriber
from bench.common import record
from bench.stack import Stack
from workers.sms import plan_reminders

RATE = 200  # message segments a second the sender sends


def _number(index: int) -> str:
    return f"+491555{index:07d}"  # the fictional +49 155 5xxxxxxx range


def _subscribe(count: int, key: str) -> None:
    rows = [
        {
            "identity": identify(_number(i), key, "x").identity,
            "number_encrypted": encrypt(_number(i)),
            "masked_number": f"+49 ••• •••• {i % 100:02d}",
            "timezone": "Europe/Berlin",
            "status": "active",
            "source": "text",
            "created_at": utcnow(),
        }
        for i in range(count)
    ]
    db.session.execute(insert(Subscriber), rows)
    db.session.commit()


def _peak_rss(processes: list[psutil.Process], peak: int) -> int:
    total = 0
    for process in processes:
        try:
            family = [process, *process.children(recursive=True)]
            total += sum(p.memory_info().rss for p in family)
        except psutil.Error:
            continue
    return max(peak, total)


def run(count: int, workers: int) -> list[str]:
    """Send one wave; returns table rows."""
    with Stack(SMS_SEGMENTS_PER_SECOND=str(RATE), PURGE_TWILIO_RECORDS="false") as stack:
        stack.twin.sms.senders.rate = RATE  # the twin's knob for the sender's rate
        app = create_app()
        start = (utcnow() + timedelta(hours=30)).replace(microsecond=0)
        with app.app_context():
            sessions.change_rule(weekday=start.weekday(), start_time=start.time(), timezone="UTC")
            _subscribe(count, app.config["NUMBER_HASH_KEY"])
            occurrence = sessions.upcoming(start - timedelta(hours=25))
            wave = waves.plan(occurrence, subscribers.active_by_zone())[0]  # the day before
        processes = [psutil.Process(stack.worker().pid) for _ in range(workers)]
        began = time.monotonic()
        with app.app_context():
            planned = plan_reminders(wave.begins + timedelta(seconds=1))
        peak, received = 0, Counter()
        deadline = began + 900
        while time.monotonic() < deadline:
            peak = _peak_rss(processes, peak)
            received = Counter(m.to for m in stack.twin.messages)
            if len(received) >= count:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - began
        twice = sum(1 for n in received.values() if n > 1)
        sent = [m for m in stack.twin.messages if m.date_sent]
        queued = max((m.date_sent - m.date_created).total_seconds() for m in sent)
        in_time = "yes" if seconds <= wave.needed.total_seconds() else "no"
        return [
            f"| {count} | {planned} | {workers} | {len(received)} | {twice} | {seconds:.1f} "
            f"| {len(received) / seconds:.0f} | {wave.needed.total_seconds():.0f} | {in_time} "
            f"| {queued:.2f} | {peak / 2**20:.0f} |"
        ]


def main(count: int, workers: int) -> None:
    """Measure and record."""
    rows = [
        "| subscribers | planned | workers | received | got two | seconds | texts/s "
        "| planned lead s | in time | longest queued at Twilio s | peak worker RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *run(count, workers),
    ]
    record(f"SMS reminder wave (twin on loopback, the sender at {RATE} segments/s)", rows)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 10_000, args[1] if len(args) > 1 else 2)
