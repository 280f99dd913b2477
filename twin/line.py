"""`mindfuse line`: the whole line in the foreground, as `make run` starts it.

The local Redis (when no REDIS_URL is set), the twin (when TWILIO_API_BASE is on this machine),
web, worker and scheduler run as children of this one process. Ctrl-C or SIGTERM stops them
all, in order, within a few seconds; so does any of them exiting. Each writes its log to a
file under instance/logs/, which is also copied to the terminal.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click
import redis
from flask import current_app
from flask.cli import with_appcontext

from . import launcher

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STOP_TIMEOUT = 8.0  # then whatever is left is killed
FOLLOW_INTERVAL = 0.2
NAME_WIDTH = 9


class Stop(KeyboardInterrupt):
    """A signal (Ctrl-C, SIGTERM) asked the line to stop."""


def _stop(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


class Console:
    """Copies the processes' log files to the terminal as lines arrive, each after its name.

    The processes write to their files, never to the terminal: when the terminal goes (a
    pipe's reader is gone, as `make run | tee log` after Ctrl-C), they notice nothing.
    """

    def __init__(self) -> None:
        self.files: dict[str, tuple[Path, list[int]]] = {}
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def follow(self, name: str, path: Path) -> None:
        """Copy new lines of this file to the terminal from now on."""
        with self.lock:
            self.files[name] = (path, [path.stat().st_size if path.exists() else 0])

    def say(self, text: str = "") -> None:
        """Write the launcher's own lines to the terminal."""
        with self.lock:
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError:  # the terminal or the pipe's reader is gone: the files still have it
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    def copy_new(self) -> None:
        """One pass over the files: write out every complete new line."""
        with self.lock:
            for name, (path, offset) in self.files.items():
                try:
                    with path.open("rb") as log:
                        log.seek(offset[0])
                        chunk = log.read()
                except FileNotFoundError:
                    continue
                complete = chunk[: chunk.rfind(b"\n") + 1]
                offset[0] += len(complete)
                for line in complete.decode(errors="replace").splitlines():
                    self._write(f"{name:<{NAME_WIDTH}}| {line}\n")

    def _run(self) -> None:
        while not self.done.wait(FOLLOW_INTERVAL):
            self.copy_new()

    def close(self) -> None:
        """Write out what is left and stop following."""
        self.done.set()
        self.thread.join(timeout=2)
        self.copy_new()


def _log_file(folder: Path, name: str) -> Path:
    """instance/logs/NAME.log, created readable by its owner alone; appended to across runs."""
    path = folder / f"{name}.log"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    return path


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


class Line:
    """The processes of one `mindfuse line` run, started in order and stopped in reverse."""

    def __init__(self, config, instance: Path, console: Console) -> None:
        self.config, self.console = config, console
        self.port, self.bind = config["PORT"], config["BIND_ADDRESS"]
        self.api = urlsplit(config["TWILIO_API_BASE"])
        self.with_twin = self.api.hostname in LOOPBACK
        self.logs = instance / "logs"
        self.logs.mkdir(mode=0o700, exist_ok=True)
        self.env = {
            **os.environ,  # with .env read in by the `mindfuse` command
            "PORT": str(self.port),
            "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
            "MINDFUSE_INSTANCE": str(instance),
            "RQ_QUEUE": config["RQ_QUEUE"],
            "PYTHONUNBUFFERED": "1",  # lines reach the files, and so the terminal, at once
        }
        self.procs: list[subprocess.Popen] = []
        self.names: dict[int, str] = {}
        self.redis_note = "REDIS_URL"

    def check_ports(self) -> None:
        """Refuse to start, naming the port, if the web's or the twin's is taken."""
        wanted = [(self.bind, self.port, "web")]
        if self.with_twin:
            wanted.append((self.api.hostname, self.api.port or 80, "twin"))
        for host, port, what in wanted:
            if launcher.port_taken(host, port):
                setting = "PORT" if what == "web" else "TWILIO_API_BASE"
                raise click.ClickException(
                    f"port {port} on {host} (the {what}'s) is in use: another `make run` may "
                    f"still be running, or another program holds it. Stop it, or choose "
                    f"another port with {setting}. Nothing was started."
                )

    def _started(self, name: str, process: subprocess.Popen) -> None:
        self.procs.append(process)
        self.names[process.pid] = name

    @property
    def chatty(self) -> bool:
        """LOG_LEVEL=DEBUG: the servers' own start-up lines reach the terminal too."""
        return self.config["LOG_LEVEL"] == "DEBUG"

    def _spawn(self, name: str, command: list, ready, *, shown: bool = True) -> None:
        log = _log_file(self.logs, name)
        if shown:
            self.console.follow(name, log)
        self._started(name, launcher.spawn(name, command, self.env, ready, log=log))

    def start_redis(self) -> None:
        """The configured Redis, else the local one: started here unless it runs already."""
        if self.config.get("REDIS_URL"):
            self.env["REDIS_URL"] = self.config["REDIS_URL"]
            return
        url = launcher.run("mindfuse", "redis-url", "--no-start", env=self.env).strip()
        if _redis_answers(url):
            self.redis_note = "local, started before this run (it keeps running)"
        else:
            self.redis_note = "local, started here (it stops with the line)"
            command = [launcher.BIN / "mindfuse", "redis-server"]
            self._spawn("redis", command, lambda _p: _redis_answers(url), shown=self.chatty)
        self.env["REDIS_URL"] = url

    def start(self) -> None:
        """Migrate, then start the twin, web, worker and scheduler; each must be ready."""
        self.start_redis()
        launcher.migrate(self.env)
        if self.with_twin:
            token = secrets.token_urlsafe(24)
            self.env["TWIN_CONTROL_TOKEN"] = token  # the twin takes it; `mindfuse call` reads
            probe = f"{self.config['TWILIO_API_BASE']}/_twin/conferences"  # instance/'s copy
            headers = {"Authorization": f"Bearer {token}"}
            command = [launcher.BIN / "mindfuse", "twin"]
            ready = lambda _p: launcher.answers(probe, ok=True, headers=headers)  # noqa: E731
            self._spawn("twin", command, ready)
            del self.env["TWIN_CONTROL_TOKEN"]  # the line's own processes have no use for it
        web_log = _log_file(self.logs, "web")
        self.console.follow("web", web_log)
        level = "debug" if self.chatty else "warning"  # gunicorn's own; the app's: LOG_LEVEL
        self._started(
            "web",
            launcher.start_web(self.port, self.env, bind=self.bind, log_level=level, log=web_log),
        )
        worker_log = _log_file(self.logs, "worker")
        self.console.follow("worker", worker_log)
        self._started(
            "worker",
            launcher.start_worker(self.env, worker_log, "--maintenance-interval", "30"),
        )
        scheduler_log = _log_file(self.logs, "scheduler")
        self.console.follow("scheduler", scheduler_log)
        self._started("scheduler", launcher.start_scheduler(self.env, scheduler_log))

    def exited(self) -> subprocess.Popen | None:
        """A process of the line that has exited, if any."""
        return next((p for p in self.procs if p.poll() is not None), None)

    def stop(self) -> None:
        """Stop the line's processes, then the Redis started here (the others need it)."""
        redis_started = [p for p in self.procs if self.names[p.pid] == "redis"]
        rest = [p for p in self.procs if p not in redis_started]
        for late in launcher.stop(*reversed(rest), timeout=STOP_TIMEOUT):
            self.console.say(f"the {self.names[late.pid]} process did not stop in time: killed")
        launcher.stop(*redis_started, timeout=STOP_TIMEOUT)
        self.procs.clear()


def banner(line: Line, urls: str) -> str:
    """What the terminal shows once every process is ready."""
    base = line.config["PUBLIC_BASE_URL"]
    where = f"{line.bind}:{line.port}"
    logs = line.logs
    with_cwd = Path.cwd()
    if logs.is_relative_to(with_cwd):
        logs = logs.relative_to(with_cwd)
    lines = [
        "",
        "The Mindfuse line is ready. Ctrl-C stops all of it.",
        f"  web       {base} (listening on {where})",
        f"  admin     {base}/admin (first: mindfuse admin create you@example.org)",
    ]
    if line.with_twin:
        lines.append(
            f"  twin      {line.config['TWILIO_API_BASE']} (stands in for Twilio and Stripe)"
        )
    else:
        lines.append(f"  Twilio    {line.config['TWILIO_API_BASE']}")
    lines += [
        f"  Redis     {line.redis_note}",
        f"  logs      {logs}/ (web, worker, scheduler, twin, redis .log; "
        f"LOG_LEVEL={line.config['LOG_LEVEL']})",
        "Webhook URLs for the Twilio number:",
        *(f"  {row}" for row in urls.strip().splitlines()),
    ]
    if line.with_twin:
        lines += [
            "Try it, in another terminal:",
            "  .venv/bin/mindfuse call     a simulated call; a second one at once meets the first",
            "  .venv/bin/mindfuse texts    the texts the line sent",
        ]
    return "\n".join(lines) + "\n"


def _watch(line: Line) -> int:
    """Wait until a process exits (then 1) or a signal stops the line (raises Stop)."""
    stopped = threading.Event()
    while not stopped.wait(FOLLOW_INTERVAL):
        process = line.exited()
        if process is not None:
            name = line.names[process.pid]
            line.console.close()
            line.console.say(
                f"the {name} process exited (code {process.returncode}); stopping the line. "
                f"Its log: {line.logs / (name + '.log')}"
            )
            return 1
    return 0


@click.command("line")
@with_appcontext
def line_command() -> None:
    """Run the whole line in the foreground (what `make run` does); Ctrl-C stops all of it."""
    console = Console()
    line = Line(current_app.config, Path(current_app.instance_path), console)
    line.check_ports()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        console.say("starting the line: redis, twin, web, worker, scheduler ...")
        line.start()
        urls = launcher.run("mindfuse", "urls", env=line.env)
        console.copy_new()
        console.say(banner(line, urls))
        code = _watch(line)
    except Stop as why:
        console.say(f"\nstopping the line ({why}) ...")
    except launcher.LaunchError as exc:
        console.say(f"the line could not start: {exc}")
        code = 1
    finally:
        for sig in previous:  # stopping is not interrupted; it ends within STOP_TIMEOUT
            signal.signal(sig, signal.SIG_IGN)
        line.stop()
        console.close()
        console.say("the line has stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(code)
