"""A simulated day: how many callers reach a person, through the twin, on a compressed clock.

The real line (gunicorn web, an RQ worker with its scheduler, `mindfuse scheduler`) answers
simulated people in the twin for 24 simulated hours, at 50, 200 and 1,000 calls a day, in three
configurations: peers only (nobody asks for a call-back, no listener), with call-backs, and
with call-backs and two listeners on shift. Printed and recorded in bench/RESULTS.md: the share
of callers who reach a person within 60 s and within 5 minutes, in simulated time.

Compressed clock: one factor F (default 180: a day in 8 minutes). Every line timer that
shapes a wait is set to its default (the line's own, read from app.settings) divided by F:
WAIT_TIMEOUT_SECONDS, LISTENER_AFTER_SECONDS, LISTENER_REST_MINUTES, CALLBACK_WINDOW_MINUTES,
RINGING_RECHECK_SECONDS, PACE_WINDOW_MINUTES (so LISTENER_AT_ONCE_BELOW, a count of calls in
that window, is left as it is). The twin runs at time scale 1/F, which
scales what Twilio times (ring time-outs, Gather time-outs, <Play> lengths, the Dial's time
limit), so CALLBACK_RING_SECONDS and LISTENER_RING_SECONDS keep their defaults (they are
Twilio's Timeout, timed by the twin). The people's behaviour below is in simulated seconds and
is divided by F too. RQ keeps delayed jobs to the second; bench.simclock keeps them to the
millisecond in this benchmark's processes (see there). What is not scaled: the line's own
latency (webhooks, jobs, REST calls), which is therefore F times larger in simulated time;
it is measured in each run (arrival to first room, real seconds x F) and printed: its
excess over the speech before the first room (the whole greeting and "finding someone", some
16 s at SPEECH_WPM) is the compression error. Also not scaled, and not reached in a day of
these lengths: CONVERSATION_LIMIT_SECONDS' end job (the twin's Dial time limit, scaled, ends a
room at 30 minutes instead), the purge and reconcile intervals, the recovery of lost listener
offers.

Arrivals: a Poisson process over 24 h whose rate follows HOURLY (weights per local hour, 70% of
calls between 18:00 and 06:00): the number of calls is Poisson(volume) and each call's time is
drawn from that profile (uniform within its hour). Every caller has a number of their own.

Speech takes its time: the twin speaks each <Say> at SPEECH_WPM words a minute (simulated),
so the greeting, the menus and the line's "connecting" and "calling someone for you" take as
long as a voice would say them; a person rung by the line (a call-back requester, a listener)
still presses as soon as their prompt begins.

The caller model (simulated time; one seeded RNG per caller, the same in every configuration):
- dials, hears the whole greeting and then presses 1;
- patience: lognormal, median 150 s, sigma 0.8 (10% give up within 54 s, 90% within 7 min),
  counted from dialling; a caller not with a person by then hangs up;
- told "nobody is free" (WAIT_TIMEOUT_SECONDS, 60 s), once that menu is said: with call-backs in
  use, 50% press 3 and
  ask for a call-back (then hang up); the others press 1 and wait on while their patience lasts;
- the same 50%, should their patience run out first while they wait alone, having heard the
  hold message's offer ("to be called back instead, press star, then 3"), press star and 3
  and ask for a call-back instead of hanging up (the others hang up);
- a call-back requester answers the call-back and presses 1 with probability 0.7 (after 3-15 s
  of ringing); otherwise it rings out unanswered. Called back for a free listener (nobody
  else waiting), they then wait for the listener rung at once, without a patience of their
  own (they answered a call that said someone is free);
- a conversation lasts lognormal, median 8 minutes, sigma 0.8 (the caller hangs up then).
Listeners (configuration "listeners"): two, on the roster all 24 hours (the shift is a rota
covering the whole day; each stands for whoever is on it), English, every hour. Each time one is
rung: 70% answer and press 1 (after 3-15 s), 10% answer and let it pass (press 2), 20% do not
answer; a listener in a conversation is busy. They stay until the caller hangs up.

"Reach a person": the caller's first moment in a room with one other person (a peer, a call-back
requester, a listener), counted from dialling. For a call-back requester, from their first call
(not from the call-back), so a call-back counts as late as it is. Requests still open at the
end of the day count as not reached. Usage:
    python -m bench.simulated_day [--factor F] [--seed S] [--parallel N] [--quick]
        [--volumes V ...] [--configs C ...] [--hours FIRST LAST]
A part of the day (--hours 12 24) keeps its share of the day's calls: with a smaller factor,
its compression error is smaller in the same wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.settings import Settings
from bench.common import RESULTS, percentile, record

FACTOR = 180
VOLUMES = (50, 200, 1000)
CONFIGS = {
    "peers": "peers only",
    "callbacks": "with call-backs",
    "listeners": "call-backs and two listeners",
}
# Share of the day's calls in each local hour, 00:00 first: evening and night heavy.
HOURLY = [
    7, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 8, 7,
]  # fmt: skip
PATIENCE_MEDIAN, PATIENCE_SIGMA = 150.0, 0.8
CALLBACK_SHARE = 0.5  # of those told nobody is free, where call-backs are in use
CALLBACK_ANSWERS = 0.7
LISTENER_TAKES, LISTENER_PASSES = 0.7, 0.1  # the rest: not answered
TALK_MEDIAN, TALK_SIGMA = 480.0, 0.8
RING_SECONDS = (3.0, 15.0)  # how long a phone rings before a person picks up
SPEECH_WPM = 150  # words a minute of the twin's voice (bench.time_to_human's English rate)
LISTENERS = ("+15550100171", "+15550100172")
SCALED = (  # the line's settings scaled by the factor
    "WAIT_TIMEOUT_SECONDS",
    "LISTENER_AFTER_SECONDS",
    "LISTENER_REST_MINUTES",
    "CALLBACK_WINDOW_MINUTES",
    "RINGING_RECHECK_SECONDS",
    "PACE_WINDOW_MINUTES",
)
KEPT = ("LISTENER_AT_ONCE_BELOW",)  # the line's settings as they are: counts, not times
DEFAULTS = {name: getattr(Settings, name).default for name in SCALED}  # in their units
AS_THEY_ARE = {name: getattr(Settings, name).default for name in KEPT}
POLL = 0.01  # real seconds between looks at the twin's rooms (callers look half as often)
WORKERS = 2  # RQ workers per line (each forks a horse per job)
GOAL = 0.9  # within 5 minutes, at 50 a day, with call-backs and two listeners


def night_share() -> float:
    """The profile's share of calls between 18:00 and 06:00."""
    return sum(HOURLY[18:] + HOURLY[:6]) / sum(HOURLY)


@dataclass
class Person:
    """One caller's draws (simulated seconds from midnight, or lengths)."""

    index: int
    arrives: float
    patience: float
    asks_callback: bool
    answers_callback: bool
    ring: float
    talk: float

    @property
    def number(self) -> str:
        return f"+491555{self.index:07d}"  # the fictional +49 155 5xxxxxxx range


def people(volume: int, seed: int, hours: tuple[int, int] = (0, 24)) -> list[Person]:
    """The day's callers, in order of arrival, the same for every configuration."""
    rng = random.Random(f"{seed}-{volume}")
    first, last = hours
    weights = HOURLY[first:last]
    count = _poisson(rng, volume * sum(weights) / sum(HOURLY))
    times = sorted(
        3600 * (first + rng.choices(range(len(weights)), weights)[0] + rng.random())
        for _ in range(count)
    )
    found = []
    for index, arrives in enumerate(times):
        own = random.Random(f"{seed}-{volume}-{index}")
        found.append(
            Person(
                index=index,
                arrives=arrives,
                patience=PATIENCE_MEDIAN * math.exp(own.gauss(0, PATIENCE_SIGMA)),
                asks_callback=own.random() < CALLBACK_SHARE,
                answers_callback=own.random() < CALLBACK_ANSWERS,
                ring=own.uniform(*RING_SECONDS),
                talk=TALK_MEDIAN * math.exp(own.gauss(0, TALK_SIGMA)),
            )
        )
    return found


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method in chunks: exact for any mean)."""
    count, left = 0, mean
    while left > 0:
        step = min(left, 500.0)
        left -= step
        limit, product = math.exp(-step), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


@dataclass
class Outcome:
    """What came of one caller (simulated seconds)."""

    index: int
    sid: str = ""
    dialled: float = 0.0  # real (monotonic) time of dialling
    reached: float | None = None  # from dialling to the first room with a person
    via: str = ""  # peer, call-back, listener
    asked_callback: bool = False
    asked_from_wait: bool = False  # with star, then 3, as their patience ran out
    called_back: int = 0
    told_nobody: int = 0
    patience: float = 0.0
    offered: bool = False  # a listener was rung for one of their waits
    entered: float | None = None  # real seconds from dialling to the first room (alone or not)
    timeout_late: float | None = None  # real seconds "nobody is free" came after the time-out


@dataclass
class Run:
    """One simulated day in one configuration."""

    volume: int
    config: str
    factor: float
    outcomes: list[Outcome] = field(default_factory=list)
    listener_rings: int = 0
    listener_takes: int = 0
    callbacks_placed: int = 0
    wall: float = 0.0
    twin_errors: int = 0
    offers: dict[str, int] = field(default_factory=dict)  # listener offers by how they ended


class Watcher(threading.Thread):
    """Notes when each call is first in a room with one other person, and with whom."""

    def __init__(self, twin):
        super().__init__(daemon=True)
        self.twin, self.stop = twin, threading.Event()
        self.paired_at: dict[str, float] = {}
        self.partner: dict[str, str] = {}
        self.entered: dict[str, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for sids in self.twin.conferences().values():
                for sid in sids:
                    self.entered.setdefault(sid, now)
                if len(sids) >= 2:
                    for sid in sids:
                        if sid not in self.paired_at:
                            self.paired_at[sid] = now
                            self.partner[sid] = next(s for s in sids if s != sid)
            time.sleep(POLL)


class ListenerDesk(threading.Thread):
    """Decides, ring by ring, what each listener does: takes, lets it pass, does not answer;
    busy while in a conversation."""

    def __init__(self, twin, factor: float, seed: int):
        super().__init__(daemon=True)
        self.twin, self.factor, self.stop = twin, factor, threading.Event()
        self.rng = random.Random(f"{seed}-listeners")
        self.seen: set[str] = set()
        self.next: dict[str, object] = {n: self._draw() for n in LISTENERS}
        self.rings = 0

    def _draw(self):
        from twin import Callee, Pickup  # noqa: PLC0415 - the benchmark's child process only

        roll, ring = self.rng.random(), self.rng.uniform(*RING_SECONDS)
        if roll < LISTENER_TAKES:
            return Callee(press="1", cue="press 1 to take the call", ring_seconds=ring)
        if roll < LISTENER_TAKES + LISTENER_PASSES:
            return Callee(press="2", cue="press 1 to take the call", ring_seconds=ring)
        return Callee(Pickup.NO_ANSWER)

    def run(self) -> None:
        from twin import Callee, Pickup  # noqa: PLC0415

        while not self.stop.is_set():
            for number in LISTENERS:
                calls = self.twin.calls_to(number)
                for call in calls:
                    if call.sid not in self.seen:
                        self.seen.add(call.sid)
                        self.rings += 1
                        self.next[number] = self._draw()
                talking = any(c.conference and not c.ended for c in calls)
                self.twin.answer_as(number, Callee(Pickup.BUSY) if talking else self.next[number])
            time.sleep(POLL)


def _caller(twin, person: Person, run: Run, watcher: Watcher, callbacks: bool, out: Outcome):
    """One simulated caller, from dialling to hanging up."""
    from twin import Callee, Pickup  # noqa: PLC0415

    factor = run.factor
    scale = 1 / factor
    if callbacks:  # how they will answer a call-back, should the line ring them
        answers = Callee(
            press="1",
            cue="press 1 to talk now",
            ring_seconds=person.ring,
            hang_up_after=person.talk,
        )
        twin.answer_as(
            person.number, answers if person.answers_callback else Callee(Pickup.NO_ANSWER)
        )
    started = time.monotonic()
    gives_up = started + person.patience * scale
    phone = twin.dial(person.number)
    out.sid, out.dialled = phone.sid, started
    try:
        phone.wait_until_heard("press 1", timeout=30)
    except TimeoutError:
        phone.hang_up()
        return
    _to_the_end_of(phone.heard, "press 1", scale)
    phone.press("1")
    seen = 0
    waiting_since: float | None = None
    while not phone.ended:
        now = time.monotonic()
        if phone.sid in watcher.paired_at:
            out.reached = (watcher.paired_at[phone.sid] - started) * factor
            out.via = "peer"
            time.sleep(max(0.0, watcher.paired_at[phone.sid] + person.talk * scale - now))
            break
        if waiting_since is None and phone.sid in watcher.entered:
            waiting_since = watcher.entered[phone.sid]
            out.entered = waiting_since - started
        heard = phone.heard
        news, seen = heard[seen:], len(heard)
        if any("nobody is free" in h.lower() for h in news):
            _to_the_end_of(news, "nobody is free", scale)
            out.told_nobody += 1
            if out.told_nobody == 1 and waiting_since is not None:
                timeout = DEFAULTS["WAIT_TIMEOUT_SECONDS"] * scale
                out.timeout_late = now - waiting_since - timeout
            if callbacks and person.asks_callback:
                phone.press("3")
                out.asked_callback = True
                phone.wait_for(lambda: phone.ended, timeout=30)
                return
            if now >= gives_up:
                break
            phone.press("1")
            waiting_since = None
            continue
        if now >= gives_up:
            if callbacks and person.asks_callback and _ask_from_the_wait(phone, out, scale):
                return
            break
        time.sleep(2 * POLL)
    phone.hang_up()


def _to_the_end_of(heard: list[str], cue: str, scale: float) -> None:
    """Listen until the last prompt heard that says `cue` has been spoken to its end."""
    from twin.engine import speech_seconds  # noqa: PLC0415 - the benchmark's child process only

    said = next(h for h in reversed(heard) if cue in h.lower())
    time.sleep(speech_seconds(said, SPEECH_WPM) * scale)


def _ask_from_the_wait(phone, out: Outcome, scale: float) -> bool:
    """Patience is over while waiting alone: one who would ask for a call-back, and has heard
    the hold offer it, presses star and then 3 instead of hanging up. Whether they asked."""
    if not any("press star, then 3" in h.lower() for h in phone.heard):
        return False
    phone.press("*")
    try:
        phone.wait_until_heard("press 3 to be called back", timeout=30)
    except TimeoutError:
        return False
    _to_the_end_of(phone.heard, "press 3 to be called back", scale)
    phone.press("3")
    out.asked_callback = out.asked_from_wait = True
    phone.wait_for(lambda: phone.ended, timeout=30)
    return True


def _listeners(app) -> None:
    from app.db import db  # noqa: PLC0415
    from app.listeners import roster  # noqa: PLC0415

    with app.app_context():
        for alias, number in zip(("Robin", "Sam"), LISTENERS, strict=True):
            roster.add(alias, number, ["en"], "UTC", "mon-sun 00:00-24:00")
        db.session.commit()
        db.session.remove()


def one_day(volume: int, config: str, factor: float, seed: int, hours: tuple[int, int]) -> Run:
    """Run one simulated day (or part of one) in one configuration, in this process."""
    from app import create_app  # noqa: PLC0415
    from bench.stack import Stack  # noqa: PLC0415
    from twin import launcher  # noqa: PLC0415
    from twin.ports import VoiceKnobs  # noqa: PLC0415

    settings = {name: f"{value / factor:.6f}" for name, value in DEFAULTS.items()}
    settings.update({name: str(value) for name, value in AS_THEY_ARE.items()})
    run = Run(volume, config, factor)
    crowd = people(volume, seed, hours)
    with Stack(
        web_workers=2,
        web_threads=8,
        web_target="bench.simclock:create_app()",
        # Twilio's own network time (its Dial action request ahead of a redirect) is part of
        # the simulated world: scaled like the rest of it.
        twin_options={
            "time_scale": 1 / factor,
            "speech_wpm": SPEECH_WPM,
            "knobs": VoiceKnobs(redirect_action_delay=0.3 / factor),
        },
        **settings,
    ) as stack:
        twin = stack.twin
        for _ in range(WORKERS):
            stack.worker("--worker-class", "bench.simclock.PreciseWorker")
        scheduler = launcher.start_scheduler(stack.env, stack.tmp / "scheduler.log")
        try:
            if config == "listeners":
                _listeners(create_app())
            watcher = Watcher(twin)
            watcher.start()
            desk = ListenerDesk(twin, factor, seed) if config == "listeners" else None
            if desk:
                desk.start()
            threads = []
            origin = time.monotonic() - hours[0] * 3600 / factor
            began = time.monotonic()
            for person in crowd:
                delay = origin + person.arrives / factor - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                out = Outcome(person.index, patience=person.patience)
                run.outcomes.append(out)
                thread = threading.Thread(
                    target=_caller,
                    args=(twin, person, run, watcher, config != "peers", out),
                    daemon=True,
                )
                thread.start()
                threads.append(thread)
            left = origin + hours[1] * 3600 / factor - time.monotonic()
            time.sleep(max(0.0, left))  # the rest of the day: call-backs still come
            for thread in threads:
                thread.join(timeout=120)
            time.sleep(2)  # the last call-backs' conversations begin
            run.wall = time.monotonic() - began
            watcher.stop.set()
            if desk:
                desk.stop.set()
                run.listener_rings = desk.rings
            _call_backs(twin, crowd, run, watcher)
            run.listener_takes = sum(1 for o in run.outcomes if o.via == "listener")
            run.twin_errors = len(twin.errors)
            if config == "listeners":
                _offers(create_app(), run)
        finally:
            launcher.stop(scheduler)
    return run


def _offers(app, run: Run) -> None:
    """How the listener offers ended, and which callers had one."""
    from sqlalchemy import func, select  # noqa: PLC0415

    from app.db import db  # noqa: PLC0415
    from app.line.models import Call  # noqa: PLC0415
    from app.listeners.models import ListenerOffer  # noqa: PLC0415

    with app.app_context():
        states = select(ListenerOffer.state, func.count()).group_by(ListenerOffer.state)
        run.offers = {str(state): n for state, n in db.session.execute(states).all()}
        offered = set(
            db.session.scalars(
                select(Call.sid).join(ListenerOffer, ListenerOffer.waiting_call_id == Call.id)
            ).all()
        )
        db.session.remove()
    for out in run.outcomes:
        out.offered = out.sid in offered


def _call_backs(twin, crowd: list[Person], run: Run, watcher: Watcher) -> None:
    """Credit call-back requesters reached by their call-back; name who each caller met."""
    by_sid = {}
    for person, out in zip(crowd, run.outcomes, strict=True):
        for phone in twin.calls_to(person.number):
            run.callbacks_placed += 1
            out.called_back += 1
            by_sid[phone.sid] = "call-back"
            if phone.sid in watcher.paired_at and out.reached is None:
                out.reached = (watcher.paired_at[phone.sid] - out.dialled) * run.factor
                out.via = "own call-back"
    for number in LISTENERS:
        for phone in twin.calls_to(number):
            by_sid[phone.sid] = "listener"
    for out in run.outcomes:
        if out.via == "peer":
            out.via = by_sid.get(watcher.partner.get(out.sid, ""), "peer")


# ---- the parent: one child process per day and configuration, the table --------------------


def _child(args) -> None:
    run = one_day(args.one[0], args.one[1], args.factor, args.seed, tuple(args.hours))
    Path(args.out).write_text(json.dumps(asdict(run)))


def _spawn(volume: int, config: str, args, folder: Path) -> tuple[subprocess.Popen, Path]:
    out = folder / f"{volume}-{config}.json"
    command = [sys.executable, "-m", "bench.simulated_day", "--one", str(volume), config]
    command += ["--factor", str(args.factor), "--seed", str(args.seed), "--out", str(out)]
    command += ["--hours", *map(str, args.hours)]
    for change in args.set:
        command += ["--set", change]
    log = (folder / f"{volume}-{config}.log").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), out


def summary(run: dict) -> dict:
    """The figures of one run."""
    outcomes = run["outcomes"]
    total = len(outcomes)
    reached = [o["reached"] for o in outcomes if o["reached"] is not None]
    entered = [o["entered"] * run["factor"] for o in outcomes if o["entered"] is not None]
    late = [o["timeout_late"] * run["factor"] for o in outcomes if o["timeout_late"] is not None]
    via: dict[str, int] = {}
    for o in outcomes:
        if o["via"]:
            via[o["via"]] = via.get(o["via"], 0) + 1

    def share(limit: float) -> float:
        return sum(1 for r in reached if r <= limit) / total if total else 0.0

    return {
        "callers": total,
        "within 60 s": share(60),
        "within 5 min": share(300),
        "ever": len(reached) / total if total else 0.0,
        "via": via,
        "asked": sum(1 for o in outcomes if o["asked_callback"]),
        "asked from the wait": sum(1 for o in outcomes if o.get("asked_from_wait")),
        "call-backs placed": run["callbacks_placed"],
        "listener rings": run["listener_rings"],
        "entered p50": statistics.median(entered) if entered else float("nan"),
        "entered p90": percentile(entered, 0.9) if entered else float("nan"),
        "time-out late p50": statistics.median(late) if late else float("nan"),
        "wall": run["wall"],
        "twin errors": run["twin_errors"],
        "offers": run.get("offers", {}),
        "unreached, patient, never offered": sum(
            1
            for o in outcomes
            if o["reached"] is None
            and not o["asked_callback"]
            and o["patience"] > _first_ring(run["volume"]) + RING_SECONDS[1]
            and not o.get("offered")
        ),
    }


def _first_ring(volume: int) -> float:
    """Simulated seconds into a wait before the first listener's ring: none while the day's
    busiest hour stays below LISTENER_AT_ONCE_BELOW calls (a quiet hour all day)."""
    busiest = volume * max(HOURLY) / sum(HOURLY)
    threshold = AS_THEY_ARE["LISTENER_AT_ONCE_BELOW"]
    return 0.0 if threshold and busiest < threshold else DEFAULTS["LISTENER_AFTER_SECONDS"]


def _row(volume: int, config: str, fig: dict) -> str:
    via = ", ".join(f"{k} {v}" for k, v in sorted(fig["via"].items())) or "-"
    return (
        f"| {volume} | {CONFIGS[config]} | {fig['callers']} | {fig['within 60 s']:.0%} "
        f"| {fig['within 5 min']:.0%} | {fig['ever']:.0%} | {via} "
        f"| {fig['asked']} ({fig['asked from the wait']} from the wait) "
        f"| {fig['call-backs placed']} | {fig['listener rings']} "
        f"| {fig['entered p50']:.1f} / {fig['entered p90']:.1f} | {fig['time-out late p50']:.1f} "
        f"| {fig['wall']:.0f} | {fig['twin errors']} |"
    )


def main(argv: list[str] | None = None) -> None:
    """Run every volume and configuration (or one, in a child process) and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=FACTOR, help="simulated s per real s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=3, help="days run at once")
    parser.add_argument("--volumes", type=int, nargs="+", default=list(VOLUMES))
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--no-record", action="store_true", help="print, leave RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="200 calls/day, 18:00-21:00 only")
    parser.add_argument(
        "--hours", type=int, nargs=2, default=[0, 24], help="only these hours of the day"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a line setting other than its default, in its units "
        f"(one of {', '.join(SCALED + KEPT)})",
    )
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for change in args.set:  # a product choice tried out: said in the record, never the goal
        name, _, value = change.partition("=")
        if name not in SCALED + KEPT or not value:
            parser.error(f"--set takes NAME=VALUE with NAME one of {', '.join(SCALED + KEPT)}")
        if name in KEPT:
            AS_THEY_ARE[name] = int(value)
        else:
            DEFAULTS[name] = float(value)
    if args.one:
        args.one[0] = int(args.one[0])
        _child(args)
        return
    volumes = tuple(args.volumes)
    if args.quick:
        volumes, args.hours = (200,), [18, 21]
    jobs = [(v, c) for v in volumes for c in CONFIGS if c in args.configs]
    folder = Path(tempfile.mkdtemp(prefix="mindfuse-simday-"))
    load = [os.getloadavg()[0]]
    results: dict[tuple[int, str], dict] = {}
    pending = list(jobs)
    running: list[tuple[tuple[int, str], subprocess.Popen, Path]] = []
    failed: list[tuple[int, str]] = []
    began = time.monotonic()
    while pending or running:
        while pending and len(running) < args.parallel:
            job = pending.pop(0)
            running.append((job, *_spawn(*job, args, folder)))
        time.sleep(1)
        load.append(os.getloadavg()[0])
        for item in list(running):
            job, process, out = item
            if process.poll() is None:
                continue
            running.remove(item)
            if process.returncode or not out.exists():  # the others go on; the table says so
                log = (folder / f"{job[0]}-{job[1]}.log").read_text()[-3000:]
                print(f"the day {job} failed ({process.returncode}):\n{log}", flush=True)
                failed.append(job)
                continue
            results[job] = summary(json.loads(out.read_text()))
            print(_row(*job, results[job]), flush=True)
    wall = time.monotonic() - began
    _record(args, volumes, results, wall, load, failed)


def _record(args, volumes, results, wall: float, load: list[float], failed: list) -> None:
    whole = args.hours == [0, 24]
    span = "24 h" if whole else f"{args.hours[0]:02d}:00-{args.hours[1]:02d}:00"
    lines = [
        f"Simulated {span} at compression factor {args.factor:g} (1 real s = {args.factor:g} "
        f"simulated s), seed {args.seed}, {args.parallel} days run at once; whole run "
        f"{wall / 60:.1f} min of wall clock; load average (1 min) during the run "
        f"{min(load):.1f}-{max(load):.1f}, median {statistics.median(load):.1f}. Gunicorn 2x8, "
        f"{WORKERS} RQ workers (bench.simclock: delayed jobs kept to the ms), "
        "`mindfuse scheduler`, "
        "the twin at time scale 1/factor; PostgreSQL, Redis. Shares are of all callers of the "
        "day, in simulated time from dialling.",
        "",
        "| calls/day | configuration | callers | within 60 s | within 5 min | ever | reached via "
        "| asked call-back | call-backs placed | listener rings | arrival to room p50 / p90 "
        "(s x factor) | time-out late p50 (s x factor) | wall s | twin errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(v, c, results[(v, c)]) for v in volumes for c in CONFIGS if (v, c) in results]
    lines += [f"| {v} | {CONFIGS[c]} | run failed (its log says why) |" for v, c in failed]
    lines += [
        "",
        "Model (simulated time): arrivals Poisson over the day following the hourly profile "
        f"{HOURLY} (calls per hour, relative; {night_share():.0%} between 18:00 and 06:00); "
        f"patience lognormal, median {PATIENCE_MEDIAN:g} s, sigma {PATIENCE_SIGMA}; told "
        f"nobody is free, {CALLBACK_SHARE:.0%} ask for a call-back where call-backs are in use, "
        "the rest wait on while patience lasts; the same share, should patience run out first "
        "while they wait alone, ask with star and 3 (the hold message's offer) instead of "
        f"hanging up; {CALLBACK_ANSWERS:.0%} of call-backs answered "
        f"with 1; listeners: two, on the roster all day, each ring {LISTENER_TAKES:.0%} take it, "
        f"{LISTENER_PASSES:.0%} let it pass, the rest unanswered, busy while talking; phones "
        f"ring {RING_SECONDS[0]:g}-{RING_SECONDS[1]:g} s before a person answers; "
        f"conversations lognormal, median {TALK_MEDIAN / 60:g} min, sigma {TALK_SIGMA}; the "
        f"twin speaks at {SPEECH_WPM} words a minute, and callers press once the greeting or "
        "menu is said (the arrival to room figure includes the greeting's speech). "
        "Line settings divided by the factor: "
        + ", ".join(f"{k}={v}" for k, v in DEFAULTS.items())
        + " (in their units); as they are: "
        + ", ".join(f"{k}={v}" for k, v in AS_THEY_ARE.items())
        + ". A call-back requester counts from their first call; open "
        "requests at the day's end count as not reached.",
    ]
    notes = [
        f"{v}/day: listener offers {results[(v, 'listeners')]['offers']}; callers not reached "
        f"who asked no call-back and were patient past the first listener's ring but had none "
        f"rung: {results[(v, 'listeners')]['unreached, patient, never offered']}"
        for v in volumes
        if (v, "listeners") in results
    ]
    if notes:
        lines += ["", "With listeners: " + "; ".join(notes) + "."]
    if args.set:
        lines += ["", "Not the line's defaults: " + ", ".join(args.set) + "."]
    key = (50, "listeners")
    if key in results and not (args.quick or args.set):
        met = results[key]["within 5 min"] >= GOAL
        lines += [
            "",
            f"Goal (>= {GOAL:.0%} within 5 min at 50 calls/day with call-backs and two "
            f"listeners): {results[key]['within 5 min']:.0%}, {'met' if met else 'not met'}.",
        ]
    if args.quick or args.no_record:
        print("\n".join(lines))
        return
    record("A simulated day (`bench.simulated_day`)", lines)
    print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
