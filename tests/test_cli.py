"""The `mindfuse` CLI, the worker class and the scheduler's recurring jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rq.job import Job, JobStatus
from sqlalchemy import delete

from app import jobs
from app.db import db
from app.fusing.models import FusingRule
from app.infra import redis
from workers.scheduler import register_all

BIN = Path(sys.executable).parent


def test_urls_prints_the_webhooks_to_configure(runner):
    result = runner.invoke(args=["urls"])
    assert result.exit_code == 0
    assert "http://line.test/twilio/voice\n" in result.output
    assert "http://line.test/twilio/voice/status" in result.output
    assert "http://line.test/twilio/sms" in result.output


def test_mindfuse_script_is_the_flask_cli():
    result = subprocess.run(
        [str(BIN / "mindfuse"), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("db", "urls", "scheduler", "redis-url", "routes"):
        assert command in result.stdout


def test_burst_worker_runs_jobs_in_the_app_context(app):
    with app.app_context():
        job = jobs.RECONCILE_WAITING.enqueue()
        url, queue = app.config["REDIS_URL"], app.config["RQ_QUEUE"]
        subprocess.run(
            [
                str(BIN / "rq"),
                "worker",
                "--burst",
                "--worker-class",
                "workers.worker.AppWorker",
                "--url",
                url,
                queue,
            ],
            env=os.environ.copy(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        done = Job.fetch(job.id, connection=redis.connection())
        assert done.get_status() == JobStatus.FINISHED
        assert done.return_value() == {"restored": 0, "expired": 0, "dropped": 0, "lost_offers": 0}


def test_scheduler_registers_the_reconciliation_job(app):
    class Recorder:
        def __init__(self):
            self.registered = []

        def register(self, func, queue_name, **options):
            self.registered.append((func.__module__ + "." + func.__name__, queue_name, options))

    recorder = Recorder()
    with app.app_context():
        register_all(recorder)
    urgent = app.config["RQ_QUEUE"]
    assert ("workers.waiting.reconcile_waiting", urgent) in [r[:2] for r in recorder.registered]
    assert all(r[2]["interval"] > 0 for r in recorder.registered)


def test_fusing_schedule_can_be_shown_and_changed(runner, app):
    with app.app_context():  # a fresh install: no rule yet, the defaults apply
        db.session.execute(delete(FusingRule))
        db.session.commit()
    result = runner.invoke(args=["fusing", "show"])
    assert result.exit_code == 0, result.output
    assert "Every Sunday at 10:00 Europe/Berlin, 60 min, rounds of 12 min" in result.output
    assert "Central European Time" in result.output
    changed = runner.invoke(
        args=["fusing", "set", "--weekday", "friday", "--time", "19:30", "--zone", "Asia/Tokyo"]
    )
    assert changed.exit_code == 0, changed.output
    assert runner.invoke(args=["fusing", "add-date", "2030-01-02", "18:00"]).exit_code == 0
    assert runner.invoke(args=["fusing", "cancel-date", "2030-01-04"]).exit_code == 0
    shown = runner.invoke(args=["fusing", "show"]).output
    assert "Every Friday at 19:30 Asia/Tokyo" in shown
    assert "extra: 2030-01-02 18:00" in shown and "cancelled: 2030-01-04" in shown
    refused = runner.invoke(args=["fusing", "set", "--zone", "Mars/Olympus"])
    assert (
        refused.exit_code != 0 and "Every Friday" in runner.invoke(args=["fusing", "show"]).output
    )


def test_the_schedule_is_cached_until_it_changes(app):
    from app.fusing import sessions  # noqa: PLC0415

    with app.app_context():
        sessions.schedule()  # the first read also saves the default rule: a change
        first = sessions.schedule()
        assert sessions.schedule() is first  # no queries while nothing changed
        rule = sessions.rule_row()
        rule.weekday = 2
        db.session.commit()  # any commit touching the schedule moves its version
        assert sessions.schedule()[0].weekday == 2


def test_every_mindfuse_command_reads_dotenv_in_the_directory_it_runs_in(tmp_path):
    (tmp_path / ".env").write_text("PUBLIC_BASE_URL=https://tunnel.example.org\n")
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    done = subprocess.run(
        [str(BIN / "mindfuse"), "urls"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Voice URL (POST):            https://tunnel.example.org/twilio/voice\n" in done.stdout
    assert "https://tunnel.example.org/twilio/voice/status#" in done.stdout
    assert "https://tunnel.example.org/twilio/sms\n" in done.stdout


def _burst_worker_output(app, level: str) -> str:
    """Run one job with a burst worker at this LOG_LEVEL; return what the worker printed."""
    with app.app_context():
        job = jobs.RECONCILE_WAITING.enqueue()
        url, queue = app.config["REDIS_URL"], app.config["RQ_QUEUE"]
    done = subprocess.run(
        [str(BIN / "rq"), "worker", "--burst", "--worker-class", "workers.worker.AppWorker"]
        + ["--url", url, queue],
        env={**os.environ, "LOG_LEVEL": level},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    with app.app_context():
        assert Job.fetch(job.id, connection=redis.connection()).get_status() == JobStatus.FINISHED
    return done.stdout + done.stderr


def test_the_worker_is_quiet_about_each_job_unless_log_level_is_debug(app):
    assert "reconcile_waiting" not in _burst_worker_output(app, "INFO")
    assert "reconcile_waiting" in _burst_worker_output(app, "DEBUG")


def test_the_readmes_table_of_commands_is_the_clis_own_help():
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "scripts/cli_reference.py")]
        + ["--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
