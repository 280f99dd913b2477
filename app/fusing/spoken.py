"""When a Fusing Hour starts, as the line says it in a language other than English.

German has its own phrasing ("am Sonntag um 10 Uhr mitteleuropäischer Zeit"); any other
language gets its CLDR day, date, time and zone names from Babel, so a new language speaks
dates without code. English keeps its own (app.fusing.schedule.spoken_when).
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time, get_timezone_name


def _zone_de(local: datetime) -> str:
    """'mitteleuropäischer Zeit' (after 'um 10 Uhr'), from CLDR's 'Mitteleuropäische Zeit'."""
    name = get_timezone_name(local, "long", locale="de", zone_variant="generic")
    if name.endswith("e Zeit") and " " not in name[:-6]:
        return name[0].lower() + name[1:-6] + "er Zeit"
    if name.endswith("zeit") and " " not in name:  # 'Nordamerikanische Ostküstenzeit'
        return name
    return f"Zeitzone {name}"


def _clock_de(local: datetime) -> str:
    if (local.hour, local.minute) == (0, 0):
        return "um Mitternacht"
    minutes = f" {local.minute}" if local.minute else ""
    return f"um {local.hour} Uhr{minutes}"  # said "um 19 Uhr 30"


def german(local: datetime, days: int) -> str:
    """'heute um 10 Uhr', 'am Sonntag um 10 Uhr', 'am Sonntag, dem 14. Dezember, um 10 Uhr'."""
    weekday = format_date(local, "EEEE", locale="de")
    if days == 0:
        day = "heute"
    elif days == 1:
        day = "morgen"
    elif 1 < days < 7:
        day = f"am {weekday}"
    else:
        day = f"am {weekday}, dem {format_date(local, 'd. MMMM', locale='de')},"
    return f"{day} {_clock_de(local)} {_zone_de(local)}"


def generic(local: datetime, code: str) -> str:
    """Any other language: its CLDR long date, short time and zone name."""
    day = format_date(local, "full", locale=code)
    clock = format_time(local, "short", locale=code)
    zone = get_timezone_name(local, "long", locale=code, zone_variant="generic")
    return f"{day} {clock} ({zone})"


SPOKEN = {"de": german}
"""Languages with their own phrasing; the others are `generic`."""
