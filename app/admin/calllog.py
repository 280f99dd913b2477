"""The call log's filters, rows and CSV: masked numbers only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from app.admin import zones
from app.db import db
from app.line.models import Call, CallMode, Conversation, Outcome, Participant

OUTCOME_LABELS = {
    Outcome.PAIRED: "Paired",
    Outcome.TIMED_OUT: "Timed out",
    Outcome.HUNG_UP_WAITING: "Hung up while waiting",
    Outcome.HUNG_UP_MENU: "Hung up at the menu",
    Outcome.BLOCKED: "Blocked",
    Outcome.NOT_MEMBER: "Not a member",
    Outcome.RATE_LIMITED: "Rate limited",
    Outcome.CALLBACK_ASKED: "Asked for a call-back",
}
MODE_LABELS = {CallMode.PAIRING: "Pairing", CallMode.FUSING: "Fusing Hour"}
CSV_COLUMNS = (
    "call_id",
    "arrived",
    "masked_number",
    "country",
    "mode",
    "outcome",
    "wait_seconds",
    "conversation_seconds",
    "call_seconds",
)


def outcome_label(outcome: str | None) -> str:
    """A readable outcome; calls still going have none yet."""
    if outcome is None:
        return "In progress"
    return OUTCOME_LABELS.get(outcome, outcome.replace("_", " ").capitalize())


def outcome_choices() -> list[tuple[str, str]]:
    """Every outcome the line may record, in a stable order."""
    return [(outcome, outcome_label(outcome)) for outcome in Outcome]


# A day outside these has no calls, and its bounds in a time zone would overflow a datetime.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


def _day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day and FIRST_DAY <= day <= LAST_DAY else None


@dataclass(frozen=True)
class Filters:
    """What the admin asked to see: a date range (their zone), an outcome and a mode."""

    first: date | None = None
    last: date | None = None
    outcome: str = ""
    mode: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """Filters from a query string; unknown values are ignored."""
        outcome = args.get("outcome", "")
        mode = args.get("mode", "")
        return cls(
            first=_day(args.get("from")),
            last=_day(args.get("to")),
            outcome=outcome if outcome in dict(outcome_choices()) else "",
            mode=mode if mode in MODE_LABELS else "",
        )

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for links and the export)."""
        found = {"from": self.first, "to": self.last, "outcome": self.outcome, "mode": self.mode}
        return {name: str(value) for name, value in found.items() if value}

    def query(self) -> Select:
        """Calls matching the filters, newest first."""
        query = select(Call).order_by(Call.arrived_at.desc(), Call.id.desc())
        if self.first:
            query = query.where(Call.arrived_at >= zones.day_bounds(self.first, self.first)[0])
        if self.last:
            query = query.where(Call.arrived_at < zones.day_bounds(self.last, self.last)[1])
        if self.outcome:
            query = query.where(Call.outcome == self.outcome)
        if self.mode:
            query = query.where(Call.mode == self.mode)
        return query


def talk_seconds(call_ids: Iterable[int]) -> dict[int, int]:
    """Seconds each call spent in conversations that met (both people present)."""
    ids = list(call_ids)
    totals = dict.fromkeys(ids, 0)
    if not ids:
        return totals
    rows = db.session.execute(
        select(Participant.call_id, Conversation.started_at, Conversation.ended_at)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(Participant.call_id.in_(ids), Conversation.started_at.is_not(None))
    )
    for call_id, started, ended in rows:
        if ended is not None:
            totals[call_id] += int((ended - started).total_seconds())
    return totals


def csv_lines(filters: Filters, chunk: int = 500) -> Iterator[str]:
    """The filtered log as CSV text, a chunk of calls at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while batch := db.session.scalars(filters.query().offset(offset).limit(chunk)).all():
        talked = talk_seconds(c.id for c in batch)
        for call in batch:
            writer.writerow(_csv_row(call, talked[call.id]))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        offset += chunk
    yield buffer.getvalue()


def _csv_row(call: Call, talked: int) -> list:
    wait = call.wait_seconds
    return [
        call.id,
        zones.local(call.arrived_at, "%Y-%m-%dT%H:%M:%S%z"),
        call.masked_number,
        call.country or "",
        call.mode,
        call.outcome or "",
        "" if wait is None else round(wait),
        talked,
        "" if call.duration_seconds is None else call.duration_seconds,
    ]
