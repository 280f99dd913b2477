"""The developer commands: `mindfuse demo` runs the whole line, `mindfuse call` dials it."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from app import create_app
from tests.support import changes, clean, stored_state
from twin.__main__ import CONTROL_TOKEN_FILE
from twin.cli import call_command, demo_command
from twin.launcher import free_port, start_twin, stop
from twin.serve_cli import line_args


def _cli() -> FlaskGroup:
    """The `mindfuse` group with both commands, whether or not the entry points are installed."""
    group = FlaskGroup(create_app=create_app, load_dotenv=False)
    group.add_command(call_command)
    group.add_command(demo_command)
    return group


TOKEN = secrets.token_urlsafe(16)


@pytest.fixture
def twin_process(live_server, tmp_path):
    """`python -m twin` on a free port, pointed at the live line."""
    port = free_port()
    args = line_args(live_server.app.config)
    process = start_twin(port, args, token=TOKEN, log=tmp_path / "twin.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture
def kept_token():
    """The token file `mindfuse twin` keeps under the line's instance/, for this test."""
    path = Path(create_app({"TESTING": True}).instance_path) / CONTROL_TOKEN_FILE
    before = path.read_text() if path.exists() else None  # a `make run` of the developer's
    path.write_text(TOKEN)
    yield
    if before is None:
        path.unlink()
    else:
        path.write_text(before)


def test_demo_pairs_two_callers_and_times_out_the_third(test_environment):
    line = create_app({"TESTING": True})  # the line the demo is started from: its data
    clean(line)
    before = stored_state(line)
    result = CliRunner().invoke(_cli(), ["demo", "--callers", "3", "--wait-timeout", "2"])
    assert result.exit_code == 0, result.output
    # The demo ran on a database and a Redis namespace of its own: nothing of the line's
    # changed, no call in its call log or charts, no key left behind.
    assert changes(before, stored_state(line)) == []
    summary = result.output.strip().splitlines()[-1]
    assert re.match(r"3 callers: 2 paired in 1 room, 1 timed out, 0 errors, longest wait", summary)
    lines = [line for line in result.output.splitlines() if line.startswith("  caller ")]
    assert len(lines) == 3
    assert "paired with caller 2" in lines[0] and "paired with caller 1" in lines[1]
    assert "timed out" in lines[2] and "nobody is free" in lines[2]
    waited = float(re.search(r"waited (\d+\.\d) s", lines[2]).group(1))
    # RQ keeps scheduled times in whole seconds, so the worker may act up to 1 s early.
    assert waited >= 1.0
    assert "+1555" not in result.output and "+44770" not in result.output  # masked only


def test_call_hears_the_greeting_and_the_fusing_hour(twin_process):
    started = time.monotonic()
    result = CliRunner().invoke(
        _cli(),
        ["call", "--twin", twin_process, "--token", TOKEN, "--keys", "2", "--seconds", "3"],
        input="",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "line: Welcome to Mindfuse" in out
    assert "you: press 2" in out
    assert "the Fusing Hour connects many callers" in out
    assert out.index("Welcome to Mindfuse") < out.index("you: press 2") < out.index("connects")
    assert "call ended: completed" in out
    assert time.monotonic() - started < 10


def test_call_finds_the_token_the_twin_keeps_under_instance(twin_process, kept_token):
    result = CliRunner().invoke(_cli(), ["call", "--twin", twin_process, "--seconds", "1"])
    assert result.exit_code == 0, result.output
    assert "line: Welcome to Mindfuse" in result.output


def test_call_with_a_wrong_token_says_how_to_get_the_right_one(twin_process):
    args = ["call", "--twin", twin_process, "--token", "wrong", "--seconds", "1"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 1
    assert "refused the call (401)" in result.output and "--token" in result.output


def test_call_without_a_twin_fails_clearly(test_environment):
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(_cli(), ["call", "--twin", nowhere, "--seconds", "1"])
    assert result.exit_code == 1
    assert f"no twin control API at {nowhere}" in result.output
