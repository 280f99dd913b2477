"""The line's pace: how many calls came lately, and so how long a caller left alone should wait
for a peer before a volunteer listener is rung for them.

Waiting LISTENER_AFTER_SECONDS for a peer is worth it only when one is likely to come. With
calls arriving at random at n an hour, the chance that one comes within t seconds is
1 - exp(-n t / 3600): within 45 s, 22% at 20 calls an hour, 2.5% at the 2 an hour of a
quiet night. Below LISTENER_AT_ONCE_BELOW calls in the last PACE_WINDOW_MINUTES, the listener
is rung as soon as the wait begins; a peer who comes meanwhile still takes the caller first.

The count is of calls that came to be paired and asked to (they waited, or were paired at
once; not a turn-away, a hang-up at the greeting, the Fusing Hour's or a listener's), read
from the database, so every host counts the same calls; each process keeps it for a 3600th of
the window (a second of an hour), as a wait may begin many times a second, and a crowd that
comes after a quiet hour should not have a listener rung for each of its first waits for long.
"""

from __future__ import annotations

from datetime import timedelta
from time import monotonic

from flask import current_app
from sqlalchemy import func, select

from app.db import db, utcnow
from app.line.models import Call, CallMode
from app.settings import settings

EXTENSION = "mindfuse.pace"
KEPT_FOR = 1 / 3600  # of the window: how long a process keeps a count it read


def _window() -> timedelta:
    return timedelta(minutes=settings.PACE_WINDOW_MINUTES)


def recent_calls() -> int:
    """Calls that arrived within PACE_WINDOW_MINUTES and waited to be paired (as read at most
    a 3600th of the window ago by this process)."""
    window = _window()
    now = monotonic()
    kept = current_app.extensions.get(EXTENSION)
    if kept is not None and kept[0] > now:
        return kept[1]
    count = db.session.scalar(
        select(func.count())
        .select_from(Call)
        .where(
            Call.arrived_at >= utcnow() - window,
            Call.mode == CallMode.PAIRING,
            Call.wait_started_at.is_not(None),  # waited, or was paired at once
        )
    )
    current_app.extensions[EXTENSION] = (now + window.total_seconds() * KEPT_FOR, count)
    return count


def listener_after_seconds() -> float:
    """Seconds a caller waits alone before a listener is rung: none while the pace is below
    LISTENER_AT_ONCE_BELOW calls in the window (a peer would seldom come), else
    LISTENER_AFTER_SECONDS."""
    slow = settings.LISTENER_AT_ONCE_BELOW
    if slow and recent_calls() < slow:
        return 0.0
    return settings.LISTENER_AFTER_SECONDS
