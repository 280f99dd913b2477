"""The privacy scan run after every end-to-end flow: no raw phone number anywhere the line
keeps anything — its database, every Redis key and value of its namespace, RQ's records of
its jobs (arguments, results, tracebacks) and the logs of its processes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import phonenumbers
import redis
from rq.job import Job, NoSuchJobError

from app.settings import queue_names
from tests.support import dump_database, dump_keys


def number_forms(number: str) -> set[str]:
    """The digit runs that would give a number away: E.164 without '+', and national."""
    digits = number.lstrip("+")
    forms = {digits}
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return forms
    forms.add(str(parsed.national_number))
    return {form for form in forms if len(form) >= 7}


def _namespace(app) -> str:
    """The Redis keys and values under the app's prefix and of its RQ queue."""
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    patterns = (app.config["REDIS_KEY_PREFIX"] + "*", f"rq:*{app.config['RQ_QUEUE']}*")
    return "\n".join(dump_keys(conn, pattern) for pattern in patterns)


def _jobs(app) -> str:
    """RQ's records of the app's jobs, decoded: arguments, meta, results and tracebacks."""
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    lines = []
    for key in conn.scan_iter("rq:job:*"):
        name = key.decode().removeprefix("rq:job:")
        if ":" in name:  # a job's results stream, read through its job
            continue
        try:
            job = Job.fetch(name, connection=conn)
        except (NoSuchJobError, ValueError):
            continue
        if job.origin not in queue_names(app.config["RQ_QUEUE"]):
            continue
        results = [(r.return_value, r.exc_string) for r in job.results()]
        lines.append(repr((job.func_name, job.args, job.kwargs, job.meta, results)))
    return "\n".join(lines)


def stores(app, logs: Mapping[str, str] = {}) -> dict[str, str]:
    """Everything the line keeps, by where it is kept, as text to search."""
    return {"database": dump_database(app), "redis": _namespace(app), "jobs": _jobs(app), **logs}


def leaks(kept: Mapping[str, str], numbers: Iterable[str]) -> list[str]:
    """Where a form of one of these numbers appears, as 'where: digits'; [] when nowhere."""
    found = []
    for number in numbers:
        for form in number_forms(number):
            found += [f"{where}: {form}" for where, text in kept.items() if form in text]
    return found
