"""Every job is declared once in app.jobs, resolves to its worker function, and is enqueued
only through its declaration, with the declared timeout, retries and TTLs."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq.job import Job as RQJob
from rq.registry import ScheduledJobRegistry
from rq.utils import import_attribute

from app import jobs
from app.infra import redis
from app.settings import queue_names
from workers.scheduler import register_all

ROOT = Path(__file__).resolve().parents[2]
DECLARED = {name: value for name, value in vars(jobs).items() if isinstance(value, jobs.Job)}
RECURRING = {name: value for name, value in vars(jobs).items() if isinstance(value, jobs.Recurring)}
# The function an enqueue call takes first, or after the time for enqueue_in / enqueue_at.
FUNC_POSITION = {"enqueue": 0, "enqueue_call": 0, "enqueue_in": 1, "enqueue_at": 1}


def _sources(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def _resolves(name: str):
    func = import_attribute(name)
    assert callable(func), name
    # The name is the function's own path, as the worker logs it, not an alias of it.
    assert f"{func.__module__}.{func.__qualname__}" == name
    assert name.startswith("workers."), "a job runs worker-side code"
    return func


@pytest.mark.parametrize("job", DECLARED.values(), ids=DECLARED.keys())
def test_every_declared_job_names_a_worker_function(job):
    _resolves(job.name)


@pytest.mark.parametrize("job", RECURRING.values(), ids=RECURRING.keys())
def test_every_recurring_job_resolves_and_is_scheduled(job):
    func = _resolves(job.name)
    inspect.signature(func).bind()  # RQ's cron calls it with no arguments
    assert job in jobs.RECURRING, "declared but never registered by the scheduler"
    assert job.interval > 0 and job.timeout > 0


def test_the_scheduler_registers_exactly_the_declared_recurring_jobs(app):
    class Recorder:
        def __init__(self):
            self.registered = []

        def register(self, func, queue_name, **options):
            self.registered.append((f"{func.__module__}.{func.__name__}", queue_name, options))

    recorder = Recorder()
    with app.app_context():
        register_all(recorder)
        assert recorder.registered == [
            (job.name, job.queue().name, {"interval": job.interval, "job_timeout": job.timeout})
            for job in jobs.RECURRING
        ]


def _string_enqueues(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        position = FUNC_POSITION.get(node.func.attr)
        if position is None:
            continue
        funcs = node.args[position : position + 1]
        funcs += [k.value for k in node.keywords if k.arg in ("f", "func")]
        if any(isinstance(f, ast.JoinedStr | ast.Constant) and not _none(f) for f in funcs):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, str)


def test_nothing_enqueues_a_job_by_a_string_outside_the_registry():
    sources = _sources("app", "workers", "bench", "twin", "tests")
    found = [hit for path in sources for hit in _string_enqueues(path)]
    assert found == []
    assert not hasattr(redis, "enqueue"), "infrastructure offers no string-taking enqueue"


def test_app_never_imports_workers():
    found = []
    for path in _sources("app"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name == "workers" or name.startswith("workers.") for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_the_web_process_loads_no_worker_code():
    script = (
        "import sys; from app import create_app; create_app(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'workers'))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _fetched(queued: RQJob) -> RQJob:
    return RQJob.fetch(queued.id, connection=redis.connection())


@pytest.mark.parametrize("job", DECLARED.values(), ids=DECLARED.keys())
def test_enqueuing_a_declaration_sets_its_timeout_retry_and_ttls(app, job):
    with app.app_context():
        queued = _fetched(job.enqueue(7))
        assert queued.id in job.queue().job_ids
    assert (queued.func_name, queued.args) == (job.name, (7,))
    assert queued.origin == queue_names(app.config["RQ_QUEUE"])[job.lane.value]
    assert queued.timeout == job.timeout
    assert queued.retries_left == len(job.backoff)
    assert queued.retry_intervals == list(job.backoff)
    assert (queued.result_ttl, queued.failure_ttl) == (job.result_ttl, job.failure_ttl)


def test_a_delayed_job_is_scheduled_under_its_id_with_its_options(app):
    with app.app_context():
        before = datetime.now(UTC)
        queued = jobs.AFTER_CALL.enqueue(7, delay=60, job_id="after-7")
        registry = ScheduledJobRegistry(queue=jobs.AFTER_CALL.queue())
        assert registry.get_job_ids() == ["after-7"] and jobs.AFTER_CALL.queue().job_ids == []
        at = registry.get_scheduled_time("after-7")
        fetched = _fetched(queued)
    # RQ keeps scheduled times in whole seconds.
    assert before + timedelta(seconds=59) <= at <= before + timedelta(seconds=61)
    assert (fetched.timeout, fetched.retry_intervals) == (30, [5, 30, 120, 600, 1800])


def test_a_job_declared_without_options_gets_the_lines_defaults(app):
    with app.app_context():
        queued = _fetched(jobs.EXPIRE_WAIT.enqueue(7, "token"))
    assert (queued.timeout, queued.retries_left, queued.retry_intervals) == (30, 3, [1, 5, 15])
    assert (queued.result_ttl, queued.failure_ttl) == (600, 7 * 24 * 3600)


def test_a_recurring_job_run_once_gets_its_timeout_and_no_retry(app):
    with app.app_context():
        queued = _fetched(jobs.RECONCILE_WAITING.enqueue())
    assert (queued.func_name, queued.timeout) == (jobs.RECONCILE_WAITING.name, 120)
    assert not queued.retries_left
