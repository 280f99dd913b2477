"""The simulated day's ceiling: what the line's policy allows when the line itself costs no time.

bench.simulated_day drives the real line through the twin on a compressed clock, three seeds
at a time, 16-25 minutes of wall clock for half a day. This is its companion, as the
constant-TwiML server is the webhooks' ceiling: the same callers (`simulated_day.people`), the
same model of what callers and listeners do, and the line's policy as it is coded (pairing,
call-backs, the listener ring group, rests, re-rings, the "nobody is free" time-out that waits
while something rings for the caller), in a discrete-event model where every webhook and job
runs the instant it is due. Speech takes its time as in the twin: each prompt of app.prompts at
SPEECH_WPM, and the twin's answering-machine detection on every call the line places.

It answers two questions in two minutes. Does the real line lose callers to its own
latency? (Compare its figure on seeds 1-3 with the real run's.) And what can the policy reach
at all, over hundreds of seeds and with a knob turned? A figure here is a ceiling for the
policy, not a measurement of the line.

Left out, as they do not arise at 50 calls a day: the pace rule (at most some 4 calls an hour
here, below LISTENER_AT_ONCE_BELOW, so a listener is always offered as the wait begins; checked
below), the rescue of a partner whose peer hangs up between the pairing and the room (none in
hundreds of days), and the pool's dropping of a wait older than the time-out and a minute.
Usage:
    python -m bench.day_ceiling [--seeds N] [--draws K] [--no-record]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from functools import cache

from app import prompts
from app.settings import Settings
from bench.common import record
from bench.simulated_day import (
    GOAL,
    HOURLY,
    LISTENER_PASSES,
    LISTENER_TAKES,
    RING_SECONDS,
    SPEECH_WPM,
    Person,
    people,
)
from twin.callee import Callee
from twin.engine import speech_seconds

VOLUME = 50
SAID = (  # the prompts whose length shapes a wait, as the twin times them
    "GREETING",
    "FINDING",
    "CONNECTING",
    "CALLBACK_CALLING",
    "NOBODY_FREE",
    "ALONE_MENU",
    "LISTENER_CONNECTING",
    "CALLBACK_CONNECTING",
    "CALLBACK_LISTENER",
    "CALLBACK_PARTNER_LEFT",
    "LISTENER_AFTER_MENU",
)
SAY = {name: speech_seconds(str(getattr(prompts, name)), SPEECH_WPM) for name in SAID}
# A listener's own call goes on after the caller hangs up: "the other person has left", the
# listener's after-call menu and its 5 s for a key, then the hang-up; their rest runs from there.
LISTENER_AFTER = (
    speech_seconds(str(prompts.WHY_ENDED["partner_left"]), SPEECH_WPM)
    + SAY["LISTENER_AFTER_MENU"]
    + 5
)
DETECTION = Callee.detect_seconds  # the twin's answering-machine detection after a pick-up
LATER = 600.0  # simulated seconds past the day's last hour that call-backs may still come


def _default(name: str) -> float:
    return float(getattr(Settings, name).default)


@dataclass(frozen=True)
class Policy:
    """The line's knobs (their defaults) and the model's variants."""

    listeners: int = 2
    rest_minutes: float = _default("LISTENER_REST_MINUTES")
    rung_at_once: int = int(_default("LISTENERS_RUNG_AT_ONCE"))
    rings_per_wait: int = int(_default("LISTENER_RINGS_PER_WAIT"))
    listener_ring: float = _default("LISTENER_RING_SECONDS")
    callback_ring: float = _default("CALLBACK_RING_SECONDS")
    wait_timeout: float = _default("WAIT_TIMEOUT_SECONDS")
    recheck: float = _default("RINGING_RECHECK_SECONDS")
    window_minutes: float = _default("CALLBACK_WINDOW_MINUTES")
    greeting: float = SAY["GREETING"]  # dialling to the press of 1 (the wait begins)
    callbacks: bool = True


@dataclass
class Fate:
    """What came of one caller (simulated seconds from midnight)."""

    person: Person
    reached: float | None = None
    via: str = ""  # peer, call-back (rung for them), own call-back, listener
    free_at_first_wait: int | None = None  # listeners free then; -1: a call-back rung then
    first_rings: int = 0
    rings: list[str] = field(default_factory=list)
    gave_up_greeting: bool = False
    taker_on_the_way: bool = False  # gave up while a listener who would take was ringing


class Leg:
    """One call of a person into the line (their own, or the call-back's)."""

    def __init__(self, fate: Fate, arrived: float, requester: bool):
        self.fate, self.arrived, self.requester = fate, arrived, requester
        self.state = "greeting"  # greeting, waiting, menu, matched, gone
        self.token = 0  # one per wait, as the line's wait_token
        self.wait_started = 0.0
        self.in_room_at = 0.0  # the end of the speech before the hold music
        self.offers: list[Offer] = []
        self.callback: Request | None = None  # the call-back ringing for this wait
        self.heard_hold = False  # the hold message, with its "press star, then 3"
        self.hangs_up_at = math.inf  # a requester hangs up this long after answering
        self.waited_before = False


class Listener:
    def __init__(self, index: int):
        self.index = index
        self.busy_until = 0.0  # on a call, then resting
        self.on_call = False
        self.ringing: Offer | None = None
        self.last_called: float | None = None
        self.last_taken: float | None = None


class Offer:
    def __init__(self, listener: Listener, leg: Leg, outcome: tuple[str, float]):
        self.listener, self.leg, self.token, self.outcome = listener, leg, leg.token, outcome
        self.state = "ringing"


class Request:
    def __init__(self, fate: Fate, at: float, window: float):
        self.fate, self.expires = fate, at + window
        self.state = "open"  # open, calling, connected, dropped, cancelled
        self.for_listener = False
        self.waiting: Leg | None = None


class Day:
    """One simulated day under one policy: an event queue, the line's rules as handlers."""

    def __init__(self, crowd, seed: int, policy: Policy, end: float, roll: int | None = None):
        self.policy, self.end = policy, end
        self.queue: list = []
        self.count = 0
        self.now = 0.0
        suffix = "" if roll is None else f"-{roll}"
        self.rng = random.Random(f"{seed}-listeners{suffix}")
        self.listeners = [Listener(i) for i in range(policy.listeners)]
        self.pool: list[Leg] = []
        self.requests: list[Request] = []
        self.fates = [Fate(person) for person in crowd]
        for fate in self.fates:
            self.at(fate.person.arrives, self.dial, fate)
        minute = 60.0 * math.ceil(min((f.person.arrives for f in self.fates), default=end) / 60)
        while minute < end:  # EXPIRE_CALLBACKS, every minute, serves what it can
            self.at(minute, self.serve)
            minute += 60

    def at(self, when: float, handler, *args) -> None:
        self.count += 1
        heapq.heappush(self.queue, (when, self.count, handler, args))

    def run(self) -> list[Fate]:
        while self.queue:
            when, _, handler, args = heapq.heappop(self.queue)
            if when > self.end:
                break
            self.now = when
            handler(*args)
        return self.fates

    # Callers.
    def dial(self, fate: Fate) -> None:
        leg = Leg(fate, self.now, False)
        self.at(self.now + fate.person.patience, self.patience_over, leg)
        self.at(self.now + self.policy.greeting, self.pressed_1, leg)

    def pressed_1(self, leg: Leg) -> None:
        if leg.state != "greeting":
            return
        if self.now >= leg.arrived + leg.fate.person.patience:
            leg.state, leg.fate.gave_up_greeting = "gone", True
            return
        self.start_wait(leg, None)

    def met(self, a: Leg, b: Leg | None, when: float, via_a: str, via_b: str) -> None:
        for leg, via in ((a, via_a), (b, via_b)):
            if leg is not None and leg.fate.reached is None:
                leg.fate.reached, leg.fate.via = when, via

    def leave_pool(self, leg: Leg) -> None:
        if leg in self.pool:
            self.pool.remove(leg)

    def start_wait(self, leg: Leg, intro: str | None) -> None:
        """The line's wait: pair with the longest waiting caller, else wait (a call-back
        claimed first, a listener offered at once)."""
        first = not leg.waited_before
        leg.waited_before = True
        if self.pool:
            other = min(self.pool, key=lambda waiting: waiting.wait_started)
            self.leave_pool(other)
            other.state = leg.state = "matched"
            if first:
                leg.fate.free_at_first_wait = self.free_count()
            when = max(self.now + SAY[intro or "CONNECTING"], other.in_room_at)
            self.met(leg, other, when, self._via(leg, "peer"), self._via(other, "peer"))
            return
        leg.state, leg.token, leg.wait_started = "waiting", leg.token + 1, self.now
        leg.offers, leg.callback = [], None
        self.pool.append(leg)
        if first:
            leg.fate.free_at_first_wait = self.free_count()
        if self.claim_callback(leg):
            intro = "CALLBACK_CALLING"
            if first:
                leg.fate.free_at_first_wait = -1
        leg.in_room_at = self.now + SAY[intro or "FINDING"]
        self.at(leg.in_room_at, self.on_hold, leg, leg.token)
        self.at(self.now + self.policy.wait_timeout, self.time_out, leg, leg.token)
        self.at(self.now, self.offer_listener, leg, leg.token)

    def _via(self, leg: Leg, what: str) -> str:
        return "own call-back" if leg.requester else what

    def on_hold(self, leg: Leg, token: int) -> None:
        if self.waiting(leg, token):
            leg.heard_hold = True

    def waiting(self, leg: Leg, token: int) -> bool:
        return leg.state == "waiting" and leg.token == token

    def time_out(self, leg: Leg, token: int) -> None:
        """The time-out ("nobody is free"), put off while a call-back or a listener rings."""
        if not self.waiting(leg, token):
            return
        if self.rings_for(leg):
            self.at(self.now + self.policy.recheck, self.time_out, leg, token)
            return
        self.leave_pool(leg)
        leg.state = "menu"
        self.at(self.now + SAY["NOBODY_FREE"], self.menu_choice, leg)

    def menu_choice(self, leg: Leg) -> None:
        person = leg.fate.person
        if leg.state != "menu":
            return
        if leg.requester:  # their phone presses only at "press 1 to talk now"
            leg.state = "gone"
        elif self.policy.callbacks and person.asks_callback:
            leg.state = "gone"
            self.ask(leg.fate)
        elif self.now >= leg.arrived + person.patience:
            leg.state = "gone"
        else:
            self.start_wait(leg, None)

    def patience_over(self, leg: Leg) -> None:
        fate = leg.fate
        if leg.state == "matched" and fate.reached is not None and fate.reached > self.now:
            fate.reached, fate.via, leg.state = None, "", "gone"  # hung up as they were joined
            return
        if leg.state != "waiting":
            return  # at the greeting or a menu: dealt with at its end
        self.leave_pool(leg)
        if any(o.state == "ringing" and o.outcome[0] == "take" for o in leg.offers):
            fate.taker_on_the_way = True
        leg.state = "gone"
        if self.policy.callbacks and fate.person.asks_callback and leg.heard_hold:
            self.at(self.now + SAY["ALONE_MENU"], self.ask, fate)

    # Call-backs.
    def ask(self, fate: Fate) -> None:
        self.requests.append(Request(fate, self.now, self.policy.window_minutes * 60))
        self.serve()

    def open_requests(self, but: Fate | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.state == "open" and r.expires > self.now and r.fate is not but
        ]

    def claim_callback(self, leg: Leg) -> bool:
        """The oldest open request rung for this waiting caller, unless something rings."""
        if leg.state != "waiting" or self.rings_for(leg):
            return False
        for request in self.requests:  # a requester who calls again withdraws their request
            if request.fate is leg.fate and request.state == "open":
                request.state = "cancelled"
        found = self.open_requests(leg.fate)
        if not found:
            return False
        request = found[0]
        request.state, request.waiting, request.for_listener = "calling", leg, False
        leg.callback = request
        self.ring_requester(request)
        return True

    def ring_requester(self, request: Request) -> None:
        person = request.fate.person
        if person.answers_callback:
            self.at(self.now + person.ring + DETECTION, self.requester_pressed, request)
        else:
            self.at(self.now + self.policy.callback_ring, self.callback_dropped, request)

    def requester_pressed(self, request: Request) -> None:
        if request.state != "calling":
            return
        request.state = "connected"
        leg = Leg(request.fate, self.now, True)
        leg.hangs_up_at = self.now + request.fate.person.talk
        leg.waited_before = True
        self.at(leg.hangs_up_at, self.requester_hangs_up, leg)
        if request.for_listener:
            self.start_wait(leg, "CALLBACK_LISTENER")
            return
        partner = request.waiting
        if partner is not None and partner.state == "waiting":
            self.leave_pool(partner)
            partner.state = leg.state = "matched"
            when = max(self.now + SAY["CALLBACK_CONNECTING"], partner.in_room_at)
            self.met(leg, partner, when, "own call-back", self._via(partner, "call-back"))
            return
        self.start_wait(leg, "CALLBACK_PARTNER_LEFT")

    def requester_hangs_up(self, leg: Leg) -> None:
        if leg.state in ("waiting", "menu"):
            self.leave_pool(leg)
            leg.state = "gone"

    def callback_dropped(self, request: Request) -> None:
        if request.state != "calling":
            return
        request.state = "dropped"
        waiting = request.waiting
        if waiting is not None:
            waiting.callback = None
        if request.for_listener:
            self.serve()
        if waiting is not None and waiting.state == "waiting" and not self.claim_callback(waiting):
            self.serve()

    # Listeners.
    def free(self, listener: Listener) -> bool:
        return listener.ringing is None and not listener.on_call and self.now >= listener.busy_until

    def free_count(self) -> int:
        return sum(self.free(listener) for listener in self.listeners)

    def calling_back(self, leg: Leg) -> bool:
        """Whether a call-back rings for this wait."""
        return leg.callback is not None and leg.callback.state == "calling"

    def rings_for(self, leg: Leg) -> bool:
        return self.calling_back(leg) or any(o.state == "ringing" for o in leg.offers)

    def offer_listener(self, leg: Leg, token: int) -> None:
        """The listener offer job: a call-back ringing or claimable comes first."""
        if not self.waiting(leg, token):
            return
        if self.calling_back(leg) or self.claim_callback(leg):
            self.at(self.now + self.policy.recheck, self.offer_listener, leg, token)
            return
        self.claim_listeners(leg)

    def claim_listeners(self, leg: Leg) -> bool:
        """Up to LISTENERS_RUNG_AT_ONCE free listeners, least recently called first: those not
        yet rung on this wait, else those whose rings on it were missed."""
        if leg.state != "waiting" or self.rings_for(leg):
            return False
        free = sorted(
            (x for x in self.listeners if self.free(x)),
            key=lambda x: (x.last_called is not None, x.last_called or 0, x.index),
        )
        rung: dict[int, list[str]] = {}
        for offer in leg.offers:
            rung.setdefault(offer.listener.index, []).append(offer.state)
        chosen = [x for x in free if x.index not in rung] or [
            x
            for x in free
            if all(state == "no-answer" for state in rung[x.index])
            and len(rung[x.index]) < max(1, self.policy.rings_per_wait)
        ]
        chosen = chosen[: max(1, self.policy.rung_at_once)]
        if not leg.offers and chosen:
            leg.fate.first_rings = leg.fate.first_rings or len(chosen)
        for listener in chosen:
            roll, ring = self.rng.random(), self.rng.uniform(*RING_SECONDS)
            if roll < LISTENER_TAKES:
                outcome = ("take", self.now + ring + DETECTION)
            elif roll < LISTENER_TAKES + LISTENER_PASSES:
                outcome = ("pass", self.now + ring + DETECTION)
            else:
                outcome = ("no-answer", self.now + self.policy.listener_ring)
            offer = Offer(listener, leg, outcome)
            listener.ringing, listener.last_called = offer, self.now
            leg.offers.append(offer)
            self.at(outcome[1], self.ring_ended, offer)
        return bool(chosen)

    def close(self, offer: Offer, state: str, try_next: bool = True) -> None:
        offer.state = state
        listener = offer.listener
        listener.ringing = None
        if state == "taken":
            return
        listener.last_called = listener.last_taken  # a ring that came to nothing rests nobody
        if try_next and self.waiting(offer.leg, offer.token):
            self.claim_listeners(offer.leg)
        self.serve()

    def ring_ended(self, offer: Offer) -> None:
        if offer.state != "ringing":
            return
        kind, leg = offer.outcome[0], offer.leg
        if offer.token == leg.token:
            leg.fate.rings.append(kind)
        if kind != "take":
            self.close(offer, "no-answer" if kind == "no-answer" else "declined")
            return
        if not self.waiting(leg, offer.token):  # paired, timed out or gone meanwhile
            self.close(offer, "gone", try_next=False)
            return
        self.leave_pool(leg)
        leg.state = "matched"
        listener = offer.listener
        listener.last_taken = listener.last_called
        meet = max(self.now + SAY["LISTENER_CONNECTING"], leg.in_room_at)
        if leg.requester:
            lost, ends = leg.hangs_up_at < meet, max(meet, leg.hangs_up_at)
        else:
            lost = leg.arrived + leg.fate.person.patience < meet
            ends = meet if lost else meet + leg.fate.person.talk
        listener.on_call = True
        self.close(offer, "taken")
        for other in leg.offers:  # the rest of the ring group stops ringing
            if other is not offer and other.state == "ringing":
                self.close(other, "elsewhere", try_next=False)
        if lost:
            leg.fate.taker_on_the_way = True
        else:
            self.met(leg, None, meet, self._via(leg, "listener"), "")
        self.at(ends + LISTENER_AFTER, self.listener_call_ended, listener)

    def listener_call_ended(self, listener: Listener) -> None:
        listener.on_call = False
        listener.busy_until = self.now + self.policy.rest_minutes * 60
        self.at(listener.busy_until, self.serve)

    def serve(self) -> None:
        """What a listener coming free, a request asked and the minute's job do: call-backs
        for the waiting, free listeners offered to them, then call-backs for free listeners."""
        if self.open_requests():
            for leg in sorted(self.pool, key=lambda waiting: waiting.arrived):
                self.claim_callback(leg)
        for leg in sorted(self.pool, key=lambda waiting: waiting.arrived):
            if self.free_count() == 0:
                break
            self.claim_listeners(leg)
        free = self.free_count()
        for_listeners = sum(1 for r in self.requests if r.state == "calling" and r.for_listener)
        if free > for_listeners:
            for request in self.open_requests()[: free - for_listeners]:
                request.state, request.for_listener = "calling", True
                self.ring_requester(request)


def one_day(seed: int, policy: Policy, hours: tuple[int, int], roll: int | None = None):
    """The fates of one seed's callers (those of bench.simulated_day's same seed); `roll`
    picks another throw of the listeners' dice."""
    crowd = people(VOLUME, seed, hours)
    return Day(crowd, seed, policy, hours[1] * 3600 + LATER, roll).run()


def within(fates: list[Fate], seconds: float) -> int:
    return sum(
        1 for f in fates if f.reached is not None and f.reached - f.person.arrives <= seconds
    )


def cause(fate: Fate) -> str:
    """Why a caller was not with a person within 5 minutes (the first that applies)."""
    if fate.taker_on_the_way:
        return "gave up while a listener who would take them was on the way"
    if fate.free_at_first_wait == -1:
        return "a call-back was rung for them as their first wait began"
    if fate.free_at_first_wait == 0:
        return "no listener free as their first wait began (on a call, resting or ringing)"
    if fate.rings and "take" not in fate.rings[: fate.first_rings or 2]:
        return "listeners free, but their rings came to nothing"
    if fate.gave_up_greeting:
        return "gave up in the greeting"
    return "other"


@dataclass
class Figures:
    callers: int = 0
    in_60: int = 0
    in_300: int = 0
    shares_300: list[float] = field(default_factory=list)
    causes: Counter = field(default_factory=Counter)
    via: Counter = field(default_factory=Counter)

    def add(self, fates: list[Fate]) -> None:
        if not fates:
            return
        self.callers += len(fates)
        self.in_60 += within(fates, 60)
        self.in_300 += within(fates, 300)
        self.shares_300.append(within(fates, 300) / len(fates))
        late = (f for f in fates if f.reached is None or f.reached - f.person.arrives > 300)
        self.causes.update(cause(f) for f in late)
        self.via.update(f.via for f in fates if f.reached is not None)

    def share(self, count: int) -> float:
        return count / self.callers if self.callers else 0.0

    def error(self) -> float:
        """The standard error of the 5-minute share, from its spread over days."""
        days = len(self.shares_300)
        return statistics.stdev(self.shares_300) / math.sqrt(days) if days > 1 else 0.0


@cache
def figures(seeds: range, policy: Policy, hours: tuple[int, int]) -> Figures:
    found = Figures()
    for seed in seeds:
        found.add(one_day(seed, policy, hours))
    return found


def same_seeds(seeds, policy: Policy, hours: tuple[int, int], rolls: int) -> Figures:
    """The benchmark's own seeds, the listeners' dice thrown `rolls` times over (their order
    cannot be the real run's): callers counted once per throw."""
    found = Figures()
    for roll in range(rolls):
        found.add([f for seed in seeds for f in one_day(seed, policy, hours, roll)])
    return found


VARIANTS = (
    ("a rest of 5 minutes (the default before)", {"rest_minutes": 5}),
    ("a rest of 3 minutes", {"rest_minutes": 3}),
    ("no rest", {"rest_minutes": 0}),
    ("one listener rung at a time", {"rung_at_once": 1}),
    ("a greeting half as long", {"greeting": SAY["GREETING"] / 2}),
    ("three listeners", {"listeners": 3}),
    ("no call-backs (everyone waits on)", {"callbacks": False}),
)


def _slow_enough() -> None:
    """The model offers a listener as every wait begins: true while the busiest hour brings
    fewer calls than LISTENER_AT_ONCE_BELOW (per PACE_WINDOW_MINUTES, 60)."""
    busiest = VOLUME * max(HOURLY) / sum(HOURLY)
    assert busiest < _default("LISTENER_AT_ONCE_BELOW"), busiest
    assert _default("PACE_WINDOW_MINUTES") == 60


def _row(name: str, policy: Policy, seeds: range) -> str:
    half, day = figures(seeds, policy, (12, 24)), figures(seeds, policy, (0, 24))
    return (
        f"| {name} | {half.share(half.in_60):.1%} | {half.share(half.in_300):.1%} "
        f"(± {half.error():.1%}) | {day.share(day.in_300):.1%} (± {day.error():.1%}) |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500, help="days per figure")
    parser.add_argument("--draws", type=int, default=200, help="dice throws on seeds 1-3")
    parser.add_argument("--no-record", action="store_true", help="print, leave RESULTS.md")
    args = parser.parse_args(argv)
    _slow_enough()
    many, policy = range(1, args.seeds + 1), Policy()
    knobs = ", ".join(f"{f.name} {getattr(policy, f.name):g}" for f in fields(policy))
    lines = [
        f"{VOLUME} calls a day, call-backs and two listeners, the line's policy with no latency "
        f"of its own (bench.day_ceiling); the callers of bench.simulated_day's seeds; speech "
        f"at {SPEECH_WPM} words a minute (the greeting {SAY['GREETING']:.1f} s, 'nobody is "
        f"free' {SAY['NOBODY_FREE']:.1f} s, a listener's call {LISTENER_AFTER:.1f} s past the "
        f"caller's hang-up), {DETECTION:.0f} s of machine detection on each call placed. "
        f"The line's defaults: {knobs}. Shares of all callers, within 60 s and 5 minutes of "
        f"dialling.",
        "",
        "| hours | days | callers | within 60 s | within 5 min | reached via (all day long) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for hours in ((12, 24), (0, 24)):
        wide = figures(many, policy, hours)
        own = same_seeds((1, 2, 3), policy, hours, args.draws)
        lines.append(
            f"| {hours[0]}-{hours[1]} | seeds 1-{args.seeds} | {wide.callers} "
            f"| {wide.share(wide.in_60):.1%} | {wide.share(wide.in_300):.1%} "
            f"(± {wide.error():.1%}) | {dict(wide.via.most_common())} |"
        )
        lines.append(
            f"| {hours[0]}-{hours[1]} | seeds 1, 2, 3 ({args.draws} throws of the listeners' "
            f"dice) | {own.callers // args.draws} | {own.share(own.in_60):.1%} "
            f"| {own.share(own.in_300):.1%} | |"
        )
    wide = figures(many, policy, (12, 24))
    lines += ["", f"Not within 5 minutes, 12-24, seeds 1-{args.seeds}, per 100 callers:", ""]
    lines += [
        f"- {100 * count / wide.callers:.1f}: {name}" for name, count in wide.causes.most_common()
    ]
    lines += [
        "",
        f"One knob at a time (seeds 1-{args.seeds}; ± one standard error over days):",
        "",
        "| policy | 12-24, within 60 s | 12-24, within 5 min | whole day, within 5 min |",
        "| --- | --- | --- | --- |",
        _row("the line's defaults", policy, many),
    ]
    lines += [_row(name, replace(policy, **turned), many) for name, turned in VARIANTS]
    whole = figures(many, policy, (0, 24))
    met = "met" if whole.share(whole.in_300) >= GOAL else "not met"
    lines += [
        "",
        f"Goal (>= {GOAL:.0%} within 5 min at {VOLUME} calls a day): the policy's ceiling over a "
        f"whole day {whole.share(whole.in_300):.1%}, {met}.",
    ]
    if args.no_record:
        print("\n".join(lines))
    else:
        record("The simulated day's ceiling (`bench.day_ceiling`)", lines)


if __name__ == "__main__":
    main()
