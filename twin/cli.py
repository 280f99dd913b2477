"""`mindfuse call` and `mindfuse demo`: simulated callers against the line, from a terminal."""

from __future__ import annotations

import contextlib
import os
import queue
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import phonenumbers
import redis
import requests
from flask import current_app
from flask.cli import with_appcontext

from . import launcher
from .__main__ import CONTROL_TOKEN_FILE
from .handle import Twin
from .remote import RemoteCaller, RemoteTwin

FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}
KEYS = set("0123456789*#")
ACCOUNT = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER")  # Twin's order
DEMO_TIME_SCALE = 0.05  # Gather timeouts and pauses in the demo run 20 times faster


def mask(number: str) -> str:
    """A display form that hides all but the country code and the last two digits."""
    try:
        code = f"+{phonenumbers.parse(number).country_code} "
    except phonenumbers.NumberParseException:
        code = ""
    return f"{code}••• •••• {number[-2:]}"


# ---- mindfuse call -------------------------------------------------------------------


def _read_stdin(typed: queue.Queue[str | None]) -> None:
    for line in sys.stdin:
        typed.put(line.strip())
    typed.put(None)  # end of input


def _kept_token() -> str:
    """The control token `mindfuse twin` wrote under instance/, if it is running."""
    try:
        return (Path(current_app.instance_path) / CONTROL_TOKEN_FILE).read_text().strip()
    except FileNotFoundError:
        return ""


def fictional_number() -> str:
    """A fictional number (+1 555 01xx, +44 7700 900xxx, +49 155 5xxxxxxx), new each call."""
    return _numbers(random.randrange(3) + 1)[-1]


def _remote(twin_url: str | None, token: str | None) -> tuple[RemoteTwin, str]:
    """The twin's control API: at --twin, else TWILIO_API_BASE; with its token."""
    base = twin_url or current_app.config["TWILIO_API_BASE"]
    if "api.twilio.com" in base:
        raise click.ClickException(f"the line talks to the real Twilio ({base}); pass --twin URL")
    return RemoteTwin(base, token or _kept_token(), poll=0.1), base


def _unreachable(base: str, exc: requests.RequestException, what: str) -> click.ClickException:
    if isinstance(exc, requests.HTTPError):
        return click.ClickException(
            f"the twin at {base} refused {what} ({exc.response.status_code}): pass the token it "
            "printed with --token, or start it with `make run` (or `mindfuse twin`), which "
            f"keeps its token in instance/{CONTROL_TOKEN_FILE}."
        )
    return click.ClickException(
        f"no twin control API at {base} ({type(exc).__name__}). Start one with `make run` "
        "or `python -m twin --port 8700 --voice-url <line>/twilio/voice`, or pass --twin."
    )


TWIN_OPTION = click.option("--twin", "twin_url", help="Twin base URL [default: TWILIO_API_BASE].")
TOKEN_OPTION = click.option(
    "--token",
    envvar="TWIN_CONTROL_TOKEN",
    help="The twin's control token [default: the one `make run` keeps under instance/].",
)


@click.command("call")
@TWIN_OPTION
@TOKEN_OPTION
@click.option(
    "--from",
    "from_number",
    help="The caller's number [default: a new fictional one each call, so two calls meet].",
)
@click.option("--keys", default="", help="Keys to press, one per prompt heard (scripted use).")
@click.option("--seconds", type=float, help="Hang up after this many seconds.")
@with_appcontext
def call_command(
    twin_url: str | None,
    token: str | None,
    from_number: str | None,
    keys: str,
    seconds: float | None,
):
    """Place one simulated call through a running twin: hear the line, press keys."""
    remote, base = _remote(twin_url, token)
    from_number = from_number or fictional_number()
    try:
        caller = remote.dial(from_number)
    except requests.RequestException as exc:
        raise _unreachable(base, exc, "the call") from exc
    typed: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_stdin, args=(typed,), daemon=True).start()
    click.echo(f"calling the line from {from_number} (call {caller.sid})")
    if not keys and seconds is None:
        click.echo("type digits or * and Enter to press them (also mid-prompt); h hangs up")
    try:
        state = _follow(caller, [k for k in keys if k in KEYS], seconds, typed)
    except requests.RequestException as exc:
        raise click.ClickException(f"lost the twin at {base}: {exc}") from exc
    click.echo(f"call ended: {state['status']}")
    for error in state["errors"]:
        click.echo(f"  error {error['code']}: {error['message']}", err=True)
    if state["errors"]:
        raise SystemExit(1)


@click.command("texts")
@TWIN_OPTION
@TOKEN_OPTION
@click.option("--to", "to_number", help="Only the texts sent to this number.")
@with_appcontext
def texts_command(twin_url: str | None, token: str | None, to_number: str | None):
    """List the texts the line sent through a running twin (to simulated phones), oldest first."""
    remote, base = _remote(twin_url, token)
    try:
        texts = remote.delivered_texts()
    except requests.RequestException as exc:
        raise _unreachable(base, exc, "the request") from exc
    texts = [t for t in texts if to_number in (None, t["to"])]
    if not texts:
        click.echo("no texts delivered yet")
    for text in texts:
        click.echo(f"{text['sent']}  to {text['to']}  from {text['from']}")
        click.echo(f"    {text['body']}")


def _follow(caller: RemoteCaller, pending: list[str], seconds: float | None, typed) -> dict:
    """Print what the caller hears until the call ends; press keys and hang up as asked."""
    began, printed, prompted, hung_up, room = time.monotonic(), 0, False, False, None
    window = None
    scripted = bool(pending) or seconds is not None  # then end of input does not hang up
    state = caller.state

    def press(keys: str) -> None:
        click.echo(f"  you: press {keys}")
        caller.press(keys)

    def hang_up(why: str) -> None:
        nonlocal hung_up
        if not hung_up:
            click.echo(f"  you: hang up ({why})")
            caller.hang_up()
            hung_up = True

    while True:
        try:
            for text in state["heard"][printed:]:
                click.echo(f"  line: {text}")
                prompted = prompted or not text.startswith("[")  # a Say, not music
            printed = len(state["heard"])
            if state["status"] in FINAL:
                return state
            if state.get("listening") != window:
                window = state.get("listening")
                if window:
                    click.echo(f"  (keys: {_key_window(window)})")
            if state["conference"] != room:
                room = state["conference"]
                click.echo(f"  (in conference {room})" if room else "  (left the conference)")
            if pending and prompted:
                prompted = False
                press(pending.pop(0))
            if seconds is not None and time.monotonic() - began >= seconds:
                hang_up(f"after {seconds:g} s")
            while not typed.empty():
                line = typed.get()
                if (line is None and not scripted) or (line or "").lower().startswith("h"):
                    hang_up("end of input" if line is None else "h")
                elif line and (digits := "".join(c for c in line if c in KEYS)):
                    press(digits)
            time.sleep(caller.twin.poll)
            state = caller.refresh()
        except KeyboardInterrupt:
            hang_up("Ctrl-C")


def _key_window(window: dict) -> str:
    """How the line takes keys now, in words: `1 key, from now until 5 s after the prompt`."""
    count = window["num_digits"]
    keys = f"{count} key{'' if count == 1 else 's'}" if count else "keys, then #"
    return f"{keys}, from now until {window['timeout']:g} s after the prompt"


# ---- mindfuse demo -------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one simulated caller in the demo."""

    index: int
    number: str
    arrived: float = 0.0
    sid: str = ""
    room: str | None = None
    partner_sid: str | None = None
    waited: float | None = None
    timed_out: bool = False
    note: str = ""
    problems: list[str] = field(default_factory=list)


def _numbers(count: int) -> list[str]:
    """Fictional numbers from three countries, different on every run."""
    ranges = (("+155501001", 2), ("+447700900", 3), ("+491555", 7))
    return [f"{p}{random.randrange(10**w):0{w}d}" for p, w in (ranges[i % 3] for i in range(count))]


class DemoLine:
    """Web and worker subprocesses on the line's own configuration, plus an in-process twin,
    with a database and a Redis namespace of their own: the line's data is left untouched."""

    def __init__(self, config, wait_timeout: int) -> None:
        self.config, self.wait_timeout = config, wait_timeout
        self.logs = Path(tempfile.mkdtemp(prefix="mindfuse-demo-"))
        self.database_url = f"sqlite:///{self.logs / 'demo.db'}"  # gone with the logs
        token = secrets.token_hex(3)  # a namespace of its own: no clash with a running line
        # Beside the line's prefix, not under it: a scan of the line's keys never meets these.
        self.prefix = f"{config['REDIS_KEY_PREFIX'].rstrip(':')}-demo-{token}:"
        self.queue = f"{config['RQ_QUEUE']}-demo{token}"
        self.procs: list[subprocess.Popen] = []
        self.twin: Twin | None = None
        self.redis_url = ""

    def start(self) -> Twin:
        """Migrate, start the twin, the web server and an RQ worker; wait until all serve."""
        account = {k: self.config[k] for k in ACCOUNT}  # the twin and the line must agree
        try:
            url = self.config["REDIS_URL"]
            self.redis_url = url or launcher.run("mindfuse", "redis-url").split()[-1]
            port = launcher.free_port()
            web = f"http://127.0.0.1:{port}"
            self.twin = Twin(
                *account.values(),
                voice_url=f"{web}/twilio/voice",
                status_callback=f"{web}/twilio/voice/status",
                sms_url=f"{web}/twilio/sms",
                time_scale=DEMO_TIME_SCALE,
            ).start()
            env = {
                **os.environ,
                **account,
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "PUBLIC_BASE_URL": web,
                "REDIS_KEY_PREFIX": self.prefix,
                "RQ_QUEUE": self.queue,
                "TWILIO_API_BASE": self.twin.api_base,
                "WAIT_TIMEOUT_SECONDS": str(self.wait_timeout),
            }
            launcher.migrate(env)
            web_log = self.logs / "web.log"
            self.procs.append(launcher.start_web(port, env, threads=8, log=web_log))
            self.procs.append(launcher.start_worker(env, self.logs / "worker.log"))
        except launcher.LaunchError as exc:
            raise click.ClickException(str(exc)) from exc
        return self.twin

    def stop(self) -> None:
        """Hang up, stop every subprocess, forget the demo's Redis keys."""
        if self.twin is not None:
            self.twin.stop()
        launcher.stop(*self.procs)
        if not self.redis_url:
            return
        with contextlib.suppress(redis.RedisError):  # tidying up must not hide the real error
            conn = redis.Redis.from_url(self.redis_url)
            for pattern in (f"{self.prefix}*", f"rq:*{self.queue}*"):
                for name in conn.scan_iter(pattern):
                    conn.delete(name)
            conn.srem("rq:queues", f"rq:queue:{self.queue}")


def _play(twin: Twin, out: Outcome, talk: float, wait_timeout: int) -> None:
    """One caller's script: press 1, wait, talk or time out, hang up."""
    caller = twin.dial(out.number)
    out.sid = caller.sid
    caller.wait_until_heard("press 1", timeout=10)
    caller.press("1")
    out.room = room = caller.wait_until_in_conference(timeout=10)
    joined, mark = time.monotonic(), caller.mark()

    def settled() -> str | None:
        if len(twin.conferences().get(room, [])) >= 2:
            return "paired"
        if any("nobody is free" in h.lower() for h in caller.heard[mark:]):
            return "timeout"
        return "ended" if caller.ended else None

    result = twin.wait_for(settled, timeout=wait_timeout + 20)
    out.waited = time.monotonic() - joined
    if result == "paired":
        members = twin.conferences().get(room, [])
        out.partner_sid = next((s for s in members if s != caller.sid), None)
        if members[0] == caller.sid:  # whoever waited in the room leaves first
            time.sleep(talk)
            out.note = f"talked {talk:g} s, hung up"
        else:
            since = caller.mark()
            caller.wait_until_not_in_conference(timeout=talk + 15)
            after = caller.wait_for(lambda: caller.heard[since:], timeout=5, what="a menu")
            out.note = f"the other person left, heard {after[0][:45]!r}, hung up"
    elif result == "timeout":
        out.timed_out, out.note = True, "heard 'nobody is free right now', hung up"
    else:
        out.problems.append("the call ended while waiting")
    caller.hang_up()
    caller.wait_until_ended(timeout=10)


def _run_caller(twin: Twin, out: Outcome, talk: float, wait_timeout: int) -> None:
    """Run one caller's script; whatever goes wrong becomes part of its outcome."""
    try:
        _play(twin, out, talk, wait_timeout)
    except Exception as exc:  # noqa: BLE001 - reported with the caller's outcome
        out.problems.append(f"demo step failed: {exc}")
    if out.sid:
        out.problems += [f"error {e.code}: {e.message}" for e in twin.caller(out.sid).errors]


def _report(outcomes: list[Outcome], twin: Twin) -> int:
    """Print one line per caller and the summary; return the number of errors."""
    by_sid = {o.sid: o for o in outcomes if o.sid}
    for o in outcomes:
        partner = by_sid.get(o.partner_sid or "")
        what = "timed out" if o.timed_out else "not paired"
        if partner:
            what = f"paired with caller {partner.index} ({mask(partner.number)})"
        waited = "" if o.waited is None else f", waited {o.waited:.1f} s"
        click.echo(
            f"  caller {o.index}  {mask(o.number):<16} arrived at {o.arrived:4.1f} s: "
            f"{what}{waited}; {o.note or '-'}"
        )
        for problem in o.problems:
            click.echo(f"      ! {problem}")
    stray = [e for e in twin.errors if e.call_sid not in by_sid]
    for error in stray:
        click.echo(f"  twin error {error.code}: {error.message} ({error.url})")
    errors = sum(len(o.problems) for o in outcomes) + len(stray)
    paired = [o for o in outcomes if o.partner_sid]
    rooms = len({o.room for o in paired})
    longest = max((o.waited for o in outcomes if o.waited is not None), default=0.0)
    click.echo(
        f"{len(outcomes)} callers: {len(paired)} paired in {rooms} "
        f"room{'' if rooms == 1 else 's'}, {sum(o.timed_out for o in outcomes)} timed "
        f"out, {errors} errors, longest wait {longest:.1f} s"
    )
    return errors


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@click.command("demo")
@click.option("--callers", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--wait-timeout", default=4, show_default=True, type=click.IntRange(1, 60))
@click.option("--talk-seconds", default=3.0, show_default=True, type=float)
@with_appcontext
def demo_command(callers: int, wait_timeout: int, talk_seconds: float):
    """Start the line and the twin, dial simulated callers, report what happened to each."""
    line = DemoLine(current_app.config, wait_timeout)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    errors = 0
    try:
        click.echo("starting the line (web, worker) and the twin ...")
        twin = line.start()
        click.echo(f"dialling {callers} callers (wait timeout {wait_timeout} s) ...")
        outcomes = [Outcome(i + 1, n) for i, n in enumerate(_numbers(callers))]
        threads, began = [], time.monotonic()
        for out in outcomes:
            if threads:
                time.sleep(random.uniform(0.5, 1.0))
            out.arrived = time.monotonic() - began
            args = (twin, out, talk_seconds, wait_timeout)
            threads.append(threading.Thread(target=_run_caller, args=args, daemon=True))
            threads[-1].start()
        for thread in threads:
            thread.join()
        twin.wait_idle(5)
        errors = _report(outcomes, twin)
    except KeyboardInterrupt:
        click.echo("interrupted; stopping the line", err=True)
        errors = -1
    finally:
        line.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if errors:
        click.echo(f"logs kept in {line.logs}", err=True)
        raise SystemExit(130 if errors < 0 else 1)
    shutil.rmtree(line.logs, ignore_errors=True)
