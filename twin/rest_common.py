"""What the REST routes share: the account path, the request log, Twilio's 404 and paging.

It also names the twin as the routes see it (RestHost), so the route modules sit below
the handle that mounts them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode

from flask import request

from .faults import RestError

if TYPE_CHECKING:
    import threading

    from .conference import Rooms
    from .faults import RestFaults, RestPace
    from .models import Call, TwinError
    from .payments import CheckoutDesk
    from .phone import Caller
    from .sms import InboundSms, SmsCenter

ACCOUNT = "/2010-04-01/Accounts/<account_sid>"


@dataclass
class RestRecord:
    """One REST request the app made, for tests to inspect."""

    method: str
    path: str
    form: dict[str, str]
    query: dict[str, str]
    status: int = 0
    at: float = field(default_factory=time.time)


def paged(items: list, key: str) -> dict:
    """Wrap a list the way Twilio pages list responses."""
    size = max(1, min(1000, int(request.args.get("PageSize", 50))))
    page = max(0, int(request.args.get("Page", 0)))
    start = page * size
    chunk = items[start : start + size]
    args = {k: v for k, v in request.args.items() if k not in ("Page", "PageSize", "PageToken")}

    def uri(number: int) -> str:
        return f"{request.path}?{urlencode({**args, 'PageSize': size, 'Page': number})}"

    return {
        key: [item.to_json() for item in chunk],
        "start": start,
        "end": start + max(len(chunk) - 1, 0),
        "page": page,
        "page_size": size,
        "uri": uri(page),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(items) else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
    }


def not_found(sid: str) -> RestError:
    """Twilio's 404 for an unknown sid."""
    return RestError(404, 20404, f"The requested resource {request.path} was not found")


class RestHost(Protocol):
    """The twin as the REST and control routes use it."""

    account_sid: str
    auth_token: str
    time_scale: float
    delete_settle_seconds: float
    ended_conference_update: str
    control_token: str
    cond: threading.Condition
    calls: dict[str, Call]
    callers: dict[str, Caller]
    requests: list[RestRecord]
    rooms: Rooms
    sms: SmsCenter
    rest_faults: RestFaults
    rest_pace: RestPace
    checkout: CheckoutDesk

    @property
    def errors(self) -> list[TwinError]:
        """Every application error so far."""
        ...

    def create_call(self, form: Mapping) -> tuple[Call, dict]:
        """Handle REST Calls.json POST."""
        ...

    def update_call(self, call: Call, form: Mapping) -> None:
        """Handle REST Calls/{sid}.json POST."""
        ...

    def dial(self, from_number: str, to: str | None = None) -> Caller:
        """A phone calls the line."""
        ...

    def send_sms(self, from_number: str, body: str, to: str | None = None) -> InboundSms:
        """A phone texts the line."""
        ...

    def inbox(self, number: str) -> list[str]:
        """Bodies of the texts delivered to a phone."""
        ...

    def delivered_texts(self) -> list[dict]:
        """Every text delivered to a phone so far, oldest first: to, from, body, sent."""
        ...

    def conferences(self) -> dict[str, list[str]]:
        """Live conferences: name -> call sids in it now."""
        ...
