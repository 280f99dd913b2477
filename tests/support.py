"""Shared test helpers: the suite's constants, signing, call forms, TwiML parsing, polling,
dumps for privacy checks, Stripe's object shapes, and the line served for real (LiveServer,
Line)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from app import create_app
from app.callbacks.models import CallbackRequest
from app.db import db, utcnow
from app.fusing import sessions
from app.infra import redis as line_redis
from app.line.models import Call, CallState
from app.listeners import offers, roster
from app.listeners.models import ListenerOffer
from app.settings import queue_names
from twin import Twin, launcher
from twin.models import Call as TwinCall
from twin.models import Message as TwinMessage

RUN = secrets.token_hex(4)
PUBLIC = "http://line.test"
AUTH_TOKEN = "test-auth-token-" + RUN
LINE = "+15550100000"


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    return RequestValidator(token).compute_signature(url, params)


def call_form(from_number: str = "+15550100001", sid: str | None = None, **extra) -> dict:
    """The form Twilio posts for an incoming call."""
    form = {
        "CallSid": sid or "CA" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": from_number,
        "To": LINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def twiml(response) -> ET.Element:
    """Parse a TwiML response, checking it is a valid document."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def spoken(root: ET.Element) -> str:
    """All the text a caller hears from a TwiML document."""
    return " ".join(node.text or "" for node in root.iter("Say"))


class Twilio:
    """Posts signed webhooks to the app the way Twilio does."""

    def __init__(self, client):
        self.client = client

    def post(self, path: str, data: dict, signature: str | None = None):
        header = signature if signature is not None else sign(PUBLIC + path, data)
        return self.client.post(path, data=data, headers={"X-Twilio-Signature": header})


def together(count: int, action, within=contextlib.nullcontext) -> None:
    """Run `action` in `count` threads released at the same moment (each already inside
    `within()`, an app context say), and wait for them all."""
    start = threading.Barrier(count)

    def released() -> None:
        with within():
            start.wait()
            action()

    threads = [threading.Thread(target=released) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def blocking_pids(connection, pid: int) -> list[int]:
    """The PostgreSQL backends whose locks the backend `pid` waits for (none: it does not wait)."""
    return connection.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": pid})


def interleave(app, holder, waiter) -> list[BaseException]:
    """Two transactions interleaved on PostgreSQL's row locks, each on a thread of its own in
    an app context: `holder(held)` runs until it calls `held()` (holding the rows it took so
    far), then `waiter()` until its backend waits for a lock, then the holder goes on. Returns
    what either raised (a deadlock: PostgreSQL aborts one of the two)."""
    errors: list[BaseException] = []
    pid: list[int] = []
    holding, go_on = threading.Event(), threading.Event()

    def held() -> None:
        holding.set()
        go_on.wait(15)

    def run(work) -> None:
        with app.app_context():
            try:
                work()
            except Exception as error:  # noqa: BLE001 - reported to the test
                errors.append(error)

    def wait() -> None:
        pid.append(db.session.scalar(text("SELECT pg_backend_pid()")))  # the waiter's backend
        waiter()

    with app.app_context():
        monitor_engine = create_engine(db.engine.url, poolclass=NullPool)
    first = threading.Thread(target=run, args=(lambda: holder(held),))
    first.start()
    try:
        assert holding.wait(10), errors
        second = threading.Thread(target=run, args=(wait,))
        second.start()
        with monitor_engine.connect() as monitor:
            eventually(lambda: pid and blocking_pids(monitor, pid[0]))
        go_on.set()
        second.join(15)
    finally:
        go_on.set()
        first.join(15)
        monitor_engine.dispose()
    return errors


def eventually(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy; return that, or fail at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate.__name__}")
        time.sleep(interval)


# Stripe's example objects at its current API version (stripe/openapi fixtures3.json, MIT);
# the stand-in carries a copy of the ones it serves (twin/payments/shapes.json).
STRIPE_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "stripe-oai" / "fixtures3.json"
FREE_FORM = {"metadata", "previous_attributes"}  # keys chosen by the sender, not by Stripe


def shape_differences(obj, example, path: str = "") -> list[str]:
    """Where `obj` is not shaped like Stripe's `example`: keys missing or extra at any depth
    (compared wherever both hold an object), and values of another JSON type."""
    if obj is None or example is None:
        return []
    if isinstance(example, dict):
        if not isinstance(obj, dict):
            return [f"{path or '.'}: an object in Stripe's example, here {type(obj).__name__}"]
        if path.rsplit(".", 1)[-1] in FREE_FORM:
            return []
        found = [f"{path}.{k}: missing" for k in sorted(example.keys() - obj.keys())]
        found += [f"{path}.{k}: not in Stripe's example" for k in sorted(obj.keys() - example)]
        for key in sorted(obj.keys() & example.keys()):
            found += shape_differences(obj[key], example[key], f"{path}.{key}")
        return found
    if isinstance(example, list):
        if not isinstance(obj, list):
            return [f"{path}: a list in Stripe's example, here {type(obj).__name__}"]
        if not example:
            return []
        return [d for item in obj for d in shape_differences(item, example[0], f"{path}[]")]
    number = (int, float)
    same = isinstance(obj, number) if isinstance(example, number) else type(obj) is type(example)
    if isinstance(example, bool) or isinstance(obj, bool):
        same = type(obj) is type(example)
    return [] if same else [f"{path}: {type(obj).__name__}, {type(example).__name__} in Stripe's"]


@contextlib.contextmanager
def tuned(twin: Twin, **values):
    """Turn the twin's knobs for a block (fields of `twin.knobs`, or `play_seconds` and
    `say_seconds`), then set them back: the e2e twin is shared by a whole test module."""
    targets = {name: twin.knobs if hasattr(twin.knobs, name) else twin for name in values}
    for name, target in targets.items():
        if not hasattr(target, name):
            raise AttributeError(f"the twin has no knob {name!r}")
    saved = {name: getattr(target, name) for name, target in targets.items()}
    for name, value in values.items():
        setattr(targets[name], name, value)
    try:
        yield twin
    finally:
        for name, value in saved.items():
            setattr(targets[name], name, value)


def dump_keys(conn: redis.Redis, pattern: str | None = None) -> str:
    """Every key matching `pattern` (all of them by default) and its value, as text to search."""
    readers = {
        "string": conn.get,
        "hash": conn.hgetall,
        "zset": lambda k: conn.zrange(k, 0, -1),
        "set": conn.smembers,
        "list": lambda k: conn.lrange(k, 0, -1),
        "stream": conn.xrange,
    }
    kinds = ((k, conn.type(k).decode()) for k in conn.scan_iter(pattern))
    # A key may expire between the scan and its reading (type "none"): it holds nothing then.
    return "\n".join(f"{k!r} {readers[kind](k)!r}" for k, kind in kinds if kind in readers)


def dump_redis(url: str) -> str:
    """Every key and value in the suite's Redis db index, as text to search."""
    return dump_keys(redis.Redis.from_url(url))


def twin_call(twin: Twin, number: str, status: str = "completed") -> str:
    """A call the twin keeps as Twilio would, one that already happened (ended just now,
    unless `status` is a live one); returns its sid."""
    call = TwinCall(twin.account_sid, number, twin.phone_number, status=status)
    if call.ended:
        call.ended_mono = time.monotonic()
    with twin.cond:
        twin.calls[call.sid] = call
    return call.sid


def twin_text(twin: Twin, to: str, status: str = "delivered") -> str:
    """A text from the line's number the twin keeps, in `status` since just now: its sid."""
    message = TwinMessage(twin.account_sid, twin.phone_number, to, "A reminder.")
    message.set_status(status)
    message.date_sent = message.date_updated
    with twin.cond:
        twin.sms.messages[message.sid] = message
    return message.sid


def dump_database(app) -> str:
    """Every row of every table, as text to search."""
    with app.app_context():
        return "\n".join(
            " ".join(str(value) for value in row)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table))
        )


def forget_redis(app) -> None:
    """Empty the suite's Redis namespace (its keys and its job queue's), as a restarted Redis
    would be for this run: never the whole db, which another run may share."""
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    for name in conn.scan_iter(app.config["REDIS_KEY_PREFIX"] + "*"):
        conn.delete(name)
    for name in conn.scan_iter(f"rq:*{app.config['RQ_QUEUE']}*"):
        conn.delete(name)


def clean(app) -> None:
    """Empty every table and the suite's Redis namespace; the Fusing Hour three days away."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        forget_redis(app)
        # The caches' versions went with Redis and start again from 1: a process cache kept
        # from before could match a new version by number and be taken for current.
        for name in [k for k in app.extensions if k.startswith("mindfuse.cache.")]:
            del app.extensions[name]
        app.extensions.pop(sessions.QUIET, None)
        # The default Fusing Hour (Sundays 10:00 Berlin) would send every call of a test run
        # then to its lobby: tests start with the weekly rule three days away from today.
        sessions.change_rule(weekday=(utcnow().weekday() + 3) % 7)


class LiveServer:
    """The app served over real HTTP on loopback, in a background thread."""

    def __init__(self, overrides: dict | None = None):
        self._app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = create_app({"TESTING": True, "PUBLIC_BASE_URL": self.url, **(overrides or {})})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def __enter__(self):
        clean(self.app)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        clean(self.app)
        with self.app.app_context():
            db.engine.dispose()


WAIT_TIMEOUT = 2
TIME_SCALE = 0.05  # Gather timeouts and pauses run 20 times faster than real time
# The twin refuses to delete a record for a simulated minute after it ends (3 s at TIME_SCALE),
# as Twilio does: the line first asks after 5 s (100 simulated seconds).
PURGE_DELAY = 5


class _Kept(logging.Handler):
    """Keeps every record's message and traceback, as written (redacted, if it works)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.exc_text or ''}")


class Line:
    """The running line, as the tests see it."""

    def __init__(self, server: LiveServer, twin: Twin, environment: dict, worker_log: Path):
        self.server, self.twin, self.app = server, twin, server.app
        self.environment, self.worker_log = environment, worker_log
        self.web_log = _Kept()  # what this process logs: the web app (and the twin)
        logging.getLogger().addHandler(self.web_log)
        self.worker = launcher.start_worker(environment, worker_log)
        self.scheduler: subprocess.Popen | None = None
        self.scheduler_log = worker_log.with_name("scheduler.log")

    def numbers(self) -> set[str]:
        """Every caller's and texter's number the twin has seen (the line's own left out)."""
        found = {caller.number for caller in list(self.twin.callers.values())}
        for message in list(self.twin.sms.messages.values()):
            found |= {message.from_, message.to}
        return {n for n in found if n and n.startswith("+")} - {self.twin.phone_number}

    def logs(self) -> dict[str, str]:
        """The logs of the line's processes, by process."""
        found = {"web log": "\n".join(self.web_log.lines)}
        for name, path in (("worker log", self.worker_log), ("scheduler log", self.scheduler_log)):
            found[name] = path.read_text(errors="replace") if path.exists() else ""
        return found

    def dial(self, number: str):
        """A simulated caller dialling the line."""
        return self.twin.dial(number)

    def kill_worker(self, *, with_job: bool = False) -> None:
        """SIGKILL the worker, as a crash would, wherever it is in its work.

        `with_job`: the work horse running its job dies too (as when the machine goes), which
        killing the worker's process group does not reach.
        """
        if with_job:
            pid = self.worker.pid
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(child), signal.SIGKILL)
        launcher.kill_group(self.worker)

    def start_worker(self) -> None:
        """Start a fresh worker (after a crash); it logs to the same file."""
        self.worker = launcher.start_worker(self.environment, self.worker_log)

    def start_scheduler(self) -> None:
        """Start `mindfuse scheduler`: every recurring job is queued at once, then on its
        interval. Its log is read by logs() from then on."""
        self.scheduler = launcher.start_scheduler(self.environment, self.scheduler_log)

    def stop_scheduler(self) -> None:
        """Stop the scheduler, if it runs."""
        if self.scheduler is not None:
            launcher.stop(self.scheduler)
            self.scheduler = None

    def stop(self) -> None:
        """Stop the worker gracefully, then make sure nothing it forked is left."""
        logging.getLogger().removeHandler(self.web_log)
        self.stop_scheduler()
        if launcher.stop(self.worker):  # killed by then; the log says what it was doing
            tail = self.worker_log.read_text(errors="replace")[-3000:]
            message = f"the RQ worker did not stop within 10 s; its log ends:\n{tail}"
            warnings.warn(message, stacklevel=2)


def drain(line: Line, timeout: float = 15.0) -> None:
    """Let the worker finish the jobs this test left it before the next test empties the tables.

    SQLite hands out the ids of deleted rows again, so a job running late (a rescue after a
    hang-up, a purge) would otherwise act on the next test's call or text of the same id.
    """
    connection = redis.Redis.from_url(line.app.config["REDIS_URL"])
    queues = [Queue(n, connection=connection) for n in queue_names(line.app.config["RQ_QUEUE"])]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [w for w in Worker.all(connection=connection) if w.pid == line.worker.pid]
        busy = any(w.get_state() == "busy" for w in workers)
        if not busy and (not any(queue.count for queue in queues) or not workers):
            return
        time.sleep(0.05)


def stored_state(app) -> tuple[dict[str, int], dict[bytes, bool]]:
    """Row counts per table, and the app's Redis keys (its namespace and its RQ queue's),
    each with whether it expires on its own."""
    with app.app_context():
        rows = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    names = set(conn.scan_iter(app.config["REDIS_KEY_PREFIX"] + "*"))
    names |= set(conn.scan_iter(f"rq:*{app.config['RQ_QUEUE']}*"))
    # A worker of an earlier test leaves its scheduler lock to expire on its own.
    names = {name for name in names if not name.startswith(b"rq:scheduler-lock:")}
    return rows, {name: conn.ttl(name) > 0 for name in names}


def changes(before, after) -> list[str]:
    """What differs between two stored states; a key that expired on its own is no change."""
    (rows, keys), (rows_after, keys_after) = before, after
    found = [
        f"{t}: {rows[t]} -> {rows_after.get(t)} rows" for t in rows if rows[t] != rows_after.get(t)
    ]
    found += [f"new key {name!r}" for name in keys_after.keys() - keys.keys()]
    found += [f"key {name!r} gone" for name in keys.keys() - keys_after.keys() if not keys[name]]
    return found


def in_a_room(line, number: str):
    """A caller who dials, presses 1 at the greeting and is in a room (waiting or paired)."""
    caller = line.dial(number)
    caller.wait_until_heard("press 1")
    caller.press("1")
    caller.wait_until_in_conference()
    return caller


def fusing_hour_soon(line, round_seconds: int, rounds: int, lead: int = 4) -> datetime:
    """A Fusing Hour (UTC) whose first round starts `lead` s from now, its rotations queued
    as the scheduler's recurring job would queue them; returns its start."""
    from workers.fusing import tick  # noqa: PLC0415 - the worker side, for e2e tests only

    start = (utcnow() + timedelta(seconds=lead)).replace(microsecond=0)
    with line.app.app_context():
        sessions.change_rule(
            weekday=start.weekday(),
            start_time=start.time(),
            timezone="UTC",
            duration_seconds=rounds * round_seconds,
            round_seconds=round_seconds,
            gap_seconds=1,
        )
        assert tick() is not None
    return start


def sleep_until(moment: datetime) -> None:
    """Let the clock reach `moment` (a Fusing Hour's round is set by the clock)."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def waiting_call(identity: str, language: str = "en"):
    """A call row waiting alone in a room of its own, added to the session (not committed)."""
    call = Call(
        sid="CA" + identity[:32].ljust(32, "0"),
        identity=identity,
        masked_number="+44 ••• •••• 00",
        state=CallState.WAITING,
        wait_token=identity[:16],
        room="room-" + identity[:10],
        language=language,
        wait_started_at=utcnow(),
    )
    db.session.add(call)
    return call


ALL_WEEK = "mon-sun 00:00-24:00"


def rung_together(numbers: tuple[str, str], identity: str):
    """Two listeners on the roster all week, both rung at once for a caller who waits (in an
    app context): their two offers, in the order they were made."""
    for number in numbers:
        roster.add("Robin", number, ["en"], "Europe/Berlin", ALL_WEEK)
    db.session.commit()
    call = waiting_call(identity)
    db.session.commit()
    offers.claim_for(call)
    first, second = db.session.scalars(select(ListenerOffer).order_by(ListenerOffer.id))
    return first, second


def queued(name: str) -> list[tuple[tuple, float]]:
    """Each queued or scheduled run of the job `name` (in an app context): its arguments, and
    seconds until it is due (0 for one queued now)."""
    found = []
    for queue in line_redis.queues():
        for job in queue.jobs:
            if job.func_name.endswith(name):
                found.append((tuple(job.args), 0.0))
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=line_redis.connection())
            if job.func_name.endswith(name):
                due = registry.get_scheduled_time(job_id).timestamp() - time.time()
                found.append((tuple(job.args), due))
    return found


def callback_requests(line) -> list[CallbackRequest]:
    """The line's call-back requests, oldest first, detached from the session."""
    with line.app.app_context():
        found = db.session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).all()
        db.session.expunge_all()
        return found


def ask_for_call_back(line, number: str) -> None:
    """Call the line, press 3 at the greeting, hear that a call-back is noted; the request
    is stored (its number encrypted), and the job the asking queued has run, once this
    returns: a caller who begins to wait next claims it on their own webhook, not in that
    job's look at whoever is waiting (which rings the requester without a word to them)."""
    caller = line.dial(number)
    caller.wait_until_heard("3 for a call back")
    caller.press("3")
    caller.wait_until_heard("we will call you back")
    assert caller.wait_until_ended() == "completed"
    eventually(lambda: (found := callback_requests(line)) and found[-1].number_encrypted)
    drain(line)
