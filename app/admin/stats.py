"""Line health figures for the charts: volume, waits, outcomes, conversations, attendance."""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import i18n
from app.admin import zones
from app.admin.labels import outcome_label
from app.db import db, utcnow
from app.fusing.models import FusingGuest, FusingSession
from app.line.models import Call, Conversation, DailyStats, Outcome, Participant, waited

LENGTH_BINS = ((60, "< 1 min"), (300, "1–5 min"), (600, "5–10 min"), (1200, "10–20 min"))
LENGTH_BINS += ((1800, "20–30 min"), (math.inf, "30+ min"))
SHARE_GROUPS = (Outcome.PAIRED, Outcome.TIMED_OUT, Outcome.HUNG_UP_WAITING)


@dataclass(frozen=True)
class Period:
    """A chart period: how far back, and whether it is counted per hour or per day."""

    key: str
    label: str
    days: int
    hourly: bool = False


PERIODS = {
    p.key: p
    for p in (
        Period("24h", _l("Last 24 hours"), 1, hourly=True),
        Period("7d", _l("Last 7 days"), 7),
        Period("30d", _l("Last 30 days"), 30),
        Period("90d", _l("Last 90 days"), 90),
        Period("365d", _l("Last 12 months"), 365),
    )
}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def _buckets(period: Period) -> list[datetime]:
    """UTC starts of the period's buckets: hours, or local midnights."""
    if period.hourly:
        top = utcnow().replace(minute=0, second=0, microsecond=0)
        return [top - timedelta(hours=h) for h in range(23, -1, -1)]
    today, tz = zones.today(), zones.zone()
    days = [today - timedelta(days=d) for d in range(period.days - 1, -1, -1)]
    return [datetime.combine(d, time(), tzinfo=tz).astimezone(UTC) for d in days]


def _index(starts: list[datetime], moment: datetime) -> int | None:
    found = bisect.bisect_right(starts, moment) - 1
    return found if found >= 0 else None


def _label(group: str) -> str:
    return str(_l("Other")) if group == "other" else outcome_label(group)


def _group(outcome: str | None) -> str:
    return outcome if outcome in SHARE_GROUPS else "other"


def chart_data(period: Period, language: str | None = None) -> dict:
    """Everything the dashboard charts draw, as JSON-ready lists: of one language's calls,
    or of all (with the calls of each language side by side)."""
    starts = _buckets(period)
    fmt = "%H:%M" if period.hourly else "%d %b"
    volume = {g: [0] * len(starts) for g in (*SHARE_GROUPS, "other")}
    by_language = {code: [0] * len(starts) for code in i18n.offered()}
    waits: list[list[float]] = [[] for _ in starts]
    share: Counter[str] = Counter()
    query = select(
        Call.arrived_at,
        Call.outcome,
        Call.wait_started_at,
        Call.wait_ended_at,
        Call.earlier_wait_seconds,
        Call.language,
    ).where(Call.arrived_at >= starts[0])
    if language:
        query = query.where(Call.language == language)
    for arrived, outcome, waited_from, wait_ended, earlier, spoken in db.session.execute(query):
        i = _index(starts, arrived)
        if i is None:
            continue
        volume[_group(outcome)][i] += 1
        by_language.setdefault(spoken, [0] * len(starts))[i] += 1
        share[_group(outcome)] += 1
        seconds = waited(waited_from, wait_ended, earlier)
        if seconds is not None:
            waits[i].append(seconds)
    retained = False if language else _retained(period, starts, volume, share)
    names = {code: row.name for code, row in i18n.LANGUAGES.items()}
    return {
        "labels": [zones.local(s, fmt) for s in starts],
        "volume": [[_label(g), v] for g, v in volume.items()],
        "volume_keys": list(volume),  # the outcome groups, for the colours
        "languages": [[names.get(c, c), v] for c, v in by_language.items()],
        "p50": [percentile(w, 0.5) for w in waits],
        "p90": [percentile(w, 0.9) for w in waits],
        "share": [[_label(g), share[g]] for g in (*SHARE_GROUPS, "other") if share[g]],
        "share_keys": [g for g in (*SHARE_GROUPS, "other") if share[g]],
        "lengths": list(_lengths(starts[0], language).items()),
        "attendance": list(_attendance(starts[0], language).items()),
        "retained": retained,
        "total": sum(share.values()),
        "words": {
            "seconds": str(_l("seconds")),
            "conversations": str(_l("Conversations")),
            "guests": str(_l("Guests")),
        },
    }


def _retained(period: Period, starts: list[datetime], volume: dict, share: Counter) -> bool:
    """Add the daily counts kept for days older than the raw calls; whether there were any."""
    if period.hourly:
        return False
    oldest = db.session.scalar(select(func.min(Call.arrived_at)))
    first_raw = zones.local(oldest, "%Y-%m-%d") if oldest else None
    days = [zones.local(s, "%Y-%m-%d") for s in starts]
    query = select(DailyStats.day, DailyStats.outcome, func.sum(DailyStats.calls)).where(
        DailyStats.day >= date.fromisoformat(days[0])
    )
    used = False
    for day, outcome, calls in db.session.execute(
        query.group_by(DailyStats.day, DailyStats.outcome)
    ):
        text = day.isoformat()
        if text in days and (first_raw is None or text < first_raw):
            volume[_group(outcome)][days.index(text)] += calls
            share[_group(outcome)] += calls
            used = True
    return used


def _lengths(since: datetime, language: str | None = None) -> dict[str, int]:
    counts = dict.fromkeys((label for _, label in LENGTH_BINS), 0)
    query = select(Conversation.started_at, Conversation.ended_at).where(
        Conversation.started_at >= since, Conversation.ended_at.is_not(None)
    )
    if language:  # the two people of a conversation share its language
        spoken = select(Participant.conversation_id).join(Call, Call.id == Participant.call_id)
        query = query.where(Conversation.id.in_(spoken.where(Call.language == language)))
    rows = db.session.execute(query)
    for started, ended in rows:
        seconds = (ended - started).total_seconds()
        label = next(label for limit, label in LENGTH_BINS if seconds < limit)
        counts[label] += 1
    return counts


def _attendance(since: datetime, language: str | None = None) -> dict[str, int]:
    guests = FusingGuest.session_id == FusingSession.id
    if language:
        guests &= FusingGuest.call_id.in_(select(Call.id).where(Call.language == language))
    rows = db.session.execute(
        select(FusingSession.starts_at, func.count(func.distinct(FusingGuest.call_id)))
        .join(FusingGuest, guests, isouter=True)
        .where(FusingSession.starts_at >= since)
        .group_by(FusingSession.id, FusingSession.starts_at)
        .order_by(FusingSession.starts_at)
    )
    return {zones.local(starts_at, "%d %b %H:%M"): guests for starts_at, guests in rows}
