"""When the Fusing Hour happens: the weekly rule, extras and cancellations, in local time."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app import i18n
from app.fusing import spoken

# next_occurrence gives up after this long: a rule always recurs weekly, so only a
# pathological cancellation list could exhaust it.
HORIZON = timedelta(days=400)


def _zone(name: str) -> ZoneInfo:
    """The IANA zone called name, or ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {name!r}") from exc


def _aware(moment: datetime, what: str = "datetime") -> datetime:
    """moment converted to UTC; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware: {moment!r}")
    return moment.astimezone(UTC)


def _check_local_time(start: time) -> None:
    if start.tzinfo is not None:
        raise ValueError(f"start must be a naive local wall-clock time: {start!r}")


def _localize(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the wall clock in zone shows start on day."""
    # fold=0 gives PEP 495's rule: an ambiguous (repeated) time takes its first
    # occurrence, and a time inside a spring-forward gap is read with the offset from
    # before the switch, which moves it forward by the gap (02:30 -> 03:30 in Berlin).
    local = datetime.combine(day, start.replace(fold=0), tzinfo=zone)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Rule:
    """The weekly rule: a weekday and local time in an IANA zone."""

    weekday: int
    start: time
    tz: str
    duration: timedelta = timedelta(minutes=60)
    round_length: timedelta = timedelta(minutes=12)
    gap: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday): {self.weekday}")
        _check_local_time(self.start)
        _zone(self.tz)
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        if self.round_length <= timedelta(0):
            raise ValueError("round_length must be positive")
        if not timedelta(0) <= self.gap < self.round_length:
            raise ValueError("gap must be at least zero and shorter than a round")


@dataclass(frozen=True)
class Extra:
    """A one-off session on a local date, in the rule's zone."""

    day: date
    start: time
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        _check_local_time(self.start)
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("duration must be positive")


@dataclass(frozen=True)
class Occurrence:
    """One concrete Fusing Hour, in UTC, with the zone it is spoken in."""

    starts_at: datetime
    ends_at: datetime
    tz: str
    round_length: timedelta
    gap: timedelta
    is_extra: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise to UTC so comparisons and stored values never depend on the caller's offset.
        object.__setattr__(self, "starts_at", _aware(self.starts_at, "starts_at"))
        object.__setattr__(self, "ends_at", _aware(self.ends_at, "ends_at"))
        if self.ends_at <= self.starts_at:
            raise ValueError("an occurrence must end after it starts")
        if self.round_length <= timedelta(0):
            raise ValueError("round_length must be positive")

    def local_start(self) -> datetime:
        """The start as the session's own wall clock shows it."""
        return self.starts_at.astimezone(_zone(self.tz))

    def round_starts(self) -> list[datetime]:
        """UTC starts of the rounds; a remainder under half a round joins the last one."""
        duration = self.ends_at - self.starts_at
        full, remainder = divmod(duration, self.round_length)
        count = max(1, full + (1 if remainder * 2 >= self.round_length else 0))
        return [self.starts_at + i * self.round_length for i in range(count)]

    def round_at(self, moment: datetime) -> int | None:
        """Index of the round running at moment, or None outside the occurrence."""
        moment = _aware(moment, "moment")
        if not self.starts_at <= moment < self.ends_at:
            return None
        return bisect.bisect_right(self.round_starts(), moment) - 1

    def round_end(self, index: int) -> datetime:
        """UTC end of round index: the next round's start, or the end of the occurrence."""
        starts = self.round_starts()
        if not 0 <= index < len(starts):
            raise IndexError(f"no round {index}; this occurrence has {len(starts)}")
        return starts[index + 1] if index + 1 < len(starts) else self.ends_at

    def warning_at(self, index: int) -> datetime:
        """UTC moment to announce that round index is about to end."""
        return max(self.round_end(index) - self.gap, self.round_starts()[index])


def _rule_occurrence(rule: Rule, day: date, zone: ZoneInfo) -> Occurrence:
    starts_at = _localize(day, rule.start, zone)
    # Durations are elapsed time: adding in UTC keeps a 60-minute hour 60 real minutes
    # even when the clocks change inside it.
    return Occurrence(starts_at, starts_at + rule.duration, rule.tz, rule.round_length, rule.gap)


def _extra_occurrence(rule: Rule, extra: Extra, zone: ZoneInfo) -> Occurrence:
    starts_at = _localize(extra.day, extra.start, zone)
    duration = extra.duration if extra.duration is not None else rule.duration
    return Occurrence(
        starts_at, starts_at + duration, rule.tz, rule.round_length, rule.gap, is_extra=True
    )


def occurrences(
    rule: Rule,
    after: datetime,
    until: datetime,
    extras: Iterable[Extra] = (),
    cancelled: Iterable[date] = (),
) -> list[Occurrence]:
    """Occurrences not ended by after and starting before until, sorted by start."""
    after, until = _aware(after, "after"), _aware(until, "until")
    zone = _zone(rule.tz)
    extras = tuple(extras)
    skipped = set(cancelled)

    found: dict[datetime, Occurrence] = {}
    # Walk local dates, not UTC ones: the rule is a local weekday. Start early enough to
    # catch an occurrence that began before `after` and is still running; the spare day
    # on each side covers starts pushed across midnight by a DST gap.
    longest = max([rule.duration, *(e.duration for e in extras if e.duration)])
    day = (after - longest).astimezone(zone).date() - timedelta(days=1)
    day += timedelta(days=(rule.weekday - day.weekday()) % 7)
    last = until.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if day not in skipped:
            occ = _rule_occurrence(rule, day, zone)
            found[occ.starts_at] = occ
        day += timedelta(days=7)
    for extra in extras:
        # Cancellation applies to rule dates only; an extra on the same start replaces the
        # rule's occurrence (two sessions cannot start at the same instant).
        occ = _extra_occurrence(rule, extra, zone)
        found[occ.starts_at] = occ

    chosen = [o for o in found.values() if o.ends_at > after and o.starts_at < until]
    return sorted(chosen, key=lambda o: (o.starts_at, o.ends_at))


def current_occurrence(
    rule: Rule, now: datetime, extras: Iterable[Extra] = (), cancelled: Iterable[date] = ()
) -> Occurrence | None:
    """The occurrence running at now (starts_at <= now < ends_at); the earliest if several."""
    now = _aware(now, "now")
    running = occurrences(rule, now, now + timedelta(microseconds=1), extras, cancelled)
    return running[0] if running else None


def next_occurrence(
    rule: Rule, now: datetime, extras: Iterable[Extra] = (), cancelled: Iterable[date] = ()
) -> Occurrence | None:
    """The first occurrence starting strictly after now, or None within the horizon."""
    now = _aware(now, "now")
    extras, cancelled = tuple(extras), tuple(cancelled)
    # A short window answers almost every call; the long one only matters when many
    # weeks in a row are cancelled.
    for window in (timedelta(days=15), HORIZON):
        later = [
            o for o in occurrences(rule, now, now + window, extras, cancelled) if o.starts_at > now
        ]
        if later:
            return later[0]
    return None


# Generic names (the same all year), as a caller would say them. Keyed by the zone's
# abbreviation; zones whose abbreviation is ambiguous or numeric are named by key.
_NAMES_BY_ZONE = {
    "Europe/London": "UK time",
    "Europe/Dublin": "Irish time",
    "Asia/Kolkata": "India Standard Time",
    "Asia/Calcutta": "India Standard Time",
    "Asia/Shanghai": "China Standard Time",
    "Asia/Jerusalem": "Israel time",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}
_NAMES_BY_ABBREVIATION = {
    abbreviation: name
    for name, abbreviations in {
        "Central European Time": "CET CEST",
        "Eastern European Time": "EET EEST",
        "Western European Time": "WET WEST",
        "Moscow Time": "MSK",
        "Japan Time": "JST",
        "Korea Time": "KST",
        "Hong Kong Time": "HKT",
        "South Africa Time": "SAST",
        "Australian Eastern Time": "AEST AEDT",
        "Australian Central Time": "ACST ACDT",
        "Australian Western Time": "AWST",
        "New Zealand Time": "NZST NZDT",
    }.items()
    for abbreviation in abbreviations.split()
}
# North American abbreviations clash with others (CST is also China), so only trust
# them for zones in the Americas.
_AMERICAN_NAMES = {
    abbreviation: name
    for name, abbreviations in {
        "Eastern Time": "EST EDT",
        "Central Time": "CST CDT",
        "Mountain Time": "MST MDT",
        "Pacific Time": "PST PDT",
        "Alaska Time": "AKST AKDT",
        "Hawaii Time": "HST",
    }.items()
    for abbreviation in abbreviations.split()
}
_AMERICAS = ("America/", "US/", "Canada/", "Pacific/Honolulu")


def spoken_zone(tz: str, at: datetime) -> str:
    """The zone's name as said aloud, e.g. 'Central European Time' or 'Sao Paulo time'."""
    if tz in _NAMES_BY_ZONE:
        return _NAMES_BY_ZONE[tz]
    abbreviation = _aware(at).astimezone(_zone(tz)).tzname() or ""
    if abbreviation in _NAMES_BY_ABBREVIATION:
        return _NAMES_BY_ABBREVIATION[abbreviation]
    if tz.startswith(_AMERICAS) and abbreviation in _AMERICAN_NAMES:
        return _AMERICAN_NAMES[abbreviation]
    city = tz.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city} time"


# Spelled out rather than strftime("%A"), which follows the process locale.
# fmt: off
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# fmt: on


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _spoken_clock(local: datetime) -> str:
    """'at noon', 'at midnight', 'at 10 in the morning', 'at 7:30 in the evening'."""
    if (local.hour, local.minute) == (0, 0):
        return "at midnight"
    if (local.hour, local.minute) == (12, 0):
        return "at noon"
    hour = local.hour % 12 or 12
    clock = f"{hour}" if local.minute == 0 else f"{hour}:{local.minute:02d}"
    if local.hour < 12:
        part = "in the morning"
    elif local.hour < 18:
        part = "in the afternoon"
    elif local.hour < 21:
        part = "in the evening"
    else:
        part = "at night"
    return f"at {clock} {part}"


def spoken_when(occurrence: Occurrence, now: datetime) -> str:
    """When the occurrence starts, as the line says it in the session's own zone."""
    local = occurrence.local_start()
    today = _aware(now, "now").astimezone(local.tzinfo).date()
    days = (local.date() - today).days
    if (code := i18n.current()) != "en":  # in the language being spoken
        return (
            spoken.SPOKEN[code](local, days)
            if code in spoken.SPOKEN
            else spoken.generic(local, code)
        )
    weekday = _WEEKDAYS[local.weekday()]
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif 1 < days < 7:  # a week ahead would be the same weekday as today
        day = f"this {weekday}"
    else:
        day = f"on {weekday} the {_ordinal(local.day)} of {_MONTHS[local.month - 1]}"
    zone = spoken_zone(occurrence.tz, occurrence.starts_at)
    return f"{day} {_spoken_clock(local)}, {zone}"
