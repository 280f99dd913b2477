"""Shared pieces of the benchmarks: load, server CPU, percentiles, the results file."""

from __future__ import annotations

import os
import platform
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

RESULTS = Path(__file__).with_name("RESULTS.md")


def server_cpu(*needles: str) -> float:
    """CPU seconds used so far by the processes whose command line holds any of `needles`.

    Read from /proc (Linux); elsewhere 0. Used to show what a request costs the server side
    (gunicorn, PostgreSQL, Redis) apart from the load generator sharing the same cores.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not any(needle in command for needle in needles):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0..1) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _Sessions:
    """Keep-alive HTTP sessions, one per load thread, handed on from one load to the next:
    a load run in chunks opens its connections once, not once per chunk."""

    idle: list[requests.Session] = []
    lock = threading.Lock()

    def __init__(self):
        self.local = threading.local()
        self.taken: list[requests.Session] = []

    def __call__(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            with self.lock:
                self.local.session = self.idle.pop() if self.idle else requests.Session()
                self.taken.append(self.local.session)
        return self.local.session

    def __enter__(self) -> _Sessions:
        return self

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.idle.extend(self.taken)


def load(make_request, total: int, concurrency: int) -> dict[str, float]:
    """Send `total` requests from `concurrency` threads; return throughput and latencies in ms."""
    session = _Sessions()

    def one(index: int) -> float:
        started = time.perf_counter()
        response = make_request(session(), index)
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return elapsed * 1000

    started = time.perf_counter()
    with session, ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = list(pool.map(one, range(total)))
        wall = time.perf_counter() - started
    return {
        "rps": total / wall,
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "wall": wall,
        "latencies": latencies,
    }


def merged(parts: list[dict]) -> dict[str, float]:
    """The figures of loads run one after another, as if they were one run: throughput over
    their summed time, percentiles over all latencies, CPU per request (when measured)."""
    latencies = [ms for part in parts for ms in part["latencies"]]
    figures = {
        "rps": len(latencies) / sum(part["wall"] for part in parts),
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
    }
    if all("cpu" in part for part in parts):
        cpu = sum(part["cpu"] * len(part["latencies"]) for part in parts)
        figures["cpu"] = cpu / len(latencies)
    return figures


def paced(make_request, rate: float, seconds: float, threads: int = 32) -> dict[str, float]:
    """Open-loop load: start one request every 1/rate s; latency counts from its planned start."""
    total = int(rate * seconds)
    session = _Sessions()
    origin = time.perf_counter() + 0.2
    errors: list[int] = []

    def one(index: int) -> float:
        planned = origin + index / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        response = make_request(session(), index)
        if response.status_code >= 400:
            errors.append(response.status_code)
        return (time.perf_counter() - planned) * 1000

    with session, ThreadPoolExecutor(max_workers=threads) as pool:
        latencies = list(pool.map(one, range(total)))
    wall = time.perf_counter() - origin
    return {
        "rps": total / wall,
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "errors": len(errors),
    }


def record(title: str, lines: list[str]) -> None:
    """Print figures and append them, with the machine and date, to bench/RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    block = [f"## {title}", "", f"{stamp}; {machine}", "", *lines, ""]
    print("\n".join(block))
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\n## Log\n\n")
    with RESULTS.open("a") as out:
        out.write("\n".join(block) + "\n")
