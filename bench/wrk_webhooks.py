"""The webhooks measured from outside: wrk (a C load generator) with pre-signed requests.

The line runs as in production (gunicorn with the Procfile's 2 workers x 4 threads, or what its
WEB_CONCURRENCY and WEB_THREADS say, PostgreSQL, Redis) beside the ceiling, a constant-TwiML
Flask app under the same gunicorn settings. Python only prepares: it signs every request
beforehand into a file (distinct CallSids and callers) that bench/wrk/signed.lua sends, each
line once. Then, three rounds in one run, alternating:

- the ceiling and the line back to back at 8 and at 32 connections (the ratio of their req/s),
  for the greeting with the floor between them (the ceiling after one Redis PING), and the
  CPU per request of each server and of Redis, which a shared machine's noise moves less
  than req/s;
- the ceiling and the line at a fixed rate (wrk's delay() holds each send to its slot on a
  schedule; see signed.lua), p50/p99.

Webhooks: the incoming call (`POST /twilio/voice`), and the menu key 1 that starts a wait or
pairs (every press a different caller who was greeted first; with nobody excluded, each press
either waits or takes the one caller waiting, so half pair).
Callers are German mobile numbers by default; `gb` or `us` makes them UK or US ones (the
fictional ranges hold only 1,000 and 100 numbers, so callers repeat), whose country code
several regions share; their hourly limit is lifted, or most calls would be turned away.
Usage: python -m bench.wrk_webhooks [greeting|menu|both] [seconds per load] [rounds] [de|gb|us]
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.common import load, record, server_cpu
from bench.stack import Stack
from twin import launcher

# The Procfile's defaults, or what its WEB_CONCURRENCY and WEB_THREADS say (for every server).
WORKERS = int(os.environ.get("WEB_CONCURRENCY", 2))
THREADS = int(os.environ.get("WEB_THREADS", 4))
LEVELS = (8, 32)
SCRIPT = Path(__file__).with_name("wrk") / "signed.lua"
WRK_THREADS = 2
APP, CEILING = "app:create_app()", "bench.ceiling:create_app()"
FLOOR = "bench.ceiling:create_ping_app()"  # the ceiling after one Redis round trip
# Each server's gunicorn processes by their title ("gunicorn: worker [target]"), and
# Redis: their CPU per request is read from /proc, apart from wrk's.
WEB_NEEDLE = {target: f"[{target}]" for target in (APP, CEILING, FLOOR)}
REDIS_NEEDLE = "redis-server"
_numbers = itertools.count(1)


# The fictional ranges: +49 155 5xxxxxxx, +44 7700 900xxx, +1 555 0100 1xx.
CALLERS = {"de": ("+491555", 10**7), "gb": ("+447700900", 1000), "us": ("+155501001", 100)}
_callers = CALLERS["de"]


def _number() -> str:
    prefix, count = _callers
    return f"{prefix}{next(_numbers) % count:0{len(str(count - 1))}d}"


def _call() -> dict[str, str]:
    return {
        "CallSid": "CA" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": _number(),
        "To": "+15550100000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def _wrk(
    url: str, file: Path, connections: int, seconds: float, rate: float = 0, target: str = ""
) -> dict:
    """One wrk run; its figures (latencies in ms; with `target`, the CPU microseconds per
    request of that server's gunicorn processes and of Redis)."""
    before = (server_cpu(WEB_NEEDLE[target]), server_cpu(REDIS_NEEDLE)) if target else None
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds:.0f}s"]
    command += ["--timeout", "10s", "-s", str(SCRIPT), url, "--", str(file), str(WRK_THREADS)]
    if rate:
        command.append(str(rate))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^RESULT (\{.*\})$", out, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk said:\n{out}")
    got = json.loads(found.group(1))
    got["rps"] = got["requests"] / (got["duration_us"] / 1e6)
    if before:
        count = max(got["requests"], 1)
        got["web_us"] = (server_cpu(WEB_NEEDLE[target]) - before[0]) / count * 1e6
        got["redis_us"] = (server_cpu(REDIS_NEEDLE) - before[1]) / count * 1e6
    for name in ("p50", "p99", "max"):
        got[name] = got.pop(f"{name}_us") / 1000
    return got


class Signed:
    """Files of pre-signed requests to the line, as Twilio would send them."""

    def __init__(self, stack: Stack):
        self.base = stack.url
        self.validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])
        self.dir = stack.tmp
        self.files = itertools.count()

    def write(self, path: str, forms: list[dict]) -> Path:
        file = self.dir / f"requests-{next(self.files)}.tsv"
        with file.open("w") as out:
            for form in forms:
                signature = self.validator.compute_signature(self.base + path, form)
                out.write(f"{path}\t{urlencode(form)}\t{signature}\n")
        return file

    def greeted(self, count: int) -> list[dict]:
        """`count` callers greeted (from Python, before any measuring), ready to press 1."""
        forms = [_call() for _ in range(count)]
        url = self.base + "/twilio/voice"

        def one(session, index):
            form = forms[index]
            signature = self.validator.compute_signature(url, form)
            return session.post(url, data=form, headers={"X-Twilio-Signature": signature})

        load(one, count, 8)
        return forms


def _menu_path() -> str:
    return f"/twilio/voice/menu?arrived={int(time.time() * 1000)}"


def _press(forms: list[dict]) -> list[dict]:
    return [{**form, "Digits": "1", "CallStatus": "in-progress"} for form in forms]


def _median(runs: list[dict], name: str) -> float:
    return statistics.median(run[name] for run in runs)


def _bench(stack: Stack, servers: dict[str, str], webhook: str, seconds: float, rounds: int):
    """Line and ceiling (and, for the greeting, the floor) alternating, `rounds` times: closed
    loop at each level, then paced. `servers`: the ceiling's and the floor's URLs."""
    signed, load_before = Signed(stack), _loadavg()
    rates = (100, 300) if webhook == "greeting" else (100,)
    floor = servers.get(FLOOR) if webhook == "greeting" else None
    # enough distinct requests that no thread runs out: the ceiling's pace for the greeting
    # (the line is slower), a generous guess for the menu press (each needs a greeting first)
    closed_count = int((6000 if webhook == "greeting" else 400) * seconds)

    def requests(count: int) -> Path:
        if webhook == "greeting":
            return signed.write("/twilio/voice", [_call() for _ in range(count)])
        return signed.write(_menu_path(), _press(signed.greeted(count)))

    ceiling_url = servers[CEILING]
    ceiling_file = signed.write("/twilio/voice", [_call() for _ in range(closed_count)])
    closed: dict[int, list[tuple[dict, dict, dict | None]]] = {level: [] for level in LEVELS}
    paced: dict[int, list[tuple[dict, dict]]] = {rate: [] for rate in rates}
    for _ in range(rounds):
        for level in LEVELS:
            line_file = requests(closed_count)
            top = _wrk(ceiling_url, ceiling_file, level, seconds, target=CEILING)
            under = None
            if floor:
                under = _wrk(floor, requests(closed_count), level, seconds, target=FLOOR)
            got = _wrk(stack.url, line_file, level, seconds, target=APP)
            closed[level].append((got, top, under))
        for rate in rates:
            line_file = requests(int(rate * seconds * 1.2))
            top = _wrk(ceiling_url, ceiling_file, 16, seconds, rate)
            got = _wrk(stack.url, line_file, 16, seconds, rate)
            paced[rate].append((got, top))
    rows = [
        f"wrk {WRK_THREADS} threads; {rounds} rounds, line and ceiling alternating, "
        f"{seconds:.0f} s each load; load average (1/5/15 min) before: {load_before}. "
        "CPU columns: microseconds per request of the server's gunicorn processes (web) and "
        "of Redis, from /proc, apart from wrk's own."
        + (
            " The floor is the ceiling after one Redis PING (`bench.ceiling.create_ping_app`): "
            "what any greeting, which needs its one round trip, cannot beat."
            if floor
            else ""
        ),
        "",
        "| load | round | line req/s | ceiling req/s | ratio | floor ratio | line p50 ms "
        "| line p99 ms | ceiling p99 ms | line web / Redis CPU us | ceiling web CPU us "
        "| floor web / Redis CPU us | non-2xx | late sends (max ms) | wrapped |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for level, runs in closed.items():
        for number, (got, top, under) in enumerate(runs, 1):
            floor_ratio = f"{under['rps'] / top['rps']:.2f}" if under else ""
            floor_cpu = f"{under['web_us']:.0f} / {under['redis_us']:.0f}" if under else ""
            rows.append(
                f"| {level} connections | {number} | {got['rps']:.0f} | {top['rps']:.0f} "
                f"| {got['rps'] / top['rps']:.2f} | {floor_ratio} | {got['p50']:.1f} "
                f"| {got['p99']:.1f} | {top['p99']:.1f} "
                f"| {got['web_us']:.0f} / {got['redis_us']:.0f} | {top['web_us']:.0f} "
                f"| {floor_cpu} | {got['non2xx']} | | {got['wrapped']} |"
            )
    for rate, pairs in paced.items():
        for number, (got, top) in enumerate(pairs, 1):
            rows.append(
                f"| {rate} req/s, 16 connections | {number} | {got['rps']:.0f} "
                f"| {top['rps']:.0f} | | | {got['p50']:.1f} | {got['p99']:.1f} "
                f"| {top['p99']:.1f} | | | | {got['non2xx']} "
                f"| {got['late']} ({got['late_max_ms']:.0f}) | {got['wrapped']} |"
            )
    rows += ["", "Medians over the rounds:", ""]
    for level, runs in closed.items():
        ratio = statistics.median(got["rps"] / top["rps"] for got, top, _ in runs)
        lines = [got for got, _, _ in runs]
        floor_part = ""
        if floor:
            floor_ratio = statistics.median(under["rps"] / top["rps"] for _, top, under in runs)
            floor_part = f"; the floor {floor_ratio:.2f}"
        rows.append(
            f"- {level} connections: ratio **{ratio:.2f}** "
            f"({_median(lines, 'rps'):.0f} against "
            f"{_median([t for _, t, _ in runs], 'rps'):.0f} req/s){floor_part}, "
            f"line p99 {_median(lines, 'p99'):.1f} ms; CPU per request: line web "
            f"{_median(lines, 'web_us'):.0f} us + Redis {_median(lines, 'redis_us'):.0f} us, "
            f"ceiling web {_median([t for _, t, _ in runs], 'web_us'):.0f} us"
        )
    for rate, pairs in paced.items():
        lines = [got for got, _ in pairs]
        rows.append(
            f"- {rate} req/s: line sent {_median(lines, 'rps'):.0f}/s, p50 "
            f"{_median(lines, 'p50'):.1f} ms, p99 **{_median(lines, 'p99'):.1f} ms** "
            f"(ceiling p99 {_median([t for _, t in pairs], 'p99'):.1f} ms)"
        )
    return rows


def _loadavg() -> str:
    return " / ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main(which: str = "both", seconds: float = 5, rounds: int = 3, callers: str = "de") -> None:
    """Measure and record."""
    global _callers  # noqa: PLW0603 - the run's one choice, read by every form it signs
    _callers = CALLERS[callers]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk; `make bench` does it)")
    database = "PostgreSQL" if "postgres" in os.environ.get("DATABASE_URL", "") else "SQLite"
    # UK and US callers repeat: past CALLS_PER_HOUR_LIMIT in the hour each further call would be
    # turned away (a row and its event written), which is not the greeting being measured.
    repeat = {} if callers == "de" else {"CALLS_PER_HOUR_LIMIT": str(10**9)}
    options = {"WAIT_TIMEOUT_SECONDS": "3600", **repeat}
    with Stack(web_workers=WORKERS, web_threads=THREADS, **options) as stack:
        servers, started = {}, []
        try:
            for target in (CEILING, FLOOR):
                port = launcher.free_port()
                started.append(
                    launcher.start_web(
                        port,
                        stack.env,
                        target=target,
                        workers=WORKERS,
                        threads=THREADS,
                        log_level="warning",
                        health=None,
                    )  # fmt: skip
                )
                servers[target] = f"http://127.0.0.1:{port}"
            for webhook in ("greeting", "menu") if which == "both" else (which,):
                rows = _bench(stack, servers, webhook, seconds, rounds)
                rows.append(f"- load average after: {_loadavg()}")
                name = {
                    "greeting": "incoming call (`POST /twilio/voice`)",
                    "menu": "menu key 1, half wait and half pair (`POST /twilio/voice/menu`)",
                }[webhook]
                server = f"gunicorn {WORKERS}x{THREADS}, {database}"
                if callers != "de":
                    server += f", callers from {callers.upper()}"
                record(f"wrk: {name} against the ceiling ({server})", rows)
        finally:
            launcher.stop(*started)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        args[0] if args else "both",
        float(args[1]) if len(args) > 1 else 5,
        int(args[2]) if len(args) > 2 else 3,
        args[3] if len(args) > 3 else "de",
    )
