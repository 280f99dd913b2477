"""Where the incoming-call webhook's CPU goes under wrk: py-spy sampling the gunicorn workers.

The line runs as `bench.wrk_webhooks` runs it (gunicorn 2 workers x 4 threads, PostgreSQL,
Redis); wrk sends pre-signed greetings at 8 connections while py-spy samples every worker
(on-CPU samples only). Prints the functions with the most own samples and the most samples
anywhere on the stack, grouped by file.
Usage: python -m bench.pyspy_incoming [seconds] [top]
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench.stack import Stack
from bench.wrk_webhooks import THREADS, WORKERS, Signed, _call, _wrk

PY_SPY = str(Path(sys.executable).with_name("py-spy"))  # the project's own, in its venv


def _summary(raw: str, top: int) -> list[str]:
    own: Counter = Counter()
    anywhere: Counter = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame.split(" (")[0] + " " + frame.split("/")[-1] for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            anywhere[frame] += samples
    rows = [f"{total} samples", "", "own time:"]
    rows += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    rows += ["", "anywhere on the stack:"]
    rows += [f"  {n / total:6.1%}  {name}" for name, n in anywhere.most_common(top * 2)]
    return rows


def main(seconds: float = 10, top: int = 30) -> None:
    with Stack(web_workers=WORKERS, web_threads=THREADS, WAIT_TIMEOUT_SECONDS="3600") as stack:
        signed = Signed(stack)
        warm = signed.write("/twilio/voice", [_call() for _ in range(3000)])
        _wrk(stack.url, warm, 8, 2)
        file = signed.write("/twilio/voice", [_call() for _ in range(int(4000 * seconds))])
        out = stack.tmp / "pyspy.txt"
        spy = [
            PY_SPY, "record", "--pid", str(stack.web.pid), "--subprocesses", "--format",
            "raw", "--rate", "250", "--duration", f"{seconds:.0f}", "--output", str(out),
            "--nonblocking",
        ]  # fmt: skip
        sampler = threading.Thread(target=subprocess.run, args=(spy,), kwargs={"check": True})
        sampler.start()
        got = _wrk(stack.url, file, 8, seconds)
        sampler.join()
        print(f"wrk: {got['rps']:.0f} req/s, p99 {got['p99']:.1f} ms")
        print("\n".join(_summary(out.read_text(), top)))


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 10,
        int(sys.argv[2]) if len(sys.argv) > 2 else 30,
    )
