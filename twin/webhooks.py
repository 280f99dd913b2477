"""Signed HTTP requests from the twin to the app, and an ordered callback dispatcher."""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.request_validator import RequestValidator
from urllib3.exceptions import NewConnectionError

from .overrides import ANSWERS, Failure, InvalidOverride, Overrides, split


@dataclass
class WebhookRecord:
    """One request the twin made to the app (one attempt of it), for tests to inspect."""

    url: str
    method: str
    params: dict[str, str]
    kind: str
    status: int = 0
    body: str = ""
    content_type: str = ""
    error: str | None = None
    attempt: int = 1  # 2 and up: a retry the URL's connection overrides asked for
    failure: Failure | None = None
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


class WebhookClient:
    """Makes signed requests the way Twilio does and logs each one.

    Each webhook goes out once, and again only as its URL's connection overrides say:
    by default one retry when the connection fails. Knobs, for what the docs leave open:
    `retry_answers` (retry a 4xx/5xx answer when `rp` names it; off: never), `sign_fragment`
    (sign the URL with its fragment, as configured; off: as requested), `drop` (kinds of
    webhook lost on the way) and `lag` (seconds to hold a kind back).
    """

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.log: list[WebhookRecord] = []
        self.dropped: list[WebhookRecord] = []
        self._log_lock = threading.Lock()
        # Seconds to hold back requests of a kind, e.g. {"conference-status": 1.0}: Twilio
        # sends its callbacks independently, so one kind may arrive well after another.
        self.lag: dict[str, float] = {}
        # Kinds of webhook lost on the way, e.g. {"conference-status"}: never sent at all.
        self.drop: set[str] = set()
        self.retry_answers = False
        self.sign_fragment = True

    def request(self, url: str, method: str, params: dict[str, str], kind: str) -> WebhookRecord:
        """Send params to url (form body for POST, query string for GET), signed; retry as
        the URL's connection overrides allow. Returns the last attempt."""
        method = (method or "POST").upper()
        if self.lag.get(kind):
            time.sleep(self.lag[kind])
        record = WebhookRecord(url=url, method=method, params=dict(params), kind=kind)
        try:
            target, overrides = split(url)
        except InvalidOverride as exc:
            record.error = f"{exc.code}: invalid connection override {exc}"
            return self._logged(record, self.dropped)
        if kind in self.drop:
            record.error = "dropped on the way"
            return self._logged(record, self.dropped)
        deadline = time.monotonic() + overrides.total_ms / 1000
        for attempt in range(1, overrides.retries + 2):
            record = WebhookRecord(
                url=url, method=method, params=dict(params), kind=kind, attempt=attempt
            )
            self._send(record, target, overrides, deadline)
            self._logged(record, self.log)
            if not self._retried(record, overrides) or time.monotonic() >= deadline:
                break
        return record

    def _send(self, record: WebhookRecord, target: str, overrides: Overrides, deadline: float):
        signed = record.url if self.sign_fragment else target
        # one connection per request: idle keep-alive sockets would pin app server threads
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
            "Connection": "close",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        left = max(0.001, deadline - time.monotonic())
        timeout = (min(overrides.connect_ms / 1000, left), min(overrides.read_ms / 1000, left))
        try:
            if record.method == "GET":
                query = _with_query(signed, record.params)
                headers["X-Twilio-Signature"] = self.validator.compute_signature(query, {})
                resp = requests.get(
                    _with_query(target, record.params), headers=headers, timeout=timeout
                )
            else:
                headers["X-Twilio-Signature"] = self.validator.compute_signature(
                    signed, record.params
                )
                resp = requests.post(target, data=record.params, headers=headers, timeout=timeout)
            record.status = resp.status_code
            record.body = resp.text
            record.content_type = resp.headers.get("Content-Type", "")
        except requests.RequestException as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            record.failure = _failure_of(exc)
        else:
            if record.status >= 500:
                record.failure = Failure.SERVER
            elif record.status >= 400:
                record.failure = Failure.CLIENT

    def _retried(self, record: WebhookRecord, overrides: Overrides) -> bool:
        failure = record.failure
        if failure is None or (failure in ANSWERS and not self.retry_answers):
            return False
        return overrides.retries_on(failure)

    def _logged(self, record: WebhookRecord, into: list[WebhookRecord]) -> WebhookRecord:
        with self._log_lock:
            into.append(record)
        return record

    def snapshot(self) -> list[WebhookRecord]:
        """A copy of the log so far."""
        with self._log_lock:
            return list(self.log)


def _failure_of(exc: requests.RequestException) -> Failure:
    """`ct` when no connection was made; `rt` when one was and no answer came."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure.CONNECT
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):  # refused, unreachable
            return Failure.CONNECT
    return Failure.READ


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query and extra else (parts.query or extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class Dispatcher:
    """Runs callbacks on a few worker threads; jobs with the same key run in order."""

    def __init__(self, workers: int = 4) -> None:
        self._queues = [queue.Queue() for _ in range(workers)]
        self._threads: list[threading.Thread] = []
        self._pending = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        """Start the worker threads."""
        for index, q in enumerate(self._queues):
            thread = threading.Thread(
                target=self._run, args=(q,), daemon=True, name=f"twin-callbacks-{index}"
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, key: str, job: Callable[[], object]) -> None:
        """Queue job; jobs sharing a key keep their order."""
        with self._idle:
            self._pending += 1
        self._put(key, job)

    def submit_after(self, delay: float, key: str, job: Callable[[], object]) -> None:
        """Queue job `delay` seconds from now; it counts as pending (wait_idle) meanwhile."""
        with self._idle:
            self._pending += 1
        timer = threading.Timer(delay, self._put, (key, job))
        timer.daemon = True
        timer.start()

    def _put(self, key: str, job: Callable[[], object]) -> None:
        self._queues[zlib.crc32(key.encode()) % len(self._queues)].put(job)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued job has run; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self) -> None:
        """Stop the workers after the jobs already queued."""
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _run(self, q: queue.Queue) -> None:
        while True:
            job = q.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # noqa: BLE001 - a broken callback must not kill the worker
                import traceback

                traceback.print_exc()
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
