"""The Fusing Hour schedule: local time across DST, extras, cancellations, rounds, wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.fusing.schedule import (
    Extra,
    Occurrence,
    Rule,
    _ordinal,
    current_occurrence,
    next_occurrence,
    occurrences,
    spoken_when,
    spoken_zone,
)

SUNDAY = 6
BERLIN = Rule(SUNDAY, time(10, 0), "Europe/Berlin")
MIN = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def starts(rule: Rule, after: datetime, until: datetime, **kw) -> list[datetime]:
    return [o.starts_at for o in occurrences(rule, after, until, **kw)]


def only(rule: Rule, day: date) -> Occurrence:
    """The single occurrence of rule on the local date day."""
    midnight = datetime.combine(day, time(), UTC)
    found = occurrences(rule, midnight - timedelta(days=1), midnight + timedelta(days=2))
    assert len(found) == 1, found
    return found[0]


# --- daylight saving: local wall-clock time is kept ---------------------------------------


def test_berlin_keeps_ten_oclock_across_both_switch_days():
    got = starts(BERLIN, utc(2026, 3, 20), utc(2026, 4, 6))
    assert got == [utc(2026, 3, 22, 9), utc(2026, 3, 29, 8), utc(2026, 4, 5, 8)]
    got = starts(BERLIN, utc(2026, 10, 17), utc(2026, 11, 2))
    assert got == [utc(2026, 10, 18, 8), utc(2026, 10, 25, 9), utc(2026, 11, 1, 9)]
    for occ in occurrences(BERLIN, utc(2026, 3, 1), utc(2026, 11, 30)):
        local = occ.local_start()
        assert (local.weekday(), local.hour, local.minute) == (SUNDAY, 10, 0)
        assert occ.ends_at - occ.starts_at == timedelta(minutes=60)
        assert occ.starts_at.tzinfo is UTC


def test_berlin_nonexistent_start_moves_forward_past_the_gap():
    occ = only(Rule(SUNDAY, time(2, 30), "Europe/Berlin"), date(2026, 3, 29))
    assert occ.starts_at == utc(2026, 3, 29, 1, 30)
    assert occ.local_start().replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


def test_berlin_ambiguous_start_takes_the_first_and_duration_is_elapsed():
    occ = only(Rule(SUNDAY, time(2, 30), "Europe/Berlin"), date(2026, 10, 25))
    assert occ.starts_at == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET
    occ = only(Rule(SUNDAY, time(2, 0), "Europe/Berlin"), date(2026, 10, 25))
    assert occ.ends_at - occ.starts_at == timedelta(minutes=60)
    end = occ.ends_at.astimezone(occ.local_start().tzinfo)
    # 02:00 CEST + 60 real minutes is 02:00 CET, the repeated hour's second pass
    assert (end.hour, end.minute, end.fold) == (2, 0, 1)
    rounds = occ.round_starts()
    assert [b - a for a, b in zip(rounds, rounds[1:], strict=False)] == [12 * MIN] * 4


def test_sydney_other_hemisphere():
    sydney = Rule(SUNDAY, time(10, 0), "Australia/Sydney")
    # DST ends on the first Sunday of April and starts on the first Sunday of October
    got = starts(sydney, utc(2026, 3, 27), utc(2026, 4, 6))
    assert got == [utc(2026, 3, 28, 23), utc(2026, 4, 5, 0)]
    got = starts(sydney, utc(2026, 9, 26), utc(2026, 10, 5))
    assert got == [utc(2026, 9, 27, 0), utc(2026, 10, 3, 23)]
    gap = only(Rule(SUNDAY, time(2, 30), "Australia/Sydney"), date(2026, 10, 4))
    assert gap.starts_at == utc(2026, 10, 3, 16, 30)  # 03:30 AEDT
    repeated = only(Rule(SUNDAY, time(2, 30), "Australia/Sydney"), date(2026, 4, 5))
    assert repeated.starts_at == utc(2026, 4, 4, 15, 30)  # first 02:30, still AEDT


def test_sao_paulo_historical_dst_and_its_midnight_gap():
    sao = Rule(SUNDAY, time(10, 0), "America/Sao_Paulo")
    # Brazil still had DST in 2018 (it started at midnight on 4 November); none now
    assert starts(sao, utc(2018, 10, 27), utc(2018, 11, 5)) == [
        utc(2018, 10, 28, 13),
        utc(2018, 11, 4, 12),
    ]
    assert starts(sao, utc(2026, 1, 1), utc(2026, 1, 12)) == [
        utc(2026, 1, 4, 13),
        utc(2026, 1, 11, 13),
    ]
    midnight = only(Rule(SUNDAY, time(0, 0), "America/Sao_Paulo"), date(2018, 11, 4))
    assert midnight.starts_at == utc(2018, 11, 4, 3)  # 00:00 did not exist: 01:00 -02


def test_tokyo_has_no_dst():
    tokyo = Rule(SUNDAY, time(10, 0), "Asia/Tokyo")
    for occ in occurrences(tokyo, utc(2026, 1, 1), utc(2027, 1, 1)):
        assert (occ.starts_at.hour, occ.starts_at.minute) == (1, 0)
    assert len(occurrences(tokyo, utc(2026, 1, 1), utc(2027, 1, 1))) == 52


# --- the window, extras and cancellations ---------------------------------------------------


def test_window_edges():
    sunday = utc(2026, 12, 6, 9)  # 10:00 CET
    running = starts(BERLIN, sunday + 30 * MIN, sunday + timedelta(days=1))
    assert running == [sunday]  # not ended by `after`: still listed
    assert starts(BERLIN, sunday + 60 * MIN, sunday + timedelta(days=1)) == []
    assert starts(BERLIN, sunday - timedelta(days=1), sunday) == []  # starts at `until`
    assert starts(BERLIN, sunday - timedelta(days=1), sunday + timedelta(microseconds=1)) == [
        sunday
    ]


def test_cancelled_date_removes_only_the_rule_occurrence():
    week = utc(2026, 11, 28), utc(2026, 12, 15)
    assert starts(BERLIN, *week, cancelled=[date(2026, 12, 6)]) == [
        utc(2026, 11, 29, 9),
        utc(2026, 12, 13, 9),
    ]
    extra = Extra(date(2026, 12, 6), time(18, 0))
    got = occurrences(BERLIN, *week, extras=[extra], cancelled=[date(2026, 12, 6)])
    assert [o.starts_at for o in got] == [
        utc(2026, 11, 29, 9),
        utc(2026, 12, 6, 17),
        utc(2026, 12, 13, 9),
    ]
    assert [o.is_extra for o in got] == [False, True, False]


def test_extras_are_sorted_in_and_keep_their_own_duration():
    extras = [
        Extra(date(2026, 7, 1), time(19, 30), duration=timedelta(minutes=90)),
        Extra(date(2026, 6, 30), time(12, 0)),
    ]
    got = occurrences(BERLIN, utc(2026, 6, 27), utc(2026, 7, 6), extras=extras)
    assert [(o.starts_at, o.ends_at - o.starts_at) for o in got] == [
        (utc(2026, 6, 28, 8), 60 * MIN),
        (utc(2026, 6, 30, 10), 60 * MIN),
        (utc(2026, 7, 1, 17, 30), 90 * MIN),
        (utc(2026, 7, 5, 8), 60 * MIN),
    ]
    assert got[2].round_length == BERLIN.round_length and got[2].tz == "Europe/Berlin"


def test_an_extra_at_the_rule_start_replaces_it_instead_of_doubling():
    longer = Extra(date(2026, 12, 6), time(10, 0), duration=timedelta(minutes=90))
    got = occurrences(BERLIN, utc(2026, 12, 5), utc(2026, 12, 7), extras=[longer])
    assert len(got) == 1 and got[0].ends_at == utc(2026, 12, 6, 10, 30)


def test_long_running_extra_started_before_the_window_is_found():
    marathon = Extra(date(2026, 12, 1), time(20, 0), duration=timedelta(hours=30))
    now = utc(2026, 12, 2, 12)
    occ = current_occurrence(BERLIN, now, extras=[marathon])
    assert occ is not None and occ.starts_at == utc(2026, 12, 1, 19)


def test_current_and_next_occurrence():
    start = utc(2026, 12, 6, 9)
    assert current_occurrence(BERLIN, start - timedelta(microseconds=1)) is None
    assert current_occurrence(BERLIN, start).starts_at == start
    assert current_occurrence(BERLIN, start + 59 * MIN).starts_at == start
    assert current_occurrence(BERLIN, start + 60 * MIN) is None
    assert next_occurrence(BERLIN, start - MIN).starts_at == start
    assert next_occurrence(BERLIN, start).starts_at == utc(2026, 12, 13, 9)  # not the running one
    skip = [date(2026, 12, 13), date(2026, 12, 20), date(2026, 12, 27)]
    assert next_occurrence(BERLIN, start, cancelled=skip).starts_at == utc(2027, 1, 3, 9)
    extra = Extra(date(2026, 12, 9), time(20, 0))
    assert next_occurrence(BERLIN, start, extras=[extra]).starts_at == utc(2026, 12, 9, 19)


def test_next_occurrence_none_when_every_date_is_cancelled():
    now = utc(2026, 1, 1)
    every = [date(2026, 1, 4) + timedelta(weeks=n) for n in range(60)]
    assert next_occurrence(BERLIN, now, cancelled=every) is None
    assert next_occurrence(BERLIN, now, cancelled=every[:50]).starts_at.date() == date(2026, 12, 20)


# --- rounds ----------------------------------------------------------------------------------


def occurrence(minutes: int, round_minutes: int, gap_seconds: int = 30) -> Occurrence:
    start = utc(2026, 12, 6, 9)
    return Occurrence(
        start,
        start + minutes * MIN,
        "Europe/Berlin",
        round_minutes * MIN,
        timedelta(seconds=gap_seconds),
    )


def lengths(occ: Occurrence) -> list[int]:
    rounds = occ.round_starts()
    return [(occ.round_end(i) - s) // MIN for i, s in enumerate(rounds)]


@pytest.mark.parametrize(
    ("minutes", "round_minutes", "expected"),
    [
        (60, 12, [12, 12, 12, 12, 12]),
        (60, 25, [25, 35]),  # 10 left is under half a round: merged into the last
        (60, 24, [24, 24, 12]),  # exactly half a round stays its own round
        (60, 16, [16, 16, 16, 12]),
        (60, 20, [20, 20, 20]),
        (10, 12, [10]),  # shorter than a round: one round
    ],
)
def test_round_lengths(minutes, round_minutes, expected):
    assert lengths(occurrence(minutes, round_minutes)) == expected


def test_round_at_edges_and_round_end():
    occ = occurrence(60, 12)
    start = occ.starts_at
    tick = timedelta(microseconds=1)
    assert occ.round_starts() == [start + i * 12 * MIN for i in range(5)]
    assert occ.round_at(start - tick) is None
    assert occ.round_at(start) == 0
    assert occ.round_at(start + 12 * MIN - tick) == 0
    assert occ.round_at(start + 12 * MIN) == 1
    assert occ.round_at(occ.ends_at - tick) == 4
    assert occ.round_at(occ.ends_at) is None
    assert occ.round_end(0) == start + 12 * MIN
    assert occ.round_end(4) == occ.ends_at
    assert occ.warning_at(0) == start + 12 * MIN - timedelta(seconds=30)
    with pytest.raises(IndexError):
        occ.round_end(5)
    with pytest.raises(IndexError):
        occ.round_end(-1)
    merged = occurrence(60, 25)
    assert merged.round_at(start + 50 * MIN) == 1 and merged.round_end(1) == merged.ends_at


# --- validation --------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 12, 6, 9)
    with pytest.raises(ValueError):
        occurrences(BERLIN, naive, utc(2026, 12, 7))
    with pytest.raises(ValueError):
        current_occurrence(BERLIN, naive)
    with pytest.raises(ValueError):
        next_occurrence(BERLIN, naive)
    with pytest.raises(ValueError):
        occurrence(60, 12).round_at(naive)
    with pytest.raises(ValueError):
        spoken_when(occurrence(60, 12), naive)
    with pytest.raises(ValueError):
        Occurrence(naive, utc(2026, 12, 6, 10), "Europe/Berlin", 12 * MIN, MIN)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekday": 7},
        {"tz": "Europe/Atlantis"},
        {"duration": timedelta(0)},
        {"round_length": timedelta(0)},
        {"gap": timedelta(minutes=12)},
        {"start": time(10, 0, tzinfo=UTC)},
    ],
)
def test_bad_rules_are_refused(kwargs):
    values = {"weekday": SUNDAY, "start": time(10), "tz": "Europe/Berlin", **kwargs}
    with pytest.raises(ValueError):
        Rule(**values)


# --- how the line says it ---------------------------------------------------------------------


def test_spoken_when_relative_days():
    occ = only(BERLIN, date(2026, 12, 6))  # Sunday the 6th of December, 10:00 CET
    cet = "at 10 in the morning, Central European Time"
    assert spoken_when(occ, utc(2026, 12, 6, 7)) == f"today {cet}"
    # the day is counted in the session's zone: 23:30 UTC is already Sunday in Berlin
    assert spoken_when(occ, utc(2026, 12, 5, 22, 30)) == f"tomorrow {cet}"
    assert spoken_when(occ, utc(2026, 12, 5, 23, 30)) == f"today {cet}"
    assert spoken_when(occ, utc(2026, 12, 5, 12)) == f"tomorrow {cet}"
    assert spoken_when(occ, utc(2026, 12, 2, 12)) == f"this Sunday {cet}"
    assert spoken_when(occ, utc(2026, 11, 30, 12)) == f"this Sunday {cet}"
    assert spoken_when(occ, utc(2026, 11, 29, 12)) == f"on Sunday the 6th of December {cet}"
    assert spoken_when(occ, utc(2026, 11, 20)) == f"on Sunday the 6th of December {cet}"


def test_spoken_when_clock_times():
    def said(start: time, tz: str = "Europe/Berlin") -> str:
        occ = only(Rule(SUNDAY, start, tz), date(2026, 12, 6))
        return spoken_when(occ, utc(2026, 11, 1))

    far = "on Sunday the 6th of December"
    assert said(time(10, 30)) == f"{far} at 10:30 in the morning, Central European Time"
    assert said(time(12, 0)) == f"{far} at noon, Central European Time"
    assert said(time(0, 0)) == f"{far} at midnight, Central European Time"
    assert said(time(19, 0)) == f"{far} at 7 in the evening, Central European Time"
    assert said(time(15, 5)) == f"{far} at 3:05 in the afternoon, Central European Time"
    assert said(time(22, 0)) == f"{far} at 10 at night, Central European Time"
    assert said(time(10, 0), "Asia/Tokyo") == f"{far} at 10 in the morning, Japan Time"
    assert said(time(10, 0), "America/Sao_Paulo").endswith(", Sao Paulo time")


def test_spoken_when_tomorrow_evening_in_summer_keeps_the_generic_zone_name():
    occ = only(Rule(SUNDAY, time(19, 0), "Europe/Berlin"), date(2026, 7, 5))
    assert spoken_when(occ, utc(2026, 7, 4, 9)) == (
        "tomorrow at 7 in the evening, Central European Time"
    )


def test_spoken_zone_names():
    summer, winter = utc(2026, 7, 1), utc(2026, 1, 1)
    assert spoken_zone("Australia/Sydney", summer) == "Australian Eastern Time"
    assert spoken_zone("America/New_York", winter) == "Eastern Time"
    assert spoken_zone("America/Chicago", summer) == "Central Time"
    assert spoken_zone("Asia/Shanghai", winter) == "China Standard Time"  # not US "Central Time"
    assert spoken_zone("Europe/London", summer) == "UK time"
    assert spoken_zone("America/Argentina/Buenos_Aires", winter) == "Buenos Aires time"


@pytest.mark.parametrize(
    ("n", "word"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th")]
    + [(21, "21st"), (22, "22nd"), (23, "23rd"), (30, "30th"), (31, "31st")],
)
def test_ordinals(n, word):
    assert _ordinal(n) == word
