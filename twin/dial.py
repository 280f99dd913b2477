"""The <Dial><Conference> verb: joining, hold music, leaving, and the Dial action."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .engine import CallFailed, CallHungUp, Doc
from .models import Conference, Participant
from .ports import JoinOptions
from .twiml import Verb
from .util import as_bool, as_int

if TYPE_CHECKING:
    from .engine import CallRunner

DEFAULT_HOLD_MUSIC = "[default hold music]"
HOLD_VERBS = {"Say", "Play", "Pause", "Redirect"}
MAX_HOLD_REDIRECTS = 20


def join_options(noun: Verb) -> JoinOptions:
    """Read the <Conference> noun's attributes."""
    events = (noun.get("statusCallbackEvent") or "").replace(",", " ").split()
    return JoinOptions(
        name=noun.text,
        muted=as_bool(noun.get("muted")),
        beep=noun.get("beep", "true"),
        start_on_enter=as_bool(noun.get("startConferenceOnEnter"), True),
        end_on_exit=as_bool(noun.get("endConferenceOnExit")),
        max_participants=as_int(noun.get("maxParticipants"), 250),
        status_callback=noun.get("statusCallback"),
        status_callback_method=noun.get("statusCallbackMethod", "POST"),
        events=frozenset(events) if events else frozenset(),
        label=noun.get("participantLabel"),
    )


def run_dial(runner: CallRunner, verb: Verb, doc: Doc) -> Doc | None:
    """Join the conference, stay until the Dial ends, then request the action or go on."""
    noun = verb.children[0]
    opts = join_options(noun)
    if opts.status_callback:
        opts.status_callback = doc.resolve(opts.status_callback)
    action = verb.get("action")
    method = verb.get("method", "POST")
    joined_at = time.monotonic()
    joined = runner.twin.rooms.join(runner.call.sid, opts)
    status = "failed"
    if joined is not None:
        status = "completed"
        try:
            _stay(runner, verb, noun, doc, *joined)
        except CallHungUp:
            runner.twin.rooms.leave(runner.call.sid, "hangup")
            if action:  # Twilio still tells the action URL; the answer is ignored
                runner.twin.webhook_client.request(
                    doc.resolve(action),
                    method,
                    runner.params(
                        CallStatus="completed",
                        DialCallStatus="completed",
                        DialCallDuration=str(runner.sim_seconds_since(joined_at)),
                    ),
                    "voice",
                )
            raise
        finally:
            runner.twin.rooms.leave(runner.call.sid, "left")
            with runner.cond:
                runner.call.digits.clear()
    if not action:
        return None
    return runner.fetch(
        doc.resolve(action),
        method,
        DialCallStatus=status,
        DialCallDuration=str(runner.sim_seconds_since(joined_at)),
    )


def _stay(
    runner: CallRunner, verb: Verb, noun: Verb, doc: Doc, conf: Conference, part: Participant
) -> None:
    """Block while the call is in the room; return when its Dial ends."""
    call = runner.call
    hangup_on_star = as_bool(verb.get("hangupOnStar"))
    deadline = time.monotonic() + as_int(verb.get("timeLimit"), 14400) * runner.twin.time_scale

    def over() -> bool:
        if part.removed is not None:
            return True
        if hangup_on_star and "*" in call.digits:
            return True
        call.digits.clear()  # other keys pressed in a conference go nowhere
        return False

    def started_or_over() -> bool:
        return conf.status != "init" or over() or time.monotonic() >= deadline

    with runner.cond:
        call.digits.clear()
    if conf.status == "init":
        _hold_music(runner, noun, doc, started_or_over)
    runner.wait(over, max(0.0, deadline - time.monotonic()))


def _hold_music(runner: CallRunner, noun: Verb, doc: Doc, stop) -> None:
    """Run the waitUrl TwiML until the conference starts (or the Dial ends)."""
    wait_url = noun.get("waitUrl")
    if wait_url == "":
        return
    if wait_url is None:
        runner.hear(DEFAULT_HOLD_MUSIC)
        return
    url, method = doc.resolve(wait_url), noun.get("waitMethod", "POST")
    outer, runner.barge = runner.barge, stop
    try:
        hops = 0
        while not _locked(runner, stop) and hops < MAX_HOLD_REDIRECTS:
            hops += 1
            spent_before = runner.media_seconds
            try:
                hold_doc = runner.fetch(url, method, kind="wait")
            except CallFailed as exc:  # Twilio logs it and plays silence
                runner.twin.record_error(exc.error, runner.call)
                return
            nxt = _run_hold_doc(runner, hold_doc)
            if runner.media_seconds - spent_before >= 0.001:
                hops = 0  # time passed: a Redirect/refetch loop is a real playlist
            if nxt is not None:
                url, method = nxt
            elif runner.media_seconds - spent_before < 0.001:
                return  # nothing time-consuming in it: silence until the room starts
    finally:
        runner.barge = outer


def _run_hold_doc(runner: CallRunner, hold_doc: Doc) -> tuple[str, str] | None:
    for verb in hold_doc.verbs:
        if runner.barge and _locked(runner, runner.barge):
            return None
        if verb.name not in HOLD_VERBS:
            runner.twin.record_error(
                runner.fail(
                    12100, f"<{verb.name}> is not allowed in a waitUrl document", hold_doc.url
                ).error,
                runner.call,
            )
            return None
        if verb.name == "Redirect":
            return hold_doc.resolve(verb.text), verb.get("method", "POST")
        getattr(runner, f"verb_{verb.name.lower()}")(verb, hold_doc)
    return None


def _locked(runner: CallRunner, pred) -> bool:
    with runner.cond:
        return bool(pred())
