"""The handle tests and tools hold: a Twin (Twilio stand-in) that hands out Callers (phones)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .callee import Callee
from .calls import CallsMixin
from .conference import Rooms
from .faults import RestFaults, RestPace
from .models import Call, Conference, Message, TwinError
from .opt_out import MessagingService
from .payments import CheckoutDesk
from .phone import Caller
from .ports import VoiceKnobs
from .rest import create_rest_app
from .server import ServerThread
from .sms import InboundSms, SmsCenter
from .throughput import LONG_CODE_RATE
from .util import new_sid
from .webhooks import Dispatcher, WebhookClient, WebhookRecord

if TYPE_CHECKING:
    from twilio.rest import Client

    from .rest_common import RestRecord


class Twin(CallsMixin):
    """An offline Twilio: REST API over HTTP plus simulated phones calling the app."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "twin-auth-token",
        phone_number: str = "+15550100000",
        voice_url: str | None = None,
        status_callback: str | None = None,
        sms_url: str | None = None,
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        voice_method: str = "POST",
        sms_method: str = "POST",
        say_seconds: float = 0.0,
        speech_wpm: float = 0.0,
        callback_workers: int = 4,
        log_requests: bool = False,
        delete_settle_seconds: float = 60.0,
        ended_conference_update: str = "refuse",
        play_seconds: float = 30.0,
        knobs: VoiceKnobs | None = None,
        sms_rate: float = LONG_CODE_RATE,
        forward_help: bool = True,
        messaging_service: MessagingService | None = None,
        control_token: str | None = None,
        rest_pace: RestPace | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        # What the control API (/_twin) asks of its callers; new for each run unless given.
        self.control_token = control_token or secrets.token_urlsafe(32)
        self.phone_number, self.phone_number_sid = phone_number, new_sid("PN")
        self.voice_url, self.voice_method = voice_url, voice_method
        self.status_callback, self.sms_url, self.sms_method = status_callback, sms_url, sms_method
        self.time_scale, self.say_seconds = time_scale, say_seconds
        # Words a minute a <Say> is spoken at, on top of say_seconds (0: no time per word; a
        # real voice takes some 150: the simulated day's callers hear the prompts' length).
        self.speech_wpm = speech_wpm
        self.play_seconds = play_seconds  # simulated length of one <Play> of a media file
        self.knobs = knobs or VoiceKnobs()  # Twilio's undocumented choices: docs/providers.md
        self.host, self.port, self.log_requests = host, port, log_requests
        # How Twilio answers what its docs leave open or only bound (docs/providers.md):
        # simulated seconds a finished call or message stays undeletable (20009), and what
        # an update of a conference that has ended gets ("refuse": 16022, "not-found", "accept").
        self.delete_settle_seconds = delete_settle_seconds
        self.ended_conference_update = ended_conference_update
        # One lock for all of the twin's state. Each call's runner waits on a condition of
        # its own (so an event wakes only the calls it concerns); `cond` is for observers:
        # test handles, the control API, wait_idle.
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.calls: dict[str, Call] = {}
        self.callers: dict[str, Caller] = {}
        self.requests: list[RestRecord] = []
        # Who answers the numbers the twin calls (REST Calls, <Dial><Number>); any other
        # number: a person who answers after a few rings and presses nothing.
        self.callees: dict[str, Callee] = {}
        self.error_log: list[TwinError] = []
        self.webhook_client = WebhookClient(auth_token)
        self.dispatcher = Dispatcher(callback_workers)
        self.rooms = Rooms(self)
        # SMS knobs: each sender's rate in segments per simulated second (a long code by
        # default); whether default opt-out handling forwards HELP to sms_url (the docs do
        # not say); a Messaging Service holding the number (None: a plain number).
        self.sms = SmsCenter(
            self, rate=sms_rate, forward_help=forward_help, service=messaging_service
        )
        self.rest_faults = RestFaults()
        # REST latency, random 429s and a concurrency limit (docs/providers.md); by default
        # answers at once, no limit: tests that time nothing need no delay.
        self.rest_pace = rest_pace or RestPace()
        self.checkout = CheckoutDesk()
        self._server: ServerThread | None = None
        self.app = create_rest_app(self)

    def wake(self, *sids: str) -> None:
        """Something changed for these calls: wake their runners and every observer.

        The caller holds the twin's lock.
        """
        for sid in sids:
            caller = self.callers.get(sid)
            if caller is not None:
                caller.runner.cond.notify_all()
        self.cond.notify_all()

    # ---- running --------------------------------------------------------------------
    def start(self) -> Twin:
        """Serve the REST API on host:port (port 0 picks a free one) in a background thread."""
        self.dispatcher.start()
        self.sms.timers.start()
        self._server = ServerThread(self.app, self.host, self.port, quiet=not self.log_requests)
        self._server.start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        """Hang up every live call, flush callbacks and stop serving."""
        with self.cond:
            live = [c for c in self.callers.values() if not c.ended]
        for caller in live:
            caller.hang_up()
        for caller in live:
            caller.runner.thread.join(timeout=5)
        self.sms.timers.stop()
        self.dispatcher.wait_idle(5)
        self.dispatcher.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Twin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_base(self) -> str:
        """Base URL to give twilio.rest.Client, e.g. http://127.0.0.1:8700."""
        return f"http://{self.host}:{self.port}"

    def client(self) -> Client:
        """A stock twilio.rest.Client pointed at this twin."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token)
        client.api.base_url = self.api_base
        return client

    # ---- phones ---------------------------------------------------------------------
    def dial(self, from_number: str, to: str | None = None) -> Caller:
        """A phone calls the line: the twin POSTs voice_url and runs the TwiML."""
        call = Call(
            self.account_sid,
            from_number,
            to or self.phone_number,
            status="ringing",
            phone_number_sid=self.phone_number_sid,
            status_callback=self.status_callback,
        )
        return self.start_call(call, self.voice_url, self.voice_method)

    def callee_for(self, number: str) -> Callee:
        """Who answers this number when the twin calls it."""
        with self.cond:
            return self.callees.get(number) or Callee()

    def answer_as(self, number: str, callee: Callee) -> None:
        """Script who answers this number from now on."""
        with self.cond:
            self.callees[number] = callee

    def calls_to(self, number: str) -> list[Caller]:
        """The handles of the calls placed to this number, oldest first."""
        with self.cond:
            placed = [c for c in self.callers.values() if c.call.direction != "inbound"]
            return [c for c in placed if c.call.to == number]

    def caller(self, sid: str) -> Caller:
        """The handle of any call (inbound or created through REST) by sid."""
        return self.callers[sid]

    def send_sms(self, from_number: str, body: str, to: str | None = None) -> InboundSms:
        """A phone texts the line; returns the reply bodies the app sent back in TwiML."""
        return self.sms.receive(from_number, body, to)

    def opt_out(self, number: str) -> None:
        """Mark a number as having texted STOP: sending to it fails with 21610."""
        with self.cond:
            self.sms.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        """Undo opt_out (the number texted START)."""
        with self.cond:
            self.sms.opted_out.discard(number)

    # ---- views ----------------------------------------------------------------------
    def conferences(self) -> dict[str, list[str]]:
        """Live conferences: name -> call sids in it now."""
        with self.cond:
            return {name: list(c.participants) for name, c in self.rooms.active.items()}

    def conference(self, name: str) -> Conference | None:
        """The latest conference with this name (live or ended), with its event history."""
        with self.cond:
            found = [c for c in self.rooms.by_sid.values() if c.friendly_name == name]
            return found[-1] if found else None

    @property
    def conference_history(self) -> list[Conference]:
        """Every conference so far, oldest first."""
        with self.cond:
            return list(self.rooms.by_sid.values())

    @property
    def messages(self) -> list[Message]:
        """Every SMS so far (both directions), oldest first."""
        with self.cond:
            return list(self.sms.messages.values())

    def inbox(self, number: str) -> list[str]:
        """Bodies of the texts delivered to a phone, oldest first."""
        with self.cond:
            return [m.body for m in self.sms.inboxes.get(number, [])]

    def delivered_texts(self) -> list[dict]:
        """Every text delivered to a phone so far, oldest first: to, from, body, sent."""
        with self.cond:
            delivered = [m for inbox in self.sms.inboxes.values() for m in inbox]
        delivered.sort(key=lambda m: m.date_sent or m.date_created)
        return [
            {
                "to": m.to,
                "from": m.from_,
                "body": m.body,
                "sent": (m.date_sent or m.date_created).isoformat(timespec="seconds"),
            }
            for m in delivered
        ]

    @property
    def errors(self) -> list[TwinError]:
        """Every application error so far (calls, SMS, announcements)."""
        with self.cond:
            return list(self.error_log)

    @property
    def webhooks(self) -> list[WebhookRecord]:
        """Every request the twin made to the app."""
        return self.webhook_client.snapshot()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until queued messages have left and their callbacks have been sent."""
        deadline = time.monotonic() + timeout
        if not self.sms.timers.wait_idle(timeout):
            return False
        return self.dispatcher.wait_idle(max(0.0, deadline - time.monotonic()))

    def wait_for(self, pred: Callable[[], object], timeout: float = 5.0) -> object:
        """Wait until pred() is truthy (polled every 50 ms under the lock); return it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (value := pred()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"gave up waiting for {pred}")
                self.cond.wait(min(left, 0.05))
            return value
