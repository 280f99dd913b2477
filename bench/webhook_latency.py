"""Throughput and latency of the line's webhooks under gunicorn, against the stack's ceiling.

Runs the app as in production (gunicorn, PostgreSQL, Redis) and a minimal Flask app under the
same gunicorn settings, and loads both with signed requests at rising concurrency: the
incoming call, the menu key that starts a wait, the menu key that pairs with a waiting caller,
conference and call status callbacks, and an incoming text. Then an open-loop run at a fixed
rate. Usage: python -m bench.webhook_latency [requests per level] [paced rate] [paced seconds]
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import sys
from functools import partial

from twilio.request_validator import RequestValidator

from bench.common import load, merged, paced, record, server_cpu
from bench.stack import Stack
from twin import launcher

LEVELS = (1, 8, 32)
CHUNKS = 5  # the ceiling and the incoming call alternate in this many chunks per level
WORKERS, THREADS = 2, 4
ROOM = re.compile(rb"<Conference[^>]*>([^<]+)</Conference>")
STORES = ("postgres", "redis-server")
APP, CEILING = "app:create_app()", "bench.ceiling:create_app()"
_numbers = itertools.count(1)


def _number() -> str:
    return f"+491555{next(_numbers):07d}"  # the fictional +49 155 5xxxxxxx range


class Line:
    """Signed requests to the line under test, as Twilio would send them."""

    def __init__(self, stack: Stack):
        self.base = stack.url
        self.validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])
        self.waiter = _number()  # one identity for every seeded waiter: they never pair up

    def post(self, session, path: str, form: dict):
        url = self.base + path
        signature = self.validator.compute_signature(url, form)
        return session.post(url, data=form, headers={"X-Twilio-Signature": signature})

    @staticmethod
    def call(number: str) -> dict:
        return {
            "CallSid": "CA" + secrets.token_hex(16),
            "AccountSid": "AC" + "0" * 32,
            "From": number,
            "To": "+15550100000",
            "CallStatus": "ringing",
            "Direction": "inbound",
        }

    def run(self, forms: list[dict], path: str, concurrency: int, keep: list | None = None):
        """Post each form once from `concurrency` threads; keep the answers if asked."""

        def one(session, index):
            response = self.post(session, path, forms[index])
            if keep is not None:
                keep[index] = response.content
            return response

        return measured(lambda: load(one, len(forms), concurrency), len(forms), APP)


def measured(run, count: int, server: str) -> dict:
    """Run a load and add the server side's CPU per request (the gunicorn app, PostgreSQL and
    Redis; not the load generator, which shares the cores)."""
    before = server_cpu(server, *STORES)
    figures = run()
    figures["cpu"] = (server_cpu(server, *STORES) - before) / count * 1000
    return figures


def _rooms(bodies: list[bytes]) -> list[str]:
    return [ROOM.search(body).group(1).decode() for body in bodies]


def _against_ceiling(line: Line, ceiling_post, forms: list[dict], level: int) -> dict[str, dict]:
    """The ceiling and the incoming call, measured in alternating chunks.

    This machine's speed drifts by up to half within minutes; alternating puts a drift on
    both sides of the ratio alike instead of on whichever ran during it.
    """
    total = len(forms)
    bounds = [total * part // CHUNKS for part in range(CHUNKS + 1)]
    ceiling, incoming = [], []
    for start, stop in itertools.pairwise(bounds):
        count = stop - start
        ceiling.append(measured(partial(load, ceiling_post, count, level), count, CEILING))
        incoming.append(line.run(forms[start:stop], "/twilio/voice", level))
    return {
        "ceiling (constant TwiML)": merged(ceiling),
        "incoming call (/twilio/voice)": merged(incoming),
    }


def _level(line: Line, ceiling_post, total: int, level: int) -> dict[str, dict]:
    """One round of every webhook at this concurrency, on fresh calls."""
    waiters = [Line.call(line.waiter) for _ in range(total)]
    matchers = [Line.call(_number()) for _ in range(total)]
    figures = _against_ceiling(line, ceiling_post, matchers, level)
    line.run(waiters, "/twilio/voice", level)
    press = [{**form, "Digits": "1", "CallStatus": "in-progress"} for form in waiters]
    figures["menu 1, first caller waits"] = line.run(press, "/twilio/voice/menu", level)
    answers: list = [None] * total
    press = [{**form, "Digits": "1", "CallStatus": "in-progress"} for form in matchers]
    figures["menu 1, matching caller pairs"] = line.run(press, "/twilio/voice/menu", level, answers)
    events = []
    for room, a, b in zip(_rooms(answers), waiters, matchers, strict=True):
        for sequence, call in ((1, a), (2, b)):
            events.append(
                {
                    "ConferenceSid": "CF" + secrets.token_hex(16),
                    "FriendlyName": room,
                    "StatusCallbackEvent": "participant-join",
                    "SequenceNumber": str(sequence),
                    "CallSid": call["CallSid"],
                    "AccountSid": call["AccountSid"],
                }
            )
    events = events[:total]
    figures["conference callback (join)"] = line.run(events, "/twilio/voice/conference", level)
    ended = [
        {**form, "CallStatus": "completed", "CallDuration": "42", "SequenceNumber": "9"}
        for form in (waiters + matchers)[:total]
    ]
    figures["call status callback (completed)"] = line.run(ended, "/twilio/voice/status", level)
    texts = [
        {"MessageSid": "SM" + secrets.token_hex(16), "From": _number(), "Body": "JOIN"}
        for _ in range(total)
    ]
    figures["incoming text (/twilio/sms)"] = line.run(texts, "/twilio/sms", level)
    return figures


def _paced_rows(line: Line, ceiling_post, rate: float, seconds: float) -> list[str]:
    count = int(rate * seconds)
    arrivals = [Line.call(_number()) for _ in range(count)]
    presses = [{**Line.call(_number()), "Digits": "1"} for _ in range(count)]
    for form in presses:  # they arrived earlier; now they press 1 (about half wait, half pair)
        form["CallStatus"] = "in-progress"
    line.run([{**f, "CallStatus": "ringing"} for f in presses], "/twilio/voice", 8)
    runs = {
        "incoming call (/twilio/voice)": paced(
            lambda s, i: line.post(s, "/twilio/voice", arrivals[i]), rate, seconds
        ),
        "menu 1 (half wait, half pair)": paced(
            lambda s, i: line.post(s, "/twilio/voice/menu", presses[i]), rate, seconds
        ),
        "ceiling (constant TwiML)": paced(ceiling_post, rate, seconds),
    }
    rows = [
        f"Open loop at {rate:.0f} requests/s for {seconds:.0f} s (latency from the planned send):",
        "",
        "| webhook | sent req/s | p50 ms | p99 ms | max ms | errors |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, got in runs.items():
        rows.append(
            f"| {name} | {got['rps']:.0f} | {got['p50']:.1f} | {got['p99']:.1f} "
            f"| {got['max']:.1f} | {got['errors']} |"
        )
    return rows


def main(total: int = 400, rate: float = 100, seconds: float = 10) -> None:
    """Measure and record."""
    with Stack(web_workers=WORKERS, web_threads=THREADS, WAIT_TIMEOUT_SECONDS="3600") as stack:
        ceiling_port = launcher.free_port()
        ceiling_url = f"http://127.0.0.1:{ceiling_port}/twilio/voice"
        ceiling = launcher.start_web(
            ceiling_port,
            stack.env,
            target=CEILING,
            workers=WORKERS,
            threads=THREADS,
            log_level="warning",
            health=None,  # the ceiling app has nothing but its one webhook
        )
        line = Line(stack)

        def ceiling_post(session, _index):
            return session.post(ceiling_url, data={"CallSid": "CA1"})

        rows = [
            f"{total} requests per webhook and level, each on fresh calls. Server CPU is what",
            "gunicorn, PostgreSQL and Redis spent per request; the load generator (Python,",
            "on the same 2 cores) is not counted in it, and it bounds the ceiling's req/s.",
            f"The ceiling and the incoming call run in {CHUNKS} alternating chunks each. The last",
            "column is the ratio the server alone would allow: the ceiling's server CPU per",
            "request over the webhook's.",
            "",
            "| webhook | concurrency | req/s | p50 ms | p99 ms | server CPU ms/req | ratio "
            "| ratio by server CPU |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        try:
            for level in LEVELS:
                figures = _level(line, ceiling_post, total, level)
                top = figures["ceiling (constant TwiML)"]
                for name, got in figures.items():
                    rows.append(
                        f"| {name} | {level} | {got['rps']:.0f} | {got['p50']:.1f} "
                        f"| {got['p99']:.1f} | {got['cpu']:.2f} | {got['rps'] / top['rps']:.0%} "
                        f"| {top['cpu'] / got['cpu']:.0%} |"
                    )
            rows += ["", *_paced_rows(line, ceiling_post, rate, seconds)]
        finally:
            launcher.stop(ceiling)
    database = "PostgreSQL" if "postgres" in os.environ.get("DATABASE_URL", "") else "SQLite"
    record(f"Webhooks (gunicorn {WORKERS}x{THREADS}, {database}, Redis)", rows)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 400,
        float(args[1]) if len(args) > 1 else 100,
        float(args[2]) if len(args) > 2 else 10,
    )
