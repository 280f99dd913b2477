"""The <Dial> verb: <Conference> (joining, hold music, leaving) and <Number>, and its action."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .callee import Pickup
from .engine import CallFailed, CallHungUp, Doc, Interrupted
from .models import Call, Conference, Participant
from .ports import JoinOptions
from .twiml import Verb
from .util import as_bool, as_int, utcnow

if TYPE_CHECKING:
    from .engine import CallRunner

DEFAULT_HOLD_MUSIC = "[default hold music]"
SILENCE = "[silence]"  # heard when a waitUrl document runs out of verbs before the room starts
HOLD_VERBS = {"Say", "Play", "Pause", "Redirect"}
UNANSWERED = {"busy", "no-answer", "failed", "canceled"}


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
    """Join the conference, stay until the Dial ends, then request the action or go on.

    The action gets DialCallStatus (`answered` after `*`) and never DialCallDuration,
    which Twilio does not send after dialing a conference.
    """
    noun = verb.children[0]
    if noun.name == "Number":
        return _dial_number(runner, verb, noun, doc)
    opts = join_options(noun)
    if opts.status_callback:
        opts.status_callback = doc.resolve(opts.status_callback)
    action = verb.get("action")
    method = verb.get("method", "POST")
    with runner.cond:  # keys pressed before the Dial go nowhere; those pressed once in it count
        runner.call.digits.clear()
    joined = runner.twin.rooms.join(runner.call.sid, opts)
    status = "failed"  # the room was full
    if joined is not None:
        try:
            status = _stay(runner, verb, noun, doc, *joined)
        except CallHungUp:
            runner.twin.rooms.leave(runner.call.sid, "hangup")
            if action:  # Twilio still tells the action URL; the answer is ignored
                params = runner.params(
                    CallStatus="completed", DialCallStatus=runner.twin.knobs.conference_exit_status
                )
                runner.twin.webhook_client.request(doc.resolve(action), method, params, "voice")
            raise
        except Interrupted:  # a REST redirect: the room is left, then the action is asked
            runner.twin.rooms.leave(runner.call.sid, "left")
            if action and runner.twin.knobs.redirect_requests_action:
                _discarded_action(runner, doc.resolve(action), method)
            raise
        finally:
            runner.twin.rooms.leave(runner.call.sid, "left")
            with runner.cond:
                runner.call.digits.clear()
    if not action:
        return None
    return runner.fetch(doc.resolve(action), method, DialCallStatus=status)


def _discarded_action(runner: CallRunner, url: str, method: str) -> None:
    """Request the action of a Dial a redirect interrupted, and ignore the answer.

    Measured on a real account: the action is requested about 0.3 s after the redirect
    with DialCallStatus=completed, then the redirect's URL; only that document plays.
    """
    time.sleep(runner.twin.knobs.redirect_action_delay)
    params = runner.params(DialCallStatus="completed")
    runner.twin.webhook_client.request(url, method, params, "voice")


def _stay(
    runner: CallRunner, verb: Verb, noun: Verb, doc: Doc, conf: Conference, part: Participant
) -> str:
    """Block while the call is in the room; when its Dial ends, return its DialCallStatus."""
    call = runner.call
    hangup_on_star = as_bool(verb.get("hangupOnStar"))
    deadline = time.monotonic() + as_int(verb.get("timeLimit"), 14400) * runner.twin.time_scale

    def starred() -> bool:
        return hangup_on_star and "*" in call.digits

    def over() -> bool:
        if part.removed is not None or starred():
            return True
        call.digits.clear()  # other keys pressed in a conference go nowhere
        return False

    def started_or_over() -> bool:
        return conf.status != "init" or over() or time.monotonic() >= deadline

    if conf.status == "init":
        _hold_music(runner, noun, doc, started_or_over)
    runner.wait(over, max(0.0, deadline - time.monotonic()))
    with runner.cond:
        # "When calling a conference, the DialCallStatus will be answered" after `*`.
        left_by_star = part.removed is None and starred()
    return "answered" if left_by_star else runner.twin.knobs.conference_exit_status


def _hold_music(runner: CallRunner, noun: Verb, doc: Doc, stop) -> None:
    """Run the waitUrl TwiML until the conference starts (or the Dial ends).

    Twilio plays the document once: when it runs out of verbs the caller hears silence,
    unless it ends with a <Redirect> (to itself, to loop) or loops a <Play loop="0">.
    """
    wait_url = noun.get("waitUrl")
    if wait_url is None:
        runner.hear(DEFAULT_HOLD_MUSIC)  # Twilio's own playlist, which loops
        return
    outer, runner.barge = runner.barge, stop
    try:
        if wait_url:
            _play_wait_documents(runner, doc.resolve(wait_url), noun.get("waitMethod", "POST"))
        if not _locked(runner, stop):
            runner.hear(SILENCE)
    finally:
        runner.barge = outer


def _play_wait_documents(runner: CallRunner, url: str, method: str) -> None:
    """Fetch and play a waitUrl document, and the ones it redirects to, until one ends."""
    next_doc: tuple[str, str] | None = (url, method)
    while next_doc is not None and not _locked(runner, runner.barge):
        spent_before = runner.media_seconds
        try:
            hold_doc = runner.fetch(*next_doc, kind="wait")
        except CallFailed as exc:  # Twilio logs it; the caller hears silence
            runner.twin.record_error(exc.error, runner.call)
            return
        next_doc = _run_hold_doc(runner, hold_doc)
        if next_doc is not None and runner.media_seconds - spent_before < 0.001:
            runner.sleep(1)  # a document of no length would loop at once: give it a second


def _run_hold_doc(runner: CallRunner, hold_doc: Doc) -> tuple[str, str] | None:
    """Play one waitUrl document; returns where its <Redirect> goes, or None when it ends."""
    for verb in hold_doc.verbs:
        if runner.barge and _locked(runner, runner.barge):
            return None
        if verb.name not in HOLD_VERBS:
            runner.twin.record_error(
                runner.fail(
                    13238, f"<{verb.name}> is not allowed in a waitUrl document", hold_doc.url
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


def _dial_number(runner: CallRunner, verb: Verb, noun: Verb, doc: Doc) -> Doc | None:
    """<Dial><Number>: ring the number (a child call leg), connect the two if it answers,
    then request the action with DialCallStatus, DialCallSid and DialCallDuration.

    The far end is the twin's callee for that number. The Dial's timeout (default 30 s)
    bounds the ringing; a hang-up of the caller ends the leg, and Twilio still requests the
    action (its answer is ignored).
    """
    twin, call = runner.twin, runner.call
    number = noun.text.strip()
    callee = twin.callee_for(number)
    leg = Call(
        call.account_sid,
        verb.get("callerId") or call.to,
        number,
        direction="outbound-dial",
        status="ringing",
        parent_call_sid=call.sid,
    )
    with runner.cond:
        twin.calls[leg.sid] = leg
        call.digits.clear()
    ring = as_int(verb.get("timeout"), 30)
    limit = as_int(verb.get("timeLimit"), 14400)
    hung_up = False
    status, talked = "failed", 0
    try:
        status, talked = _ring_and_talk(runner, verb, callee, number, ring, limit, leg)
    except CallHungUp:
        hung_up = True
        status = "completed" if leg.answered_mono is not None else "canceled"
        talked = runner.sim_seconds_since(leg.answered_mono)
    finally:
        with runner.cond:
            leg.status = status if status in UNANSWERED else "completed"
            leg.end_time, leg.ended_mono, leg.duration = utcnow(), time.monotonic(), talked
            leg.touch()
    action, method = verb.get("action"), verb.get("method", "POST")
    fields = {"DialCallStatus": status, "DialCallSid": leg.sid, "DialCallDuration": str(talked)}
    if hung_up:
        if action:
            params = runner.params(CallStatus="completed", **fields)
            twin.webhook_client.request(doc.resolve(action), method, params, "voice")
        raise CallHungUp()
    if not action:
        return None
    return runner.fetch(doc.resolve(action), method, **fields)


def _ring_and_talk(runner, verb, callee, number, ring, limit, leg) -> tuple[str, int]:
    """Ring the leg and, once answered, stay connected; returns (DialCallStatus, seconds)."""
    if callee.pickup in (Pickup.BUSY, Pickup.FAILED):
        return str(callee.pickup), 0
    if callee.pickup == Pickup.NO_ANSWER or callee.ring_seconds >= ring:
        runner.sleep(ring)
        return "no-answer", 0
    runner.sleep(callee.ring_seconds)
    with runner.cond:
        leg.status, leg.start_time, leg.answered_mono = "in-progress", utcnow(), time.monotonic()
    runner.hear(f"[connected to {number}]")
    talk = limit if callee.hang_up_after is None else min(limit, callee.hang_up_after)
    hangup_on_star = as_bool(verb.get("hangupOnStar"))
    runner.wait(lambda: hangup_on_star and "*" in runner.call.digits, talk * runner.twin.time_scale)
    with runner.cond:
        runner.call.digits.clear()
    return "completed", runner.sim_seconds_since(leg.answered_mono)
