"""Time to a human: from the answer to being in a room with a waiting partner, per path.

Real calls through the twin against the line as in production (gunicorn, PostgreSQL, Redis):
a partner calls first and waits alone in a room; then the caller calls and takes one path:

- returning: a caller who waited to talk before (an earlier call of the same number), who
  presses nothing at the short greeting;
- first-time, pressing nothing: the whole greeting, its key window, then the wait;
- first-time, pressing 1 once the whole greeting has been said (keys are taken while it is
  said too: this is the slowest caller who presses).

The twin speaks a <Say> in no time, so speech is timed from each prompt's words at a stated
speaking rate (RATES: words a minute, by the <Say>'s language), key windows and pauses are
the TwiML's own (a <Gather> that falls through waits its `timeout` after its prompt, as
Twilio does), and the line's latency is measured: the wall time of every webhook the twin
made on the way. The path ends at the <Dial><Conference> that puts the caller in the room
where the partner waits (checked: both are in that room).
Usage: python -m bench.time_to_human [rounds]
"""

from __future__ import annotations

import itertools
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.common import record
from bench.stack import Stack
from twin.engine import CallRunner

# Words a minute. English: the issue's own figure (about 40 words, some 16 s of speech).
# German words are longer (more syllables a word at the same pace): a slower rate in words.
RATES = {"en": 150, "de": 130}
GOALS = {"returning": 10.0, "first-time, pressing nothing": 20.0, "first-time, pressing 1": 20.0}
DE_LINE = "+4915550000001"  # the line's German number (fictional)
_numbers = itertools.count(1)


def _number() -> str:
    return f"+491555{next(_numbers) + 7_000_000:07d}"  # the fictional +49 155 5xxxxxxx range


@dataclass
class Fetched:
    url: str
    seconds: float
    verbs: list


_fetched: dict[str, list[Fetched]] = defaultdict(list)
_lock = threading.Lock()
_real_fetch = CallRunner.fetch


def _fetch(self, url, method="POST", kind="voice", **extra):
    began = time.perf_counter()
    doc = _real_fetch(self, url, method, kind, **extra)
    if kind == "voice":
        with _lock:
            _fetched[self.call.sid].append(Fetched(url, time.perf_counter() - began, doc.verbs))
    return doc


def words(text: str) -> int:
    return len(text.split())


def _language(verb) -> str:
    return (verb.get("language") or "en-US").split("-")[0]


def _speech(verb) -> float:
    return words(verb.text) / RATES[_language(verb)] * 60


def _path(url: str) -> str:
    return urlsplit(url).path


@dataclass
class Timing:
    speech: float = 0.0
    windows: float = 0.0
    latency: float = 0.0
    said: int = 0  # words

    @property
    def total(self) -> float:
        return self.speech + self.windows + self.latency


def timing(fetched: list[Fetched]) -> Timing:
    """What a caller spends from the answer to the room's <Dial>: speech, windows, latency."""
    got = Timing()
    for index, doc in enumerate(fetched):
        got.latency += doc.seconds
        following = _path(fetched[index + 1].url) if index + 1 < len(fetched) else None
        for verb in doc.verbs:
            if verb.name == "Say":
                got.speech += _speech(verb)
                got.said += words(verb.text)
            elif verb.name == "Pause":
                got.windows += float(verb.get("length") or 1)
            elif verb.name == "Gather":
                for child in verb.children:
                    if child.name == "Say":
                        got.speech += _speech(child)
                        got.said += words(child.text)
                if following != _path(verb.get("action") or ""):  # no key: it falls through
                    got.windows += float(verb.get("timeout") or 5)
                else:
                    break  # a key: the action's document comes next
            elif verb.name == "Dial":
                return got
    raise RuntimeError("the call never reached a room")


def _talk(twin, number: str, to: str | None):
    caller = twin.dial(number, to)
    caller.wait_for(lambda: caller.listening, timeout=10, what="the greeting's menu")
    caller.press("1")
    room = caller.wait_until_in_conference(timeout=10)
    return caller, room


def _gone(twin, *callers) -> None:
    for caller in callers:
        caller.hang_up()
        caller.wait_until_ended(timeout=10)
    twin.wait_idle(timeout=10)


def one(stack: Stack, language: str, path: str) -> Timing:
    twin, to = stack.twin, DE_LINE if language == "de" else None
    number = _number()
    if path == "returning":  # waited once before (alone, then hung up)
        earlier, _ = _talk(twin, number, to)
        _gone(twin, earlier)
    partner, room = _talk(twin, _number(), to)
    caller = twin.dial(number, to)
    if path == "first-time, pressing 1":
        caller.wait_for(lambda: caller.listening, timeout=10, what="the greeting's menu")
        caller.press("1")
    assert caller.wait_until_in_conference(timeout=30) == room, "not in the partner's room"
    got = timing(_fetched[caller.sid])
    _gone(twin, caller, partner)
    return got


def main(rounds: int = 3) -> None:
    CallRunner.fetch = _fetch
    try:
        with Stack(NUMBER_LANGUAGES=f"{DE_LINE}=de") as stack:
            stack.twin.time_scale = 0.05  # key windows pass 20 times faster (counted whole)
            results = {
                (language, path): [one(stack, language, path) for _ in range(rounds)]
                for language in RATES
                for path in GOALS
            }
    finally:
        CallRunner.fetch = _real_fetch
    rows = [
        f"Speaking rates: English {RATES['en']} words a minute, German {RATES['de']}. "
        f"{rounds} calls per path through the twin (gunicorn 2x8, PostgreSQL, Redis); "
        "latency is the median of the measured webhooks' wall time.",
        "",
        "| language | path | words said | speech s | key windows s | line latency ms "
        "| from answer to room s | goal s | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (language, path), runs in results.items():
        first, latency = runs[0], statistics.median(run.latency for run in runs)
        total = first.speech + first.windows + latency
        goal = GOALS[path]
        rows.append(
            f"| {language} | {path} | {first.said} | {first.speech:.1f} | {first.windows:.0f} "
            f"| {latency * 1000:.0f} | **{total:.1f}** | {goal:.0f} "
            f"| {'yes' if total <= goal else 'no'} |"
        )
    record("Time to a human (`bench.time_to_human`, through the twin)", rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
