"""Line health: what is happening right now, today's summary, and the charts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import i18n
from app.admin import bp, stats, zones
from app.billing import membership as billing
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import FusingGuest, GuestState
from app.fusing.schedule import spoken_when
from app.line import pool, purges
from app.line.models import Call, Conversation, Outcome
from app.settings import settings
from app.sms import subscribers, waves
from app.sms.models import TextKind, TextMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusingStatus:
    """The Fusing Hour now: running with its guests, or when the next one is."""

    running: bool
    guests: int = 0
    ends_at: object = None
    next_at: object = None
    next_spoken: str | None = None


def waiting_now() -> dict[str, int] | None:
    """Callers in the waiting pool by language, or None when Redis cannot be reached."""
    try:
        counts = pool.waiting_by_language()
        return {code: counts.get(code, 0) for code in i18n.offered()}
    except Exception:  # noqa: BLE001 - the dashboard still shows the database's view
        log.warning("the waiting pool could not be read")
        return None


def talking_now() -> int:
    """Conversations that started and have not ended (ignoring any past the time limit)."""
    limit = settings.CONVERSATION_LIMIT_SECONDS + 300
    return db.session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.started_at.is_not(None),
            Conversation.ended_at.is_(None),
            Conversation.started_at > utcnow() - timedelta(seconds=limit),
        )
    )


def fusing_status() -> FusingStatus:
    """The running session and its guests, else the next session (without creating rows)."""
    now = utcnow()
    occurrence = sessions.running_occurrence(now)
    session = sessions.session_at(occurrence.starts_at) if occurrence else None
    if session is not None and session.closed_at is None:
        guests = db.session.scalar(
            select(func.count())
            .select_from(FusingGuest)
            .where(FusingGuest.session_id == session.id, FusingGuest.state != GuestState.GONE)
        )
        return FusingStatus(True, guests=guests, ends_at=session.ends_at)
    upcoming = sessions.upcoming(now)
    if upcoming is None:
        return FusingStatus(False)
    return FusingStatus(False, next_at=upcoming.starts_at, next_spoken=spoken_when(upcoming, now))


def today_summary() -> dict:
    """Calls since local midnight: how many, how many met someone."""
    start, _ = zones.day_bounds(zones.today(), zones.today())
    rows = db.session.execute(
        select(Call.outcome, func.count()).where(Call.arrived_at >= start).group_by(Call.outcome)
    ).all()
    counts = {outcome: n for outcome, n in rows}
    return {"calls": sum(counts.values()), "paired": counts.get(Outcome.PAIRED, 0)}


@dataclass(frozen=True)
class WaveWarning:
    """A reminder wave of the next Fusing Hour whose last texts would leave after it is due."""

    wave: waves.Wave
    starts: datetime  # the soonest the line can start it
    last_leaves: datetime
    rate: float  # segments a second

    @property
    def label(self) -> str:
        """'24-hour', '15-minute': which reminder this is."""
        minutes = self.wave.offset_minutes
        if minutes % 60 == 0:
            return _("%(num)d-hour", num=minutes // 60)
        return _("%(num)d-minute", num=minutes)

    @property
    def late(self) -> bool:
        """Whether it fits, but should have started already."""
        return self.wave.fits


def wave_warnings(now: datetime | None = None) -> list[WaveWarning]:
    """The next Fusing Hour's reminder waves that will not all leave Twilio in time, before
    they start: one too big for its window at the sender's rate, or one starting late."""
    now = now or utcnow()
    occurrence = sessions.upcoming(now)
    if occurrence is None:
        return []
    found = []
    for wave in waves.plan(occurrence, subscribers.active_by_zone_and_language()):
        if now >= wave.due or not wave.texts or _started(occurrence.starts_at, wave):
            continue
        starts = max(wave.begins, now)
        if wave.finishes(starts) > wave.due:
            rate = settings.SMS_SEGMENTS_PER_SECOND
            found.append(WaveWarning(wave, starts, wave.finishes(starts), rate))
    return found


def _started(session_starts_at: datetime, wave: waves.Wave) -> bool:
    planned = select(TextMessage.id).where(
        TextMessage.kind == TextKind.REMINDER,
        TextMessage.session_starts_at == session_starts_at,
        TextMessage.offset_minutes == wave.offset_minutes,
    )
    return db.session.scalar(planned.limit(1)) is not None


@bp.get("/")
def dashboard():
    """Line health at a glance, with charts over the chosen period."""
    period = stats.PERIODS.get(request.args.get("period", ""), stats.PERIODS["7d"])
    language = i18n.valid(request.args.get("language"))
    return render_template(
        "admin/dashboard.html",
        waiting=waiting_now(),
        talking=talking_now(),
        fusing=fusing_status(),
        today=today_summary(),
        members=billing.counts(),
        subscribers=subscribers.active_count(),
        purges=purges.pending(),
        wave_warnings=wave_warnings(),
        period=period,
        periods=stats.PERIODS.values(),
        charts=stats.chart_data(period, language),
        language=language,
    )
