"""Conference rooms: joins, leaves, start/end, status callback events, announcements."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from .models import Conference, Participant, TwinError
from .ports import EventOrder
from .twiml import TwimlError, Verb, parse_voice
from .util import API_VERSION, as_bool, rfc2822, utcnow
from .voices import INVALID_VOICE, say_problem

if TYPE_CHECKING:
    from .ports import JoinOptions, TwinState

EVENT_CATEGORY = {
    "conference-start": "start",
    "conference-end": "end",
    "participant-join": "join",
    "participant-leave": "leave",
    "participant-mute": "mute",
    "participant-unmute": "mute",
    "participant-hold": "hold",
    "participant-unhold": "hold",
    "participant-modified": "modify",
    "announcement-end": "announcement",
    "announcement-fail": "announcement",
}


class Rooms:
    """All conferences of the account; every method expects to be safe to call any time."""

    def __init__(self, twin: TwinState) -> None:
        self.twin = twin
        self.cond = twin.cond
        self.by_sid: dict[str, Conference] = {}
        self.active: dict[str, Conference] = {}
        self.of_call: dict[str, str] = {}
        # Seconds after its end that a completed conference's date_updated says: Twilio
        # documents it as "last updated", not as the end, so a record touched later is a knob.
        self.updated_after_end = 0.0
        self._rng: tuple[int | None, random.Random] | None = None  # the shuffle's, by seed

    def join(self, call_sid: str, opts: JoinOptions) -> tuple[Conference, Participant] | None:
        """Add a call to the named room (created on first join); None when it is full."""
        with self.cond:
            conf = self.active.get(opts.name)
            if conf is None:
                conf = Conference(
                    self.twin.account_sid,
                    opts.name,
                    status_callback=opts.status_callback,
                    status_callback_method=opts.status_callback_method,
                    status_callback_events=opts.events,
                    max_participants=opts.max_participants,
                )
                self.active[opts.name] = conf
                self.by_sid[conf.sid] = conf
            if len(conf.participants) >= conf.max_participants:
                return None
            part = Participant(
                call_sid,
                conf.sid,
                self.twin.account_sid,
                label=opts.label,
                muted=opts.muted,
                beep=opts.beep,
                start_conference_on_enter=opts.start_on_enter,
                end_conference_on_exit=opts.end_on_exit,
            )
            self._beep(conf, part, ("true", "onEnter"))
            conf.participants[call_sid] = part
            conf.members_ever.append(call_sid)
            self.of_call[call_sid] = conf.sid
            call = self.twin.calls.get(call_sid)
            if call is not None:
                call.conference_sid, call.conference_name = conf.sid, conf.friendly_name
            conf.date_updated = utcnow()
            self._event(conf, "participant-join", part)
            if (
                conf.status == "init"
                and len(conf.participants) >= 2
                and any(p.start_conference_on_enter for p in conf.participants.values())
            ):
                conf.status = "in-progress"
                self._event(conf, "conference-start")
            self.twin.wake(*conf.members_ever)
            return conf, part

    def leave(self, call_sid: str, reason: str) -> None:
        """Take a call out of its room, if it is in one (its Dial ended or it hung up)."""
        with self.cond:
            conf = self.by_sid.get(self.of_call.get(call_sid, ""))
            if conf is None or call_sid not in conf.participants:
                self._forget(call_sid)
                return
            part = conf.participants[call_sid]
            self._remove(conf, part, reason)
            suffix = "kicked" if reason == "kicked" else "left"
            if part.end_conference_on_exit:
                self.end(conf, f"participant-with-end-conference-on-exit-{suffix}", call_sid)
            elif not conf.participants:
                self.end(conf, f"last-participant-{suffix}", call_sid)

    def kick(self, conf: Conference, call_sid: str) -> None:
        """Remove a participant through the REST API."""
        self.leave(call_sid, "kicked")

    def end(self, conf: Conference, reason: str, ending_call: str | None = None) -> None:
        """End a conference: everyone still in it drops out of their <Dial>."""
        with self.cond:
            if conf.status == "completed":
                return
            for part in list(conf.participants.values()):
                self._remove(conf, part, "ended")
            conf.status = "completed"
            conf.reason_ended, conf.call_sid_ending = reason, ending_call
            conf.date_updated = utcnow() + timedelta(seconds=self.updated_after_end)
            self.active.pop(conf.friendly_name, None)
            self._event(
                conf,
                "conference-end",
                None,
                ReasonConferenceEnded=reason,
                Reason=reason,
                CallSidEndingConference=ending_call or "",
            )
            self.twin.wake(*conf.members_ever)

    def update_participant(self, conf: Conference, part: Participant, form: dict) -> None:
        """Apply a REST participant update (Muted, Hold, EndConferenceOnExit, AnnounceUrl)."""
        with self.cond:
            if "Muted" in form and as_bool(form["Muted"]) != part.muted:
                part.muted = as_bool(form["Muted"])
                self._event(conf, "participant-mute" if part.muted else "participant-unmute", part)
            if "Hold" in form and as_bool(form["Hold"]) != part.hold:
                part.hold = as_bool(form["Hold"])
                self._event(conf, "participant-hold" if part.hold else "participant-unhold", part)
            if "EndConferenceOnExit" in form:
                part.end_conference_on_exit = as_bool(form["EndConferenceOnExit"])
            part.date_updated = utcnow()
        if form.get("AnnounceUrl"):
            self.announce(
                conf, form["AnnounceUrl"], form.get("AnnounceMethod", "POST"), part.call_sid
            )

    def announce(self, conf: Conference, url: str, method: str, call_sid: str | None) -> None:
        """Fetch announcement TwiML and let the room (or one participant) hear it."""

        def job() -> None:
            params = {
                "AccountSid": conf.account_sid,
                "ConferenceSid": conf.sid,
                "ApiVersion": API_VERSION,
                "CallSid": call_sid or "",
            }
            record = self.twin.webhook_client.request(url, method, params, "announce")
            try:
                if not record.ok:
                    raise TwimlError(f"HTTP retrieval failure: status {record.status}")
                verbs = parse_voice(record.body)
            except TwimlError as exc:
                self.twin.record_error(
                    TwinError(11200 if not record.ok else exc.code, str(exc), url, call_sid)
                )
                with self.cond:
                    self._event(conf, "announcement-fail")
                return
            texts = []
            for v in verbs:
                if v.name == "Play":
                    texts.append(f"[play {v.text}]")
                elif v.name == "Say" and not self._unspoken(v, url, call_sid):
                    texts.append(v.text)
            with self.cond:
                targets = [call_sid] if call_sid else list(conf.participants)
                for sid in targets:
                    call = self.twin.calls.get(sid)
                    if call is not None and sid in conf.participants:
                        call.heard.extend(texts)
                self._event(conf, "announcement-end")
                self.twin.wake(*targets)

        self.twin.dispatcher.submit(conf.sid, job)

    def _unspoken(self, say: Verb, url: str, call_sid: str | None) -> bool:
        """A Say Twilio would not speak (its voice and language): 13511, and not heard."""
        problem = say_problem(say.get("voice"), say.get("language"))
        if problem is not None:
            self.twin.record_error(TwinError(INVALID_VOICE, problem, url, call_sid))
        return problem is not None

    def room_of(self, call_sid: str) -> Conference | None:
        """The conference a call is in now, if any."""
        with self.cond:
            conf = self.by_sid.get(self.of_call.get(call_sid, ""))
            return conf if conf is not None and call_sid in conf.participants else None

    # ---- internals (caller holds the lock) -----------------------------------------
    def _remove(self, conf: Conference, part: Participant, reason: str) -> None:
        conf.participants.pop(part.call_sid, None)
        part.removed, part.status = reason, "complete"
        self._forget(part.call_sid)
        self._beep(conf, part, ("true", "onExit"))
        self._event(conf, "participant-leave", part)
        self.twin.wake(*conf.members_ever)

    def _forget(self, call_sid: str) -> None:
        self.of_call.pop(call_sid, None)
        call = self.twin.calls.get(call_sid)
        if call is not None:
            call.conference_sid = call.conference_name = None

    def _beep(self, conf: Conference, part: Participant, when: tuple[str, ...]) -> None:
        if part.beep not in when:
            return
        for sid in conf.participants:
            call = self.twin.calls.get(sid)
            if call is not None and sid != part.call_sid:
                call.heard.append("[beep]")

    def _event(
        self, conf: Conference, name: str, part: Participant | None = None, **extra: str
    ) -> None:
        params = {
            "AccountSid": conf.account_sid,
            "ConferenceSid": conf.sid,
            "FriendlyName": conf.friendly_name,
            "StatusCallbackEvent": name,
            "Timestamp": rfc2822(utcnow()) or "",
        }
        if part is not None:
            params.update(
                {
                    "CallSid": part.call_sid,
                    "Muted": _tf(part.muted),
                    "Hold": _tf(part.hold),
                    "Coaching": "false",
                    "EndConferenceOnExit": _tf(part.end_conference_on_exit),
                    "StartConferenceOnEnter": _tf(part.start_conference_on_enter),
                }
            )
            if part.label:
                params["ParticipantLabel"] = part.label
        params.update(extra)
        subscribed = conf.status_callback and EVENT_CATEGORY[name] in conf.status_callback_events
        if subscribed:
            conf.sequence += 1
            params["SequenceNumber"] = str(conf.sequence)
        conf.events.append(params)
        if subscribed:
            url, method = conf.status_callback, conf.status_callback_method
            self._deliver(
                conf,
                lambda: self.twin.webhook_client.request(url, method, params, "conference-status"),
            )

    def _deliver(self, conf: Conference, send) -> None:
        """Send one event: in firing order (one queue per conference), or, with the
        shuffled knob, each after its own random hold-back, so they may arrive in any order."""
        knobs = self.twin.knobs
        if knobs.conference_events != EventOrder.SHUFFLED:
            self.twin.dispatcher.submit(conf.sid, send)
            return
        if self._rng is None or self._rng[0] != knobs.seed:
            self._rng = (knobs.seed, random.Random(knobs.seed))
        delay = self._rng[1].uniform(0, knobs.conference_event_jitter)
        self.twin.dispatcher.submit_after(delay, f"{conf.sid}:{conf.sequence}", send)


def _tf(value: bool) -> str:
    return "true" if value else "false"
