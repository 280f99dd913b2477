"""The <Gather> verb: DTMF input with numDigits, finishOnKey, timeout and barge-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import TwinError
from .twiml import Verb
from .util import as_bool, as_int
from .voices import INVALID_GATHER_LANGUAGE, gather_problem

if TYPE_CHECKING:
    from .engine import CallRunner, Doc


def run_gather(runner: CallRunner, verb: Verb, doc: Doc) -> Doc | None:
    """Play nested verbs, collect digits, then request the action or fall through."""
    call, cond = runner.call, runner.cond
    if (problem := gather_problem(verb.get("language"))) is not None:
        error = TwinError(INVALID_GATHER_LANGUAGE, problem, doc.url, call.sid)
        runner.twin.record_error(error, call)
    num_digits = as_int(verb.get("numDigits"), 0)
    finish_key = verb.get("finishOnKey", "#")
    timeout = as_int(verb.get("timeout"), 5) * runner.twin.time_scale
    collected: list[str] = []
    finished_on = ""

    def has_digits() -> bool:
        return bool(call.digits)

    outer_barge, runner.barge = runner.barge, has_digits
    with cond:  # keys count from the start of the prompt, as Twilio takes them
        call.listening = {"num_digits": num_digits, "timeout": timeout, "at": len(call.heard)}
    try:
        for child in verb.children:  # a key press interrupts the prompt (barge-in)
            if has_digits():
                break
            getattr(runner, f"verb_{child.name.lower()}")(child, doc)
        runner.barge = outer_barge
        while True:
            with cond:
                done = False
                while call.digits and not done:
                    digit = call.digits.pop(0)
                    if finish_key and digit == finish_key:
                        finished_on, done = digit, True
                    else:
                        collected.append(digit)
                        done = bool(num_digits) and len(collected) >= num_digits
            if done or not runner.wait(has_digits, timeout):
                break
    finally:
        runner.barge = outer_barge
        with cond:
            call.listening = None
    digits = "".join(collected)
    if not digits and not as_bool(verb.get("actionOnEmptyResult")):
        return None  # no input: Twilio falls through to the next verb
    action = verb.get("action") or doc.url
    if not action:
        return None
    method = verb.get("method", "POST") if verb.get("action") else doc.method
    return runner.fetch(
        doc.resolve(action), method, Digits=digits, FinishedOnKey=finished_on, msg="Gather End"
    )
