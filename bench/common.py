"""Shared pieces of the benchmarks: servers on loopback, load, percentiles, the results file."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
RESULTS = Path(__file__).with_name("RESULTS.md")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(target: str, port: int, env: dict[str, str], workers: int = 2, threads: int = 4):
    """Start gunicorn on loopback and wait until it answers."""
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            target,
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except requests.RequestException:  # not listening yet, or still loading the app
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn {target} did not start")


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


def _session(local: threading.local) -> requests.Session:
    """One keep-alive HTTP session per load thread."""
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


def load(make_request, total: int, concurrency: int) -> dict[str, float]:
    """Send `total` requests from `concurrency` threads; return throughput and latencies in ms."""
    local = threading.local()

    def one(index: int) -> float:
        started = time.perf_counter()
        response = make_request(_session(local), index)
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return elapsed * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    return {
        "rps": total / wall,
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
    }


def paced(make_request, rate: float, seconds: float, threads: int = 32) -> dict[str, float]:
    """Open-loop load: start one request every 1/rate s; latency counts from its planned start."""
    total = int(rate * seconds)
    local = threading.local()
    origin = time.perf_counter() + 0.2
    errors: list[int] = []

    def one(index: int) -> float:
        planned = origin + index / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        response = make_request(_session(local), index)
        if response.status_code >= 400:
            errors.append(response.status_code)
        return (time.perf_counter() - planned) * 1000

    with ThreadPoolExecutor(max_workers=threads) as pool:
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
        RESULTS.write_text("# Benchmark results\n\nAppended by the scripts in bench/.\n\n")
    with RESULTS.open("a") as out:
        out.write("\n".join(block) + "\n")
