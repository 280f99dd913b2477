"""Starting and stopping the line's processes on loopback: web, worker, scheduler and the twin.

`mindfuse demo`, the end-to-end fixtures and the benchmarks all start the line through this
module. It imports nothing else of the twin and the app never imports it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import redis
import requests
from rq import Worker
from rq.cron import CronScheduler

from app.settings import queue_names

BIN = Path(sys.executable).parent  # the console scripts of this environment
WORKER_CLASS = "workers.worker.AppWorker"
START_TIMEOUT = 30.0
LOG_TAIL_LINES = 15

# Every process started here whose group has not been killed yet: an interrupted run must not
# leave a worker behind that goes on taking jobs from a queue nobody watches.
_live: set[subprocess.Popen] = set()


class LaunchError(RuntimeError):
    """A process of the line did not start, or a command it needs failed."""


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_taken(host: str, port: int) -> bool:
    """True if something listens on host:port already (a port in TIME_WAIT is free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def answers(url: str, *, ok: bool = False, headers: dict[str, str] | None = None) -> bool:
    """True if `url` answers HTTP at all (with a status below 400 when `ok`)."""
    try:
        response = requests.get(url, timeout=1, headers=headers)
    except requests.RequestException:  # not listening yet, or still loading the app
        return False
    return response.ok or not ok


def worker_registered(redis_url: str, pid: int) -> bool:
    """True once the RQ worker with this process id is listed in Redis."""
    connection = redis.Redis.from_url(redis_url)
    return any(w.pid == pid for w in Worker.all(connection=connection))


def scheduler_registered(redis_url: str, pid: int) -> bool:
    """True once the cron scheduler with this process id is listed in Redis."""
    connection = redis.Redis.from_url(redis_url)
    return any(s.pid == pid for s in CronScheduler.all(connection=connection))


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return f"; its log ({log}) ends:\n" + "\n".join(lines)


def spawn(
    name: str,
    command: Sequence[str | Path],
    env: dict[str, str] | None,
    ready: Callable[[subprocess.Popen], bool],
    *,
    log: Path | None = None,
    timeout: float = START_TIMEOUT,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start `command` in a session of its own and wait until `ready(process)` holds."""
    output = log.open("a") if log is not None else None  # appended: a restart keeps the past
    try:
        # Its own session: Ctrl-C in the terminal reaches only the parent, which stops it in
        # order, and kill_group takes whatever it forked into its group along.
        process = subprocess.Popen(
            [str(part) for part in command],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
    finally:
        if output is not None:
            output.close()
    _live.add(process)
    deadline = time.monotonic() + timeout
    try:
        while not ready(process):
            if process.poll() is not None:
                code = process.returncode
                raise LaunchError(f"the {name} process exited at start (code {code}){_tail(log)}")
            if time.monotonic() > deadline:
                raise LaunchError(f"the {name} process did not start in {timeout:g} s{_tail(log)}")
            time.sleep(0.1)
    except BaseException:  # a start that failed or was interrupted leaves nothing running
        kill_group(process)
        raise
    return process


def run(*command: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run one of this environment's console scripts to the end; return what it printed."""
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        env=env,
        stdin=subprocess.DEVNULL,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    if done.returncode:
        raise LaunchError(f"`{' '.join(command)}` failed:\n{done.stderr[-2000:]}")
    return done.stdout


def migrate(env: dict[str, str]) -> None:
    """Bring the database in `env` up to the newest migration."""
    run("flask", "--app", "app", "db", "upgrade", env=env)


def start_web(
    port: int,
    env: dict[str, str],
    *,
    target: str = "app:create_app()",
    workers: int = 2,
    threads: int = 4,
    log_level: str = "info",
    log: Path | None = None,
    health: str | None = "/healthz",
    bind: str = "127.0.0.1",
) -> subprocess.Popen:
    """Serve `target` with gunicorn on `bind`:`port`; wait until `health` answers 2xx.

    With `health` None any HTTP answer at / will do (an app without a health endpoint).
    """
    url = f"http://127.0.0.1:{port}"
    command = [
        BIN / "gunicorn",
        "--bind", f"{bind}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", log_level,
        target,
    ]  # fmt: skip
    probe = f"{url}{health or '/'}"
    return spawn("web", command, env, lambda _: answers(probe, ok=bool(health)), log=log)


def start_worker(env: dict[str, str], log: Path | None, *options: str) -> subprocess.Popen:
    """Start an RQ worker (with RQ's scheduler) on the queues of env's RQ_QUEUE, urgent first;
    wait until it is registered.

    `options` go to `rq worker` as they are (`--burst`, `--worker-ttl 30`, ...).
    """
    url = env["REDIS_URL"]
    command = [BIN / "rq", "worker", "--with-scheduler", "--worker-class", WORKER_CLASS]
    command += ["--url", url, *options, *queue_names(env["RQ_QUEUE"])]
    return spawn("RQ worker", command, env, lambda p: worker_registered(url, p.pid), log=log)


def start_scheduler(env: dict[str, str], log: Path | None) -> subprocess.Popen:
    """Start `mindfuse scheduler` (the recurring jobs); wait until it is registered."""
    url = env["REDIS_URL"]
    command = [BIN / "mindfuse", "scheduler"]
    return spawn("scheduler", command, env, lambda p: scheduler_registered(url, p.pid), log=log)


def start_twin(
    port: int,
    args: Sequence[str],
    *,
    token: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> subprocess.Popen:
    """Start `python -m twin` on `port` with these options and this control token (handed
    over in its environment, not on a command line others can read); wait until it answers."""
    command = [sys.executable, "-m", "twin", "--port", str(port), *args]
    env = {**(os.environ if env is None else env), "TWIN_CONTROL_TOKEN": token}
    probe = f"http://127.0.0.1:{port}/_twin/conferences"
    headers = {"Authorization": f"Bearer {token}"}

    def ready(_process: subprocess.Popen) -> bool:
        return answers(probe, ok=True, headers=headers)

    return spawn("twin", command, env, ready, log=log, cwd=cwd)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process and everything in its process group, as a crash would; reap it.

    RQ's work horses put themselves in groups of their own, so they are not reached.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:  # and the process itself, should it not lead a group
        process.kill()
    process.wait(timeout=10)
    _live.discard(process)


def stop(*processes: subprocess.Popen, timeout: float = 10) -> list[subprocess.Popen]:
    """SIGTERM the processes, wait up to `timeout` for all, then kill their groups.

    Returns the ones that had not stopped in time: their log may say what held them.
    """
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    late = []
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            late.append(process)
        kill_group(process)  # whatever it forked and left behind goes too
    return late


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_live):
        kill_group(process)
