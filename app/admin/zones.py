"""The time zone an admin reads times in: chosen per session, the Fusing Hour's by default."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, session, url_for

from app.admin import bp
from app.admin.auth import safe_next
from app.admin.forms import ZoneForm
from app.fusing.sessions import rule_row

SESSION_KEY = "admin_zone"
COMMON = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def zone_name() -> str:
    """The admin's chosen zone, else the Fusing Hour rule's."""
    return session.get(SESSION_KEY) or rule_row().timezone


def zone() -> ZoneInfo:
    """The admin's chosen zone as a ZoneInfo."""
    return ZoneInfo(zone_name())


def choices() -> list[str]:
    """Zones offered in the selector: the common ones, the rule's and the current choice."""
    return sorted({*COMMON, rule_row().timezone, zone_name()})


def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment as the admin's wall clock shows it (a Jinja filter)."""
    return moment.astimezone(zone()).strftime(fmt) if moment else ""


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of `first` to the end of `last`, in the admin's zone."""
    tz = zone()
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def today() -> date:
    """Today's date in the admin's zone."""
    return datetime.now(zone()).date()


@bp.post("/zone")
def choose_zone():
    """Remember the admin's time zone for this session."""
    form = ZoneForm()
    if form.validate_on_submit():
        session[SESSION_KEY] = form.zone.data
    else:
        flash("Unknown time zone.", "error")
    return redirect(safe_next(request.form.get("next")) or url_for("admin.dashboard"))
