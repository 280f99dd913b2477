"""`python -m twin` as its own process, driven through the control API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import free_port
from tests.twin.conftest import ACCOUNT_SID, AUTH_TOKEN, twiml
from twin.remote import RemoteTwin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def twin_process(fake_app):
    """A twin process whose number points at fake_app."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin",
            "--port",
            str(port),
            "--account-sid",
            ACCOUNT_SID,
            "--auth-token",
            AUTH_TOKEN,
            "--voice-url",
            fake_app.url("/voice"),
            "--status-callback",
            fake_app.url("/status"),
            "--sms-url",
            fake_app.url("/sms"),
            "--time-scale",
            "0.02",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(base + "/_twin/conferences", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the twin process did not start")
            time.sleep(0.05)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_remote_caller_through_the_control_api(twin_process, fake_app):
    fake_app.on(
        "/voice",
        twiml('<Gather numDigits="1" action="/pick" timeout="100"><Say>Press 1.</Say></Gather>'),
    )
    fake_app.on("/pick", lambda form: twiml(f"<Say>Picked {form['Digits']}.</Say>"))
    fake_app.on("/sms", twiml("<Message>Noted.</Message>"))
    remote = RemoteTwin(twin_process)
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
