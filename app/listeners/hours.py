"""Weekly availability, in a listener's own time zone: "mon-fri 18:00-22:00, sun 09:00-12:00".

Each entry is a day or a range of days and a time range; a range may run past midnight
("fri 22:00-02:00" is Friday night into Saturday) and "24:00" is the end of a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ENTRY = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}):(?P<sm>\d{2})-(?P<end>\d{1,2}):(?P<em>\d{2})$"
)
WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class Span:
    """Minutes of the week (Monday 00:00 is 0) a listener is available: [start, end)."""

    start: int
    end: int


def parse(text: str) -> list[Span]:
    """The spans of a weekly availability; ValueError saying which entry is not understood."""
    spans = []
    for entry in (e.strip().lower() for e in re.split(r"[,;\n]", text)):
        if not entry:
            continue
        found = ENTRY.match(re.sub(r"\s+", " ", entry))
        if not found or found["first"] not in DAYS or (found["last"] or "mon") not in DAYS:
            raise ValueError(_l("not understood: %(entry)s", entry=repr(entry)))
        start = int(found["start"]) * 60 + int(found["sm"])
        end = int(found["end"]) * 60 + int(found["em"])
        if start >= 24 * 60 or end > 24 * 60 or int(found["sm"]) > 59 or int(found["em"]) > 59:
            raise ValueError(_l("not a time of day: %(entry)s", entry=repr(entry)))
        if end <= start:  # past midnight, into the next day
            end += 24 * 60
        first = DAYS.index(found["first"])
        last = DAYS.index(found["last"] or found["first"])
        for day in range(first, (last if last >= first else last + 7) + 1):
            base = (day % 7) * 24 * 60
            spans.append(Span(base + start, base + end))
    if not spans:
        raise ValueError(_l("no hours given"))
    return spans


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of this name; ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(_l("not a time zone: %(name)s", name=repr(name))) from error


def available(text: str, zone_name: str, moment: datetime) -> bool:
    """Whether the hours include this moment, read in the listener's own zone."""
    local = moment.astimezone(zone(zone_name))
    minute = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
    return any(s.start <= m < s.end for s in parse(text) for m in (minute, minute + WEEK))
