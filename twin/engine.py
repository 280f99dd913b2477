"""The call engine: one thread per call, fetching and interpreting TwiML like Twilio."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from .callee import Callee, Pickup
from .models import Call, TwinError
from .twiml import TwimlError, Verb, parse_voice
from .util import as_int, rfc2822, utcnow
from .voices import INVALID_VOICE, say_problem

if TYPE_CHECKING:
    from .ports import CallHost

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
PLAY_LOOP_LIMIT = 1000  # <Play loop="0"> repeats "until the call is hung up or 1000 iterations"


def speech_seconds(text: str, wpm: float) -> float:
    """Simulated seconds a voice takes to say `text` at `wpm` words a minute (0: no time)."""
    return len(text.split()) * 60 / wpm if wpm > 0 else 0.0


class CallHungUp(Exception):
    """The caller (or the REST API) hung up."""


class Interrupted(Exception):
    """A REST update redirected the call to new TwiML."""


class CallFinished(Exception):
    """TwiML ended the call (Hangup, Reject) with a final status."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class CallFailed(Exception):
    """The app answered with an error or invalid TwiML."""

    def __init__(self, error: TwinError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Doc:
    """A fetched TwiML document and where it came from."""

    verbs: list[Verb]
    url: str | None = None
    method: str = "POST"

    def resolve(self, url: str) -> str:
        """Resolve a URL found in this document (Twilio allows relative ones)."""
        return urljoin(self.url, url) if self.url else url


class CallRunner:
    """Drives one call: fetch TwiML, run verbs, react to digits, hang-ups and redirects.

    The runner plays the plain verbs itself (Say, Play, Pause, Redirect, Hangup, Reject);
    the verbs that hold the call and come back to it (Gather, Dial) are handed in by name
    as `verbs`, so they build on the runner without the runner importing them.
    """

    def __init__(
        self,
        twin: CallHost,
        call: Call,
        url: str | None,
        method: str = "POST",
        twiml: str | None = None,
        verbs: Mapping[str, VerbHandler] | None = None,
    ) -> None:
        self.twin = twin
        self.call = call
        self.verbs = dict(verbs or {})
        self.cond = threading.Condition(twin.lock)  # this call's runner waits here
        self.start = (url, method, twiml)
        self.barge: Callable[[], bool] | None = None
        self.media_seconds = 0.0
        self.first_params: dict[str, str] = {}  # sent with the first TwiML request only
        self.thread = threading.Thread(target=self.run, daemon=True, name=f"call-{call.sid[:10]}")

    # ---- plumbing -------------------------------------------------------------------
    def params(self, **extra: str) -> dict[str, str]:
        """The form fields Twilio sends with every voice request for this call."""
        with self.cond:
            return self.call.webhook_params(**extra)

    def check(self) -> None:
        """Raise if the call was hung up or redirected meanwhile."""
        with self.cond:
            if self.call.hangup_requested:
                raise CallHungUp()
            if self.call.update is not None:
                raise Interrupted()

    def wait(self, pred: Callable[[], bool], seconds: float | None) -> bool:
        """Wait (real seconds) until pred holds; False on timeout. Hang-ups interrupt."""
        deadline = None if seconds is None else time.monotonic() + seconds
        with self.cond:
            while True:
                self.check()
                if pred():
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(left if left is not None else 1.0)

    def sleep(self, sim_seconds: float | None) -> None:
        """Spend simulated time (None: forever) unless a barge-in condition fires."""
        barge = self.barge or (lambda: False)
        began = time.monotonic()
        real = None if sim_seconds is None else sim_seconds * self.twin.time_scale
        if real is None or real > 0:
            self.wait(barge, real)
        self.media_seconds += time.monotonic() - began

    def hear(self, text: str) -> None:
        """Record something the caller hears; a scripted far end may press keys on it."""
        with self.cond:
            self.call.heard.append(text)
            callee = self.call.callee
            keys = callee.presses_on(text) if callee and not self.call.pressed else ""
            if keys:
                self.call.pressed = True
                self.call.digits.extend(keys)
            self.twin.cond.notify_all()

    def fail(self, code: int, message: str, url: str | None) -> CallFailed:
        """Build the exception for an application error on this call."""
        return CallFailed(TwinError(code, message, url, self.call.sid))

    def fetch(self, url: str, method: str = "POST", kind: str = "voice", **extra: str) -> Doc:
        """Request TwiML from the app and parse it; errors end the call like Twilio."""
        record = self.twin.webhook_client.request(url, method, self.params(**extra), kind)
        self.check()
        if record.error:
            raise self.fail(11205, f"HTTP connection failure: {record.error}", url)
        if not record.ok:
            raise self.fail(11200, f"HTTP retrieval failure: status {record.status}", url)
        try:
            return Doc(parse_voice(record.body, wait=kind == "wait"), url, method.upper())
        except TwimlError as exc:
            raise self.fail(exc.code, str(exc), url) from exc

    # ---- lifecycle ------------------------------------------------------------------
    def run(self) -> None:
        """Thread body: run the call to its end, then report its final status."""
        status = "completed"
        try:
            self.twin.call_event(self.call, "initiated")
            self.twin.call_event(self.call, "ringing")
            if self.call.direction != "inbound":
                self._ring()  # outbound calls fetch their TwiML once answered
            self._drive()
        except CallHungUp:
            status = "completed"
        except CallFinished as exc:
            status = exc.status
        except CallFailed as exc:
            self._record_failure(exc.error)
        except Exception as exc:  # noqa: BLE001 - a twin bug must still end the call visibly
            traceback.print_exc()
            self.twin.record_error(
                TwinError(0, f"twin internal error: {exc!r}", None, self.call.sid), self.call
            )
        finally:
            self.twin.rooms.leave(self.call.sid, "hangup")
            self.twin.finish_call(self.call, status)

    def _ring(self) -> None:
        """Ring the far end of an outbound call: it answers (then machine detection runs, if
        asked for), or the call ends busy, failed, no-answer, or canceled by the line."""
        callee = self.call.callee or Callee()
        with self.cond:
            self.call.status = "ringing"
            self.call.touch()
        try:
            if callee.pickup == Pickup.BUSY:
                raise CallFinished("busy")
            if callee.pickup == Pickup.FAILED:
                raise CallFinished("failed")
            if callee.pickup == Pickup.NO_ANSWER or callee.ring_seconds >= self.call.ring_timeout:
                self.sleep(self.call.ring_timeout)
                raise CallFinished("no-answer")
            self.sleep(callee.ring_seconds)
            self.answer()
            if callee.hang_up_after is not None:
                self._hang_up_later(callee.hang_up_after)
            if self.call.machine_detection:
                self.first_params["AnsweredBy"] = self._detect(callee)
        except CallHungUp:
            if self.call.answered_mono is None:
                raise CallFinished("canceled") from None
            raise

    def _detect(self, callee: Callee) -> str:
        """Synchronous answering machine detection: the call waits while it listens, and
        AnsweredBy is `unknown` when it cannot tell within MachineDetectionTimeout."""
        limit = self.call.machine_detection_timeout
        self.sleep(min(callee.detect_seconds, limit))
        found = callee.answered_by() if callee.detect_seconds < limit else "unknown"
        with self.cond:
            self.call.answered_by = found
        return found

    def _hang_up_later(self, sim_seconds: float) -> None:
        def hang_up() -> None:
            with self.cond:
                self.call.hangup_requested = True
                self.twin.wake(self.call.sid)

        timer = threading.Timer(sim_seconds * self.twin.time_scale, hang_up)
        timer.daemon = True
        timer.start()

    def _document(self, url: str | None, method: str, twiml: str | None) -> Doc:
        if twiml is not None:
            try:
                return Doc(parse_voice(twiml))
            except TwimlError as exc:
                raise self.fail(exc.code, str(exc), None) from exc
        extra, self.first_params = self.first_params, {}
        return self.fetch(url or "", method, **extra)

    def _drive(self) -> None:
        doc: Doc | None = None
        first = True
        while True:
            try:
                if first:
                    first = False
                    doc = self._document(*self.start)
                if doc is None:
                    return
                doc = self.execute(doc)
            except Interrupted:
                doc = self._take_update()

    def _take_update(self) -> Doc:
        while True:
            with self.cond:
                update, self.call.update = self.call.update, None
            try:
                self.answer()
                return self._document(update.url, update.method, update.twiml)
            except Interrupted:
                continue

    def _record_failure(self, error: TwinError) -> None:
        self.hear(APPLICATION_ERROR)
        self.twin.record_error(error, self.call)

    def answer(self) -> None:
        """Move a ringing call to in-progress (first TwiML verb executed)."""
        with self.cond:
            if self.call.answered_mono is not None:
                return
            self.call.status = "in-progress"
            self.call.start_time = utcnow()
            self.call.answered_mono = time.monotonic()
            self.call.touch()
            self.twin.cond.notify_all()
        self.twin.call_event(self.call, "answered")

    # ---- verbs ----------------------------------------------------------------------
    def execute(self, doc: Doc) -> Doc | None:
        """Run a document's verbs; return the next document, or None when it runs out."""
        for verb in doc.verbs:
            self.check()
            if self.barge and self.barge():
                return None
            if verb.name != "Reject":
                self.answer()
            handler = self.verbs.get(verb.name)
            if handler is not None:
                nxt = handler(self, verb, doc)
            else:
                nxt = getattr(self, f"verb_{verb.name.lower()}")(verb, doc)
            if nxt is not None:
                return nxt
        return None

    def spoken_for(self, text: str) -> float:
        """Simulated seconds one <Say> of this text lasts: say_seconds, and each word at
        speech_wpm words a minute."""
        return self.twin.say_seconds + speech_seconds(text, self.twin.speech_wpm)

    def verb_say(self, verb: Verb, doc: Doc) -> None:
        """Say: the text is heard, loop times (0: forever); a voice Twilio would not speak
        it in fails the Say (13511) and nothing is heard."""
        problem = say_problem(verb.get("voice"), verb.get("language"))
        if problem is not None:
            self.twin.record_error(
                TwinError(INVALID_VOICE, problem, doc.url, self.call.sid), self.call
            )
            return
        loops = as_int(verb.get("loop"), 1)
        for _ in range(max(loops, 1)):
            self.hear(verb.text)
            self.sleep(self.spoken_for(verb.text))
            if self.barge and self.barge():
                return
        if loops == 0:
            self.sleep(None)

    def verb_play(self, verb: Verb, doc: Doc) -> None:
        """Play: record the URL (or DTMF digits) heard, loop times; a media file lasts
        play_seconds (simulated). loop="0" repeats it up to Twilio's 1000 times."""
        loops = as_int(verb.get("loop"), 1)
        what = f"[play {verb.text}]" if verb.text else f"[digits {verb.get('digits')}]"
        length = self.twin.play_seconds if verb.text else 0.0
        if loops == 0 and length <= 0:
            self.hear(what)  # no length to repeat by: it simply goes on
            self.sleep(None)
            return
        for _ in range(loops or PLAY_LOOP_LIMIT):
            self.hear(what)
            self.sleep(length)
            if self.barge and self.barge():
                return

    def verb_pause(self, verb: Verb, doc: Doc) -> None:
        """Pause for length seconds (scaled)."""
        self.sleep(as_int(verb.get("length"), 1))

    def verb_redirect(self, verb: Verb, doc: Doc) -> Doc:
        """Redirect: fetch the next document."""
        return self.fetch(doc.resolve(verb.text), verb.get("method", "POST"))

    def verb_hangup(self, verb: Verb, doc: Doc) -> None:
        """Hangup: end the call."""
        raise CallFinished("completed")

    def verb_reject(self, verb: Verb, doc: Doc) -> None:
        """Reject: refuse an unanswered call (busy); after answer it just hangs up."""
        raise CallFinished("completed" if self.call.answered_mono else "busy")

    def timestamp(self) -> str:
        """Timestamp field for callbacks."""
        return rfc2822(utcnow()) or ""


# A verb the runner does not play itself: it gets the runner, the verb and its document,
# and returns the next document to run (None: go on with the current one).
VerbHandler = Callable[[CallRunner, Verb, Doc], Doc | None]
