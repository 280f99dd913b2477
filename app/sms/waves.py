"""Reminder waves: what each reminder says, and when a wave starts so that its last text leaves
Twilio by the time it is due.

Twilio sends a sender's texts one segment at a time at the sender's rate (one a second for a
long code) and queues the rest (docs/providers.md, "Messaging"). A wave of N reminders of s
segments therefore takes N·s / SMS_SEGMENTS_PER_SECOND seconds however fast the line hands
them over, so it starts that long before it is due, plus a margin. It never starts before
the reminder before it is due (nor the first one more than its own lead early): two waves
would share the one sender, and reminders would arrive out of order. A wave that needs more
time than that does not fit, and the admin dashboard says so before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app import i18n
from app.fusing.schedule import Occurrence, spoken_when
from app.settings import settings
from app.sms import texts

MARGIN = timedelta(minutes=1)  # the planner runs once a minute
SLACK = 0.1  # a tenth more time than the rate says: the rate is Twilio's, not the line's


@dataclass(frozen=True)
class Wave:
    """One reminder wave of a Fusing Hour: due when its last text must have left."""

    offset_minutes: int
    due: datetime
    sending: timedelta  # how long its texts take at the sender's rate
    earliest: datetime  # it does not start before this
    texts: int

    @property
    def needed(self) -> timedelta:
        """How long before it is due the wave must start."""
        return self.sending * (1 + SLACK) + MARGIN

    @property
    def begins(self) -> datetime:
        """When the line starts it: early enough to finish by `due`, if it fits."""
        return max(self.earliest, self.due - self.needed)

    @property
    def fits(self) -> bool:
        """Whether every text of the wave can leave between `earliest` and `due`."""
        return self.due - self.needed >= self.earliest

    def finishes(self, starting: datetime) -> datetime:
        """When its last text leaves if it starts at `starting`."""
        return starting + self.sending * (1 + SLACK)


def missed(session_starts_at: datetime, minutes: int, now: datetime) -> bool:
    """Whether a reminder is too late to send: past its due time by half its lead or more."""
    return now >= session_starts_at - timedelta(minutes=minutes) + timedelta(minutes=minutes / 2)


def reminder(occurrence: Occurrence, zone: str, minutes: int, now: datetime) -> str:
    """The reminder `minutes` before the occurrence, as a subscriber in `zone` reads it."""
    local = replace(occurrence, tz=zone)  # the same moment, said in the subscriber's own zone
    due = occurrence.starts_at - timedelta(minutes=minutes)
    # Worded as of when it leaves, or when it was due if later: a wave that starts early
    # still says the right day, and a text a little late still says "tomorrow".
    return texts.REMINDER.format(
        when=spoken_when(local, min(now, due)), line=settings.TWILIO_PHONE_NUMBER
    )


def _segments(occurrence: Occurrence, group: str | tuple[str, str | None], minutes, due) -> int:
    """The segments of one reminder to a subscriber in `group`: a zone, or (zone, language)."""
    zone, language = group if isinstance(group, tuple) else (group, None)
    with i18n.speaking(language):  # a German reminder is longer than an English one
        return texts.segments(reminder(occurrence, zone, minutes, due))


def plan(occurrence: Occurrence, by_zone: dict) -> list[Wave]:
    """The waves of an occurrence for these active subscribers (how many in each zone, or in
    each (zone, language))."""
    rate = settings.SMS_SEGMENTS_PER_SECOND
    waves: list[Wave] = []
    earliest: datetime | None = None
    for minutes in sorted(set(settings.REMINDER_OFFSETS_MINUTES), reverse=True):
        due = occurrence.starts_at - timedelta(minutes=minutes)
        segments = sum(
            count * _segments(occurrence, group, minutes, due) for group, count in by_zone.items()
        )
        first = due - timedelta(minutes=minutes)
        sending = timedelta(seconds=segments / rate)
        waves.append(Wave(minutes, due, sending, earliest or first, sum(by_zone.values())))
        earliest = due
    return waves
