"""`python -m twin` as its own process, driven through the control API."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest
import requests

from tests.twin.support import ACCOUNT_SID, AUTH_TOKEN, twiml
from twin.launcher import free_port, start_twin, stop
from twin.remote import RemoteTwin

ROOT = Path(__file__).resolve().parents[2]


TOKEN = secrets.token_urlsafe(16)


@pytest.fixture
def twin_process(fake_app, tmp_path):
    """A twin process whose number points at fake_app, keeping its token in tmp_path."""
    port = free_port()
    options = [
        "--account-sid", ACCOUNT_SID,
        "--auth-token", AUTH_TOKEN,
        "--voice-url", fake_app.url("/voice"),
        "--status-callback", fake_app.url("/status"),
        "--sms-url", fake_app.url("/sms"),
        "--time-scale", "0.02",
        "--control-token-file", str(tmp_path / "token"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = start_twin(port, options, token=TOKEN, env=env, cwd=ROOT, log=tmp_path / "twin.log")
    yield f"http://127.0.0.1:{port}"
    stop(process)


def test_remote_caller_through_the_control_api(twin_process, fake_app):
    fake_app.on(
        "/voice",
        twiml('<Gather numDigits="1" action="/pick" timeout="100"><Say>Press 1.</Say></Gather>'),
    )
    fake_app.on("/pick", lambda form: twiml(f"<Say>Picked {form['Digits']}.</Say>"))
    fake_app.on("/sms", twiml("<Message>Noted.</Message>"))
    remote = RemoteTwin(twin_process, TOKEN)
    caller = remote.dial("+15550100051")
    caller.wait_until_heard("press 1")
    caller.press("1")
    assert caller.wait_until_ended() == "completed"
    assert caller.heard == ["Press 1.", "Picked 1."]
    assert remote.send_sms("+15550100051", "hi")["replies"] == ["Noted."]
    assert remote.errors() == []
    listed = requests.get(
        f"{twin_process}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    ).json()
    assert [c["sid"] for c in listed["calls"]] == [caller.sid]


def test_the_process_keeps_its_control_token_private_while_it_runs(twin_process, tmp_path):
    kept = tmp_path / "token"
    assert kept.read_text().strip() == TOKEN
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert requests.get(f"{twin_process}/_twin/calls", timeout=5).status_code == 401


def test_the_rest_pace_options_reach_the_process_and_its_counts_the_control_api(tmp_path):
    port = free_port()
    options = ["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]
    options += ["--rest-latency-ms", "50", "--rest-429-rate", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWIN_REST_CONCURRENCY": "7"}
    process = start_twin(port, options, token=TOKEN, env=env, cwd=ROOT, log=tmp_path / "twin.log")
    try:
        remote = RemoteTwin(f"http://127.0.0.1:{port}", TOKEN)
        listed = requests.get(
            f"http://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
            auth=(ACCOUNT_SID, AUTH_TOKEN),
            timeout=5,
        )
        assert listed.status_code == 429 and listed.json()["code"] == 20429
        assert "Retry-After" not in listed.headers  # Twilio documents none
        pace = remote.pace()
        assert (pace["latency_ms"], pace["rate_429"], pace["concurrency"]) == (50, 1, 7)
        assert pace["max_in_flight"] == pace["refused"] == 1 and pace["in_flight"] == 0
        assert remote.reset_pace()["refused"] == 0
    finally:
        stop(process)
