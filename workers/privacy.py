"""No history: finish each call's record, note it for deletion at Twilio, age old rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import delete, select

from app.db import db, utcnow
from app.line import purges
from app.line.calls import record
from app.line.models import Block, Call, Conversation, DailyStats, RecordKind, Report, Step
from app.listeners.models import ListenerOffer
from app.settings import settings
from app.sms.models import TextMessage, UnknownTextReply

BATCH = 2000


def after_call(call_id: int) -> str:
    """After a call completes: confirm it is masked, and note its record for deletion at
    Twilio (workers.purges asks until Twilio deletes it)."""
    call = db.session.get(Call, call_id)
    if call is None:
        return "gone"
    if call.masked_at is None:
        # The line only ever stored the HMAC identity and the masked form; this marks it checked.
        call.masked_at = utcnow()
        record(call, Step.MASKED)
        db.session.commit()
    if not settings.PURGE_TWILIO_RECORDS or call.purged_at is not None:
        return "masked"
    purges.schedule(call.sid, RecordKind.CALL)
    return "purge scheduled"


def purge_old() -> int:
    """Fold calls older than RETENTION_DAYS into daily counts and delete them; returns how many.
    Conversations, reports, ended blocks, texts and listener offers as old go too."""
    cutoff = utcnow() - timedelta(days=settings.RETENTION_DAYS)
    removed = 0
    while batch := db.session.scalars(
        select(Call).where(Call.arrived_at < cutoff).order_by(Call.id).limit(BATCH)
    ).all():
        _fold_into_stats(batch)
        db.session.execute(delete(Call).where(Call.id.in_([c.id for c in batch])))
        db.session.commit()  # counts and deletion together: a rerun never counts twice
        removed += len(batch)
    db.session.execute(delete(Conversation).where(Conversation.created_at < cutoff))
    db.session.execute(delete(Report).where(Report.created_at < cutoff))
    db.session.execute(delete(Block).where(Block.expires_at < cutoff))
    db.session.execute(delete(ListenerOffer).where(ListenerOffer.started_at < cutoff))
    db.session.execute(delete(TextMessage).where(TextMessage.created_at < cutoff))
    yesterday = utcnow().date() - timedelta(days=1)
    db.session.execute(delete(UnknownTextReply).where(UnknownTextReply.day < yesterday))
    db.session.commit()
    return removed


def _fold_into_stats(calls: list[Call]) -> None:
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for call in calls:
        key = (call.arrived_at.date(), call.mode, call.outcome or "unknown")
        totals[key][0] += 1
        totals[key][1] += int(call.wait_seconds or 0)
        totals[key][2] += call.duration_seconds or 0
    for (day, mode, outcome), (count, waited, talked) in totals.items():
        stats = db.session.scalar(
            select(DailyStats).where(
                DailyStats.day == day, DailyStats.mode == mode, DailyStats.outcome == outcome
            )
        )
        if stats is None:
            stats = DailyStats(
                day=day, mode=mode, outcome=outcome, calls=0, wait_seconds=0, call_seconds=0
            )
            db.session.add(stats)
        stats.calls += count
        stats.wait_seconds += waited
        stats.call_seconds += talked
