"""A caller already waiting is someone free: a call-back asked at the greeting while they
wait is placed for them at once, and on 1 the two talk, before their wait runs out."""

from __future__ import annotations

from tests.support import ask_for_call_back, callback_requests, eventually, in_a_room
from twin import Callee

# Long enough a wait that only the call-back, not the time-out, can end it here.
LINE_CONFIG = {"WAIT_TIMEOUT_SECONDS": 30, "LISTENER_AFTER_SECONDS": 30}
ANSWERS = Callee(press="1", cue="press 1 to talk now")


def test_a_request_asked_while_someone_waits_is_called_back_for_them(line):
    waiter, requester = "+447700900148", "+15550100148"
    line.twin.answer_as(requester, ANSWERS)
    alice = in_a_room(line, waiter)
    alice.wait_until_heard("finding someone")
    ask_for_call_back(line, requester)  # key 3 at the greeting, while Alice waits alone
    (phone,) = line.twin.wait_for(lambda: line.twin.calls_to(requester), timeout=10)
    phone.wait_until_heard("mindfuse calling you back")
    assert phone.wait_until_in_conference(timeout=10) == alice.conference
    assert sorted(line.twin.conferences()[alice.conference]) == sorted([alice.sid, phone.sid])
    eventually(lambda: [r.state for r in callback_requests(line)] == ["connected"])
    (wanted,) = callback_requests(line)
    assert not wanted.for_listener and wanted.number_encrypted is None
    phone.hang_up()
    alice.wait_until_heard("left the conversation")
    alice.hang_up()
