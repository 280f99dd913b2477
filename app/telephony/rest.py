"""The Twilio REST client, built lazily from config, at TWILIO_API_BASE."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from flask import current_app
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.settings import settings

log = logging.getLogger(__name__)
EXTENSION = "mindfuse.twilio"
OPTED_OUT = 21610
QUEUE_FULL = 21611  # the From number already holds 10 hours of texts at Twilio
VALIDITY_MAX = 36_000  # the longest ValidityPeriod Twilio takes, in seconds


class Verdict(StrEnum):
    """What a REST error means for the line, whatever the request was."""

    GONE = "gone"  # the call, conference or message is over or deleted: nothing left to do
    RETRY = "retry"  # a passing fault: try again after a short backoff
    NOT_YET = "not_yet"  # Twilio accepts it later (a record not yet deletable): minutes on
    OPTED_OUT = "opted_out"  # the recipient replied STOP to this sender
    PERMANENT = "permanent"  # the request itself is refused: trying again will not help


# The one place Twilio's error codes are read (docs/providers.md has each page).
ERROR_CODES = {
    20404: Verdict.GONE,  # Not Found: never existed, or deleted
    21220: Verdict.GONE,  # Invalid call state: the call is not in progress (HTTP 400)
    16022: Verdict.GONE,  # Conference does not exist or is completed
    20009: Verdict.NOT_YET,  # Cannot delete this resource before it is complete
    20429: Verdict.RETRY,  # Too many requests: never processed, safe to retry
    30001: Verdict.RETRY,  # Queue overflow: too many messages too quickly
    OPTED_OUT: Verdict.OPTED_OUT,  # Attempt to send to unsubscribed recipient
    21211: Verdict.PERMANENT,  # Invalid 'To' phone number
}


def classify(status: int | None, code: int | None) -> Verdict:
    """The verdict on a REST error: by Twilio's code when it is known, else by HTTP status."""
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if status is None or status == 429 or status >= 500:  # no answer, throttled, server fault
        return Verdict.RETRY
    return Verdict.GONE if status == 404 else Verdict.PERMANENT


class TelephonyError(RuntimeError):
    """Twilio's REST API refused or failed a request; `verdict` says what that means."""

    def __init__(self, message: str, status: int | None, code: int | None = None):
        super().__init__(message)
        self.status, self.code = status, code
        self.verdict = classify(status, code)
        self.retryable = self.verdict in (Verdict.RETRY, Verdict.NOT_YET)


class Gone(TelephonyError):
    """The call, conference or message is over or no longer exists at Twilio."""


class OptedOut(TelephonyError):
    """Twilio error 21610: the recipient replied STOP to this sender."""


ERRORS = {Verdict.GONE: Gone, Verdict.OPTED_OUT: OptedOut}


def client() -> Client:
    """The app's Twilio REST client, pointed at the configured API base."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=10),
        )
        found.api.base_url = settings.TWILIO_API_BASE
        current_app.extensions[EXTENSION] = found
    return found


def warm() -> None:
    """Build the client and load the library's modules for what the line asks of Twilio
    (calls, texts, conferences and their participants), without a request: the library
    imports each resource's module on first use, some 90 modules. A worker calls this before
    it forks a horse per job, so that no job pays for it again."""
    found = client()
    found.calls(WARM_SID)
    found.messages(WARM_SID)
    found.conferences(WARM_SID).participants(WARM_SID)


WARM_SID = "XX" + "0" * 32  # a resource's context, built and never requested


def _rest(what: str, action, using: Client | None = None):
    try:
        return action(using or client())
    # Neither is chained: the library's and the transport's messages hold the request's URL
    # and Twilio's text, either of which may hold a phone number (a list filter, error 21211),
    # and RQ keeps a failed job's traceback in Redis.
    except TwilioRestException as exc:
        kind = ERRORS.get(classify(exc.status, exc.code), TelephonyError)
        raise kind(f"{what}: HTTP {exc.status} code {exc.code}", exc.status, exc.code) from None
    except TwilioException as exc:  # a page of a list Twilio did not serve
        status = getattr(exc.args[-1], "status_code", None)
        kind = ERRORS.get(classify(status, None), TelephonyError)
        raise kind(f"{what}: HTTP {status}", status) from None
    except OSError as exc:  # connection refused, timeouts
        raise TelephonyError(f"{what}: {type(exc).__name__}", None) from None


def redirect_call(sid: str, url: str) -> None:
    """Move a live call to new TwiML fetched from `url`."""
    _rest("redirect", lambda c: c.calls(sid).update(url=url, method="POST"))


def place_call(to: str, url: str, status_callback: str, ring_seconds: int) -> str:
    """Call a number from the line's with answering machine detection; returns the CallSid.

    Detection is synchronous (MachineDetection=Enable): Twilio requests `url` once it has
    decided, with AnsweredBy. Only the final status is reported to `status_callback`.
    """
    options = {
        "to": to,
        "from_": settings.TWILIO_PHONE_NUMBER,
        "url": url,
        "method": "POST",
        "status_callback": status_callback,
        "status_callback_method": "POST",
        "status_callback_event": ["completed"],
        "timeout": ring_seconds,
        "machine_detection": "Enable",
    }
    return _rest("place call", lambda c: c.calls.create(**options)).sid


def hang_up_call(sid: str) -> None:
    """End a live call."""
    _rest("hang up", lambda c: c.calls(sid).update(status="completed"))


def cancel_call(sid: str) -> None:
    """Stop a call the line placed from ringing; one answered already goes on."""
    _rest("cancel", lambda c: c.calls(sid).update(status="canceled"))


def delete_call_record(sid: str) -> None:
    """Delete a finished call's record at Twilio."""
    _rest("delete", lambda c: c.calls(sid).delete())


def send_sms(to: str, body: str, status_callback: str, valid_for: int | None = None) -> str:
    """Send a text from the line's number, or its Messaging Service; returns the message sid.

    `valid_for`: seconds Twilio may keep it queued before dropping it (its ValidityPeriod).
    """
    options = {"to": to, "body": body, "status_callback": status_callback}
    if settings.TWILIO_MESSAGING_SERVICE_SID:  # the service picks one of its numbers
        options["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    else:
        options["from_"] = settings.TWILIO_PHONE_NUMBER
    if valid_for is not None:
        options["validity_period"] = max(1, min(VALIDITY_MAX, valid_for))
    return _rest("send text", lambda c: c.messages.create(**options)).sid


def sent_since(to: str, since: datetime) -> str | None:
    """The sid of a text the line sent to this number, created at or after `since`, or None.

    Not a DateSent filter: it is whole days only, and a text still in Twilio's queue has no
    DateSent yet; the line deletes texts once delivered, so a number's list is short. Twilio
    gives DateCreated in whole seconds, so `since` counts from the start of its second.
    """
    found = _rest("list texts", lambda c: c.messages.list(to=to, limit=50))
    start = since.replace(microsecond=0)
    sent = [
        m for m in found if m.direction == "outbound-api" and (m.date_created or start) >= start
    ]
    return sent[-1].sid if sent else None  # the oldest: newest come first


def delete_message_record(sid: str) -> None:
    """Delete a message's record (and body) at Twilio: sent, received or a reply."""
    _rest("delete message", lambda c: c.messages(sid).delete())


def replies_to(sid: str) -> list[str]:
    """The sids of the replies the line's number sent the sender of inbound text `sid` since it
    arrived; Gone once that text is deleted. The number is read from Twilio, used, forgotten."""

    def look(c: Client) -> list[str]:
        inbound = c.messages(sid).fetch()
        since = inbound.date_created
        # DateSent filters by day (GMT): the day it arrived, then the time on each record.
        found = c.messages.list(
            to=inbound.from_, from_=inbound.to, date_sent_after=since.date(), page_size=100
        )
        return [m.sid for m in found if m.direction == "outbound-reply" and m.date_created >= since]

    return _rest("find replies", look)


def conference_sid(room: str) -> str:
    """The sid of the conference now running under this room name."""
    found = _rest(
        "find conference",
        lambda c: c.conferences.list(friendly_name=room, status="in-progress", limit=1),
    )
    if not found:
        raise Gone(f"no conference in progress for room {room}", 404)
    return found[0].sid


@dataclass(frozen=True)
class LiveRoom:
    """A conference now live under a room name: `started` once two people were in it
    together (a caller alone waits in one that has not started), and who is in it now."""

    started: bool
    members: list[str]


def live_room(room: str) -> LiveRoom | None:
    """The live conference of this room name, or None when none is live."""

    def look(c: Client) -> LiveRoom | None:
        for conference in c.conferences.list(friendly_name=room, limit=20):  # newest first
            if conference.status != "completed":
                members = c.conferences(conference.sid).participants.list()
                return LiveRoom(conference.status == "in-progress", [p.call_sid for p in members])
        return None

    return _rest("room members", look)


def announce_to_conference(sid: str, url: str) -> None:
    """Play the TwiML at `url` to everyone in a conference."""
    _rest("announce", lambda c: c.conferences(sid).update(announce_url=url, announce_method="POST"))


def end_conference(sid: str) -> None:
    """End a conference; everyone in it continues after their Dial."""
    _rest("end conference", lambda c: c.conferences(sid).update(status="completed"))


class _CountingHttpClient(TwilioHttpClient):
    """Counts the HTTP requests a burst really made, retries included."""

    def __init__(self, pool_size: int):
        super().__init__(timeout=10)
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(pool_maxsize=pool_size))
        self.requests = 0
        self._lock = threading.Lock()

    def request(self, *args, **kwargs):
        with self._lock:
            self.requests += 1
        return super().request(*args, **kwargs)


@dataclass
class Fanout:
    """What a bounded burst of REST calls did, by key."""

    done: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0


def fan_out(
    actions: dict[str, Callable[[Client], object]], in_flight: int, attempts: int = 5
) -> Fanout:
    """Run REST actions concurrently, at most `in_flight` at a time.

    Passing faults (429, 5xx) are retried with exponential backoff and jitter; a call or
    conference that ended meanwhile (404, 21220, 16022) counts as gone, not as a failure.
    """
    http = _CountingHttpClient(pool_size=in_flight)
    burst = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
    burst.api.base_url = settings.TWILIO_API_BASE
    result = Fanout()

    def run(key: str, action) -> None:
        for attempt in range(attempts):
            try:
                _rest(key, action, burst)
            except Gone:
                result.gone.append(key)
                return
            except TelephonyError as error:
                if error.verdict is not Verdict.RETRY or attempt == attempts - 1:
                    log.warning("REST action failed for good: %s", error)
                    result.failed.append(key)
                    return
                time.sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.5))
            else:
                result.done.append(key)
                return

    with ThreadPoolExecutor(max_workers=max(1, in_flight)) as pool:
        list(pool.map(lambda item: run(*item), actions.items()))
    result.requests = http.requests
    return result


@dataclass(frozen=True)
class CallRecord:
    """What Twilio knows of a call: its status, who called, when it ended and its length."""

    status: str
    from_number: str | None
    ended: datetime | None
    duration: str | None


def fetch_calls(sids: list[str], in_flight: int) -> tuple[dict[str, CallRecord], list[str]]:
    """Twilio's record of each call, fetched at most `in_flight` at a time; and the sids
    Twilio no longer knows (404). Those that failed otherwise are in neither."""
    found: dict[str, CallRecord] = {}

    def fetch(c: Client, sid: str) -> None:
        call = c.calls(sid).fetch()
        caller = call._from  # the library's documented name for "from"
        found[sid] = CallRecord(call.status, caller, call.end_time, call.duration)

    burst = fan_out({sid: (lambda c, s=sid: fetch(c, s)) for sid in sids}, in_flight)
    return found, burst.gone


@dataclass(frozen=True)
class ConferenceRecord:
    """Twilio's record of a conference: its status, when it was created and last updated (its
    end, once completed), and when each participant in it now joined (none once it ended)."""

    sid: str
    status: str
    created: datetime
    updated: datetime
    joined: tuple[datetime, ...]


def conference_records(rooms: list[str], in_flight: int) -> dict[str, list[ConferenceRecord]]:
    """The conferences Twilio has under each room name, newest first, looked up at most
    `in_flight` at a time. Rooms whose look-up failed are left out."""
    found: dict[str, list[ConferenceRecord]] = {}

    def look(c: Client, room: str) -> None:
        records = []
        for conference in c.conferences.list(friendly_name=room, limit=20):
            joined: list[datetime] = []
            if conference.status != "completed":
                try:
                    present = c.conferences(conference.sid).participants.list()
                except TwilioRestException as exc:
                    if exc.status != 404:  # a conference that ended meanwhile has no one
                        raise
                    present = []
                joined = [p.date_created for p in present]
            created, updated = conference.date_created, conference.date_updated
            records.append(
                ConferenceRecord(conference.sid, conference.status, created, updated, tuple(joined))
            )
        found[room] = sorted(records, key=lambda r: r.created, reverse=True)

    fan_out({room: (lambda c, r=room: look(c, r)) for room in rooms}, in_flight)
    return found


def redirect_many(moves: dict[str, str], in_flight: int) -> Fanout:
    """Redirect many live calls (CallSid -> URL) at once."""
    return fan_out(
        {
            sid: (lambda c, s=sid, u=url: c.calls(s).update(url=u, method="POST"))
            for sid, url in moves.items()
        },
        in_flight,
    )


def announce_many(rooms: list[str], url: str, in_flight: int) -> Fanout:
    """Play the TwiML at `url` into each named conference that is in progress."""

    def announce(c: Client, room: str) -> None:
        found = c.conferences.list(friendly_name=room, status="in-progress", limit=1)
        if not found:
            raise TwilioRestException(404, "", msg="no such conference")
        c.conferences(found[0].sid).update(announce_url=url, announce_method="POST")

    return fan_out({room: (lambda c, r=room: announce(c, r)) for room in rooms}, in_flight)
