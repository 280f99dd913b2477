"""`make run` (`mindfuse line`): one process tree, ready with one banner, stopped whole by a
signal, refusing a taken port; logs under instance/logs/, redacted; .env read."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis

from tests import privacy
from twin.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
READY = "The Mindfuse line is ready"
STARTED = "Try it, in another terminal"  # the banner's last part: all of it is out
START_DEADLINE = 180.0  # two cores shared with other test runs: starting can be slow
STOP_DEADLINE = 30.0  # a bound for the wait, not a figure: the line stops in a few seconds
CALLER = "+15550100177"
# What the suite points its own app at: the line under test chooses its own.
NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "PORT", "TWILIO_API_BASE",
    "STRIPE_API_BASE", "MINDFUSE_INSTANCE", "LOG_LEVEL",
}  # fmt: skip


def line_env(instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh line: embedded SQLite and Redis under `instance`, the twin
    and the web on free ports."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        MINDFUSE_INSTANCE=str(instance),
        PORT=str(free_port()),
        TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}",
    )
    env.update(extra)
    return env


def wait_for_text(path: Path, text: str, process: subprocess.Popen) -> str:
    """What `process` wrote to `path` once it contains `text`; fails if it exits first."""
    deadline = time.monotonic() + START_DEADLINE
    while True:
        written = path.read_text(errors="replace") if path.exists() else ""
        if text in written:
            return written
        assert process.poll() is None, f"exited ({process.returncode}) before {text!r}:\n{written}"
        assert time.monotonic() < deadline, f"no {text!r} in {START_DEADLINE:g} s:\n{written}"
        time.sleep(0.2)


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def commands(processes: list[psutil.Process]) -> str:
    return "\n".join(" ".join(p.cmdline()) + " " + p.name() for p in processes)


def still_running(processes: list[psutil.Process]) -> list[str]:
    """Those of `processes` not gone within STOP_DEADLINE (zombies count as gone)."""
    _gone, alive = psutil.wait_procs(processes, timeout=STOP_DEADLINE)
    left = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            pass
    return left


def kill_all(processes: list[psutil.Process]) -> None:
    """A failed test must not leave a line running."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def redis_answers(instance: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(instance / "redis.sock")).ping())
    except redis.RedisError:
        return False


def test_ctrl_c_stops_every_process_of_make_run_even_under_a_pipe(tmp_path):
    instance = tmp_path / "instance"
    env = line_env(instance)
    base = f"http://127.0.0.1:{env['PORT']}"
    console = tmp_path / "console.log"
    shell = subprocess.Popen(  # as typed: `make run | tee console.log`, in a terminal of its own
        ["bash", "-c", f"make -s -C {ROOT} run 2>&1 | tee {console}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    processes: list[psutil.Process] = []
    try:
        banner = wait_for_text(console, STARTED, shell)
        processes = tree(shell.pid)
        started = commands(processes)
        for part in ("redis-server", "mindfuse twin", "gunicorn", "rq worker", "scheduler"):
            assert part in started, f"no {part} process in the tree:\n{started}"
        ready = banner[banner.index(READY) :]
        assert f"{base}/twilio/voice\n" in ready
        assert f"{base}/twilio/voice/status#" in ready and f"{base}/twilio/sms\n" in ready
        assert f"{base}/admin" in ready and "mindfuse call" in ready
        assert str(instance / "logs") in ready
        assert "Job OK" not in banner and "Successfully completed" not in banner

        call = subprocess.run(  # a caller, so that the logs have something to hold
            [BIN / "mindfuse", "call", "--from", CALLER, "--keys", "1", "--seconds", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "line: Welcome to Mindfuse" in call.stdout, call.stdout + call.stderr

        os.killpg(shell.pid, signal.SIGINT)  # Ctrl-C: make, the launcher and tee alike
        shell.wait(timeout=STOP_DEADLINE)
        assert still_running(processes) == []
        assert not redis_answers(instance), "the Redis the line started outlived it"
    finally:
        kill_all(processes)

    logs = {path.name: path.read_text() for path in (instance / "logs").glob("*.log")}
    assert {"web.log", "worker.log", "scheduler.log", "twin.log", "redis.log"} <= set(logs)
    assert privacy.leaks(logs, [CALLER]) == [], "a raw phone number reached a log file"
    for path in (instance / "logs").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_sigterm_stops_the_line_whole_and_the_banner_takes_dotenv(tmp_path):
    instance = tmp_path / "instance"
    env = line_env(instance)
    dotenv = {k: env.pop(k) for k in ("MINDFUSE_INSTANCE", "PORT", "TWILIO_API_BASE")}
    dotenv["PUBLIC_BASE_URL"] = "https://line.example.org"
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    output = tmp_path / "output.log"
    with output.open("w") as out:
        launcher = subprocess.Popen(
            [BIN / "mindfuse", "line"],
            cwd=tmp_path,  # .env is read from the directory the command runs in
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes: list[psutil.Process] = []
    try:
        banner = wait_for_text(output, STARTED, launcher)
        processes = tree(launcher.pid)
        assert "https://line.example.org/twilio/voice\n" in banner
        assert "https://line.example.org/admin" in banner
        assert f"listening on 127.0.0.1:{dotenv['PORT']}" in banner
        assert "redis-server" in commands(processes)
        launcher.send_signal(signal.SIGTERM)  # the launcher alone, as a service manager does
        assert launcher.wait(timeout=STOP_DEADLINE) == 0
        assert still_running(processes) == []
    finally:
        kill_all(processes)
    assert "the line has stopped" in output.read_text()


@pytest.mark.parametrize("taken", ["web", "twin"])
def test_a_taken_port_is_a_clear_error_and_nothing_starts(tmp_path, taken):
    instance = tmp_path / "instance"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        where = {"PORT": str(port)}
        if taken == "twin":
            where = {"TWILIO_API_BASE": f"http://127.0.0.1:{port}"}
        done = subprocess.run(
            [BIN / "mindfuse", "line"],
            env=line_env(instance, **where),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 (the {taken}'s) is in use" in done.stderr
    assert "Nothing was started" in done.stderr
    assert READY not in done.stdout
    assert not redis_answers(instance) and not (instance / "redis.sock").exists()
