"""Weekly availability read in the listener's own zone, across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.listeners import hours


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_hours_are_read_in_the_listeners_zone():
    weekly = "mon-fri 18:00-22:00"
    # Monday 1 December 2026: 17:30 UTC is 18:30 in Berlin, 12:30 in New York.
    assert hours.available(weekly, "Europe/Berlin", at("2026-11-30T17:30"))
    assert not hours.available(weekly, "America/New_York", at("2026-11-30T17:30"))
    assert not hours.available(weekly, "Europe/Berlin", at("2026-12-05T17:30"))  # Saturday


def test_a_range_past_midnight_runs_into_the_next_day_and_the_week_wraps():
    weekly = "sun 22:00-02:00"
    assert hours.available(weekly, "UTC", at("2026-12-06T23:00"))  # Sunday night
    assert hours.available(weekly, "UTC", at("2026-12-07T01:59"))  # Monday early
    assert not hours.available(weekly, "UTC", at("2026-12-07T02:00"))
    assert hours.available("sat-mon 09:00-10:00", "UTC", at("2026-12-07T09:30"))  # Monday


def test_the_end_of_a_day_and_summer_time():
    assert hours.available("mon 00:00-24:00", "UTC", at("2026-11-30T23:59"))
    # 10:30 UTC on Monday 29 June 2026 is 12:30 in Berlin's summer time.
    assert hours.available("mon 12:00-13:00", "Europe/Berlin", at("2026-06-29T10:30"))
    assert not hours.available("mon 12:00-13:00", "Europe/Berlin", at("2026-06-29T11:30"))


@pytest.mark.parametrize("text", ["", "monday 10:00-12:00", "mon 25:00-26:00", "mon 10:60-11:00"])
def test_hours_not_understood_are_refused(text):
    with pytest.raises(ValueError):
        hours.parse(text)


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError):
        hours.zone("Mars/Olympus")
