"""Two RQ queues: the jobs a caller on the line waits on run before the bulk queued earlier."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rq.job import Job, JobStatus

from app import jobs
from app.infra import redis
from app.settings import queue_names
from twin import launcher

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def test_an_urgent_job_runs_before_the_bulk_jobs_queued_ahead_of_it(app):
    with app.app_context():
        # A herd's after-call work is queued first; then a caller's wait times out.
        bulk = [jobs.AFTER_CALL.enqueue(900_000 + n) for n in range(6)]
        urgent = [
            jobs.EXPIRE_WAIT.enqueue(900_000, "gone"),
            jobs.RESCUE_PARTNER.enqueue(900_000, "r"),
        ]
        url = app.config["REDIS_URL"]
        names = queue_names(app.config["RQ_QUEUE"])
    command = [str(BIN / "rq"), "worker", "--burst", "--worker-class", launcher.WORKER_CLASS]
    command += ["--url", url, *names]
    subprocess.run(command, env=os.environ.copy(), check=True, capture_output=True, timeout=60)
    with app.app_context():
        conn = redis.connection()
        ran = {job.id: Job.fetch(job.id, connection=conn) for job in bulk + urgent}
    assert {job.get_status() for job in ran.values()} == {JobStatus.FINISHED}
    last_urgent = max(ran[job.id].ended_at for job in urgent)
    first_bulk = min(ran[job.id].started_at for job in bulk)
    assert last_urgent <= first_bulk


def test_each_job_names_its_lane_and_the_two_lanes_are_two_queues(app):
    with app.app_context():
        assert jobs.EXPIRE_WAIT.queue().name == app.config["RQ_QUEUE"]
        assert jobs.AFTER_CALL.queue().name == app.config["RQ_QUEUE"] + "-bulk"
        assert [q.name for q in redis.queues()] == list(queue_names(app.config["RQ_QUEUE"]))
    for job in (jobs.ROTATE, jobs.MOVE, jobs.PLACE_CALLBACK, jobs.OFFER_LISTENER, jobs.FUSING_TICK):
        assert job.lane is jobs.URGENT
    for job in (jobs.PURGE, jobs.SEND_TEXT, jobs.SEND_BATCH, jobs.PURGE_OLD, jobs.SWEEP_PURGES):
        assert job.lane is jobs.BULK


def test_every_worker_the_line_starts_takes_the_urgent_queue_first():
    lines = (ROOT / "Procfile").read_text().splitlines()
    (worker,) = [line for line in lines if line.startswith("worker:")]
    assert worker.endswith(" ${RQ_QUEUE:-mindfuse} ${RQ_QUEUE:-mindfuse}-bulk")
    assert queue_names("mindfuse") == ("mindfuse", "mindfuse-bulk")
