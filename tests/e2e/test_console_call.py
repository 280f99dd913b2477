"""`mindfuse call` and `mindfuse texts` against a twin process, as a newcomer uses them."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twin.launcher import free_port, start_twin, stop
from twin.remote import RemoteTwin
from twin.serve_cli import line_args

BIN = Path(sys.executable).parent
TOKEN = secrets.token_urlsafe(16)
CALLING = re.compile(r"calling the line from (\+\d+)")
ROOM = re.compile(r"\(in conference (\S+)\)")


@pytest.fixture
def start_twin_process(live_server, tmp_path):
    """Start `python -m twin` for the live line with these extra options; stopped after."""
    started = []

    def start(*options: str) -> str:
        port = free_port()
        args = [*line_args(live_server.app.config), *options]
        started.append(start_twin(port, args, token=TOKEN, log=tmp_path / f"twin{port}.log"))
        return f"http://127.0.0.1:{port}"

    yield start
    stop(*started)


def mindfuse(*args: str) -> subprocess.Popen:
    """A `mindfuse` command as typed in a terminal, its output collected."""
    return subprocess.Popen(
        [str(BIN / "mindfuse"), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return out


def test_two_calls_as_the_readme_shows_meet_each_other(start_twin_process):
    twin = start_twin_process()
    first = mindfuse("call", "--twin", twin, "--token", TOKEN, "--keys", "1", "--seconds", "8")
    remote = RemoteTwin(twin, TOKEN)
    deadline = time.monotonic() + 60
    while not remote.conferences():  # the first caller waits in a room of their own
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
        time.sleep(0.1)
    second = mindfuse("call", "--twin", twin, "--token", TOKEN, "--keys", "1", "--seconds", "3")
    one, two = finish(first), finish(second)
    assert CALLING.search(one).group(1) != CALLING.search(two).group(1)  # two people calling
    for number in (CALLING.search(one).group(1), CALLING.search(two).group(1)):
        assert re.fullmatch(r"\+1555010\d{4}|\+447700900\d{3}|\+491555\d{7}", number)
    assert ROOM.search(one).group(1) == ROOM.search(two).group(1)
    assert "Connecting you now." in two
    assert "The other person has left" in one


def test_keys_are_taken_while_a_prompt_is_spoken_and_the_window_is_shown(start_twin_process):
    twin = start_twin_process("--say-seconds", "600")  # each prompt lasts ten minutes
    call = mindfuse("call", "--twin", twin, "--token", TOKEN, "--keys", "1", "--seconds", "5")
    out = finish(call)
    assert "(keys: 1 key, from now until 3 s after the prompt)" in out
    # The greeting had minutes to go when 1 was pressed; the line moved on at once.
    assert out.index("line: Welcome") < out.index("you: press 1") < out.index("Finding someone")


def test_a_call_from_a_given_number_keeps_it(start_twin_process):
    twin = start_twin_process()
    call = mindfuse("call", "--twin", twin, "--token", TOKEN, "--from", "+15550100123")
    call_out = finish_after_hang_up(call)
    assert "calling the line from +15550100123" in call_out


def finish_after_hang_up(process: subprocess.Popen) -> str:
    """End an interactive call as its user would: end of input hangs up."""
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    assert "you: hang up (end of input)" in out
    return out


def test_texts_lists_what_the_line_sent_to_each_phone(start_twin_process):
    twin = start_twin_process()
    remote = RemoteTwin(twin, TOKEN)
    replies = remote.send_sms("+447700900123", "hello there")["replies"]
    assert replies, "the line answers a text it does not know"
    listed = finish(mindfuse("texts", "--twin", twin, "--token", TOKEN))
    assert "to +447700900123" in listed and replies[0] in listed
    other = finish(mindfuse("texts", "--twin", twin, "--token", TOKEN, "--to", "+15550100199"))
    assert other.strip() == "no texts delivered yet"
