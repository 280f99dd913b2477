"""The callers' side of the multi-host drill (bench/drills/hosts.py), run on the caller host.

The twin runs here and dials the line through the balancer. Lines starting with `@` ask the
drill on the root host to act (kill an app host, restart it, read the balancer's counts) and
wait for its answer. This side also observes the data host (database, Redis) for checks.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from app import create_app
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingSession
from app.line.models import Call, Conversation, Participant
from bench.drills import Drill
from bench.drills.common_line import wait_until
from bench.drills.worker_killed import _redirects
from bench.herd import WAIT, Watcher, _database_checks, _number
from bench.sms_wave import _subscribe
from twin import Twin

SUBSCRIBERS = 200
ROUND_SECONDS = 120
LEAD = 540  # seconds from the herd's start to the Fusing Hour's, less the herd's length


def ask(word: str) -> str:
    """Ask the drill on the root host to act; its answer."""
    print(word, flush=True)
    return sys.stdin.readline().strip()


def _twin() -> Twin:
    public = os.environ["PUBLIC_BASE_URL"]
    twin = Twin(
        account_sid=os.environ["TWILIO_ACCOUNT_SID"],
        auth_token=os.environ["TWILIO_AUTH_TOKEN"],
        voice_url=public + "/twilio/voice",
        status_callback=public + "/twilio/voice/status",
        sms_url=public + "/twilio/sms",
        host=os.environ["DRILL_TWIN_HOST"],
        port=int(os.environ["TWILIO_API_BASE"].rsplit(":", 1)[1]),
        callback_workers=16,
    ).start()
    twin.sms.senders.rate = 200
    return twin


def plan(app, herd_seconds: float):
    """The Fusing Hour after the herd (its lobby opens two minutes before), and subscribers
    whose reminder (REMINDER_OFFSETS_MINUTES=3) falls due after the herd."""
    # The reminder wave (a bulk job) is due three minutes before the hour, after the herd's
    # after-call jobs in the bulk queue; the rotation goes on the urgent queue.
    start = (utcnow() + timedelta(seconds=herd_seconds + LEAD)).replace(microsecond=0)
    with app.app_context():
        sessions.change_rule(
            weekday=start.weekday(),
            start_time=start.time(),
            timezone="UTC",
            duration_seconds=600,
            round_seconds=ROUND_SECONDS,
        )
        _subscribe(SUBSCRIBERS, app.config["NUMBER_HASH_KEY"])  # numbers _number(0...)
    return start


def herd(drill: Drill, app, twin: Twin, callers: int, seconds: float) -> None:
    """Callers dial evenly; half way through app1 is killed; everyone must be accounted."""
    watcher = Watcher(twin)
    watcher.start()
    phones, dialled, origin = [], {}, time.monotonic()
    for index in range(callers):
        if index == callers // 2:
            drill.note(f"mid-herd, after {index} callers: killed {ask('@kill herd')} processes")
        delay = origin + index * seconds / callers - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        phone = twin.dial(_number(10_000 + index))
        phone.press("1")
        dialled[phone.sid] = time.monotonic()
        phones.append(phone)
    span = time.monotonic() - origin

    def accounted():
        told = {p.sid for p in phones if any("nobody is free" in h.lower() for h in p.heard)}
        with app.app_context():
            waiting = set(db.session.scalars(select(Call.sid).where(Call.state == "waiting")))
            db.session.remove()
        return {"paired": set(watcher.paired_at), "told": told, "waiting": waiting}

    # Waits end by WAIT_TIMEOUT_SECONDS; RQ's scheduler lock of the killed worker lapses too.
    wait_until(lambda: not accounted()["waiting"], WAIT + 90, step=2)
    watcher.stop.set()
    watcher.join()
    groups = accounted()
    known = set().union(*groups.values())
    lost = [p for p in phones if p.sid not in known]
    why = Counter(str(e.code) for p in lost for e in p.errors[:1]) or {}
    history = twin.conference_history
    rooms_of = Counter(sid for conf in history for sid in set(conf.members_ever))
    checks = _database_checks(app)
    figures = ask("@figures")
    drill.note(f"herd: {callers} callers dialled in {span:.0f} s through the balancer; {figures}")
    drill.note(", ".join(f"{k} {len(v)}" for k, v in groups.items()) + f", lost {len(lost)}")
    drill.check(not lost, "nobody lost: each caller paired, waiting, or timed out and told",
                f"{len(lost)} lost; first application error of each: {dict(why)}")  # fmt: skip
    drill.check(not groups["waiting"], "nobody waits forever", f"{len(groups['waiting'])}")
    double = _paired_twice(app)
    drill.check(not double, "no double pairing: nobody in two conversations at once (db)", double)
    drill.note(
        f"callers in more than one room over the herd (a partner who never came: moved on): "
        f"{sum(1 for n in rooms_of.values() if n > 1)} (twin), "
        f"{checks['calls in two conversations']} (db)"
    )
    drill.check(checks["conversations with more than two"] == 0, "no room of three (db)")
    waits = sorted(watcher.paired_at[s] - t for s, t in dialled.items() if s in watcher.paired_at)
    if waits:
        drill.note(f"arrival to room p50 {waits[len(waits) // 2]:.2f} s, max {waits[-1]:.1f} s")
    for phone in phones:
        phone.hang_up()
    twin.wait_idle(timeout=60)


def _paired_twice(app) -> list[int]:
    """Calls that were in two conversations that had begun (both people in) at one time."""
    spans: dict[int, list[tuple]] = {}
    with app.app_context():
        rows = db.session.execute(
            select(Participant.call_id, Conversation.started_at, Conversation.ended_at)
            .join(Conversation, Participant.conversation_id == Conversation.id)
            .where(Conversation.started_at.is_not(None), Conversation.max_participants >= 2)
        ).all()
        db.session.remove()
    far = utcnow() + timedelta(days=1)
    for call_id, started, ended in rows:
        spans.setdefault(call_id, []).append((started, ended or far))
    twice = []
    for call_id, found in spans.items():
        found.sort()
        if any(b[0] < a[1] for a, b in zip(found, found[1:], strict=False)):
            twice.append(call_id)
    return twice


def rotation(drill: Drill, app, twin: Twin, start, guests: int) -> None:
    """Guests in the lobby; the app host running the rotation is killed in the middle."""
    wait_until(lambda: utcnow() >= start - timedelta(seconds=110), 600, step=1)
    phones = [twin.dial(_number(20_000 + n)) for n in range(guests)]
    sids = {p.sid for p in phones}

    def in_lobby():
        return sum(len(s & sids) for n, s in _rooms(twin).items() if "lobby" in n)

    drill.check(wait_until(lambda: in_lobby() == guests, 105), f"{guests} guests in the lobby")
    began = wait_until(lambda: sum(_redirects(twin, sids).values()) >= guests // 4, 200, 0.05)
    drill.check(began, "the rotation began")
    victim = ask("@kill rotation")
    moved = sum(_redirects(twin, sids).values())
    drill.note(f"mid-rotation, after {moved} of {guests} moves: killed {victim} processes")
    seated = wait_until(lambda: in_lobby() == 0, 180, step=0.5)
    drill.check(seated, "every guest reached a room this round", f"{in_lobby()} in the lobby")
    twice = {sid: n for sid, n in _redirects(twin, sids).items() if n > 1}
    drill.check(not twice, "the rotation ran once: no guest moved twice", len(twice))
    with app.app_context():
        session = db.session.scalars(select(FusingSession)).first()
        drill.note(f"session {session.id if session else None}")
        db.session.remove()
    for phone in phones:
        phone.hang_up()


def _rooms(twin: Twin) -> dict[str, set[str]]:
    return {name: set(sids) for name, sids in twin.conferences().items()}


def reminders(drill: Drill, twin: Twin) -> None:
    """Every subscriber got the reminder exactly once."""
    wanted = {_number(i) for i in range(SUBSCRIBERS)}
    got = Counter(m.to for m in twin.messages if m.to in wanted)
    drill.check(len(got) == SUBSCRIBERS, "every subscriber got the reminder", len(got))
    twice = sum(1 for n in got.values() if n > 1)
    drill.check(twice == 0, "no reminder sent twice", twice)


def main(callers: int = 2000, seconds: float = 60, guests: int = 300) -> None:
    """Run both phases and record."""
    drill = Drill("Two app hosts behind nginx, one killed mid-herd and mid-rotation")
    twin = _twin()
    app = create_app()
    try:
        start = plan(app, seconds)
        herd(drill, app, twin, callers, seconds)
        drill.note(f"app hosts up again: {ask('@restart')}")
        rotation(drill, app, twin, start, guests)
        reminders(drill, twin)
    finally:
        twin.stop()
    drill.finish()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 2000,
        float(args[1]) if len(args) > 1 else 60,
        int(args[2]) if len(args) > 2 else 300,
    )
