"""The time zone an admin reads times in: chosen per session, the Fusing Hour's by default."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _

from app import i18n
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
    return named(moment.astimezone(zone()), fmt) if moment else ""


_NAMES = {"%a": "EEE", "%A": "EEEE", "%b": "MMM", "%B": "MMMM"}


def named(moment: date | datetime, fmt: str) -> str:
    """strftime, with day and month names in the admin's language (CLDR's, through Babel)."""
    code = i18n.current()
    if code != i18n.SOURCE:
        for directive, pattern in _NAMES.items():
            if directive in fmt:
                name = format_date(moment, pattern, locale=code).replace("%", "%%")
                fmt = fmt.replace(directive, name)
    return moment.strftime(fmt)


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
        flash(_("Unknown time zone."), "error")
    return redirect(safe_next(request.form.get("next")) or url_for("admin.dashboard"))
