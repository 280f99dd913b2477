"""Every admin view module, imported once so their routes attach to the blueprint."""

from __future__ import annotations

from flask import render_template
from flask_wtf.csrf import CSRFError

from app.admin import (  # noqa: F401 - imported for their routes
    account,
    audit,
    auth,
    bp,
    calls,
    dashboard,
    membership,
    params,
    safety,
    schedule,
    urgent,
    zones,
)
from app.admin.calllog import outcome_label


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    """A form without a valid token: say so plainly, change nothing."""
    return render_template("admin/error.html", message=error.description), 400


@bp.context_processor
def layout_context() -> dict:
    """What the layout needs on every admin page: the time zone selector."""
    return {"zone_name": zones.zone_name(), "zone_choices": zones.choices()}


@bp.app_template_filter("local")
def local_filter(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment in the admin's time zone."""
    return zones.local(moment, fmt)


@bp.app_template_filter("outcome")
def outcome_filter(outcome: str | None) -> str:
    """A readable call outcome."""
    return outcome_label(outcome)


@bp.app_template_filter("duration")
def duration_filter(seconds: float | None) -> str:
    """Seconds as '42 s', '3 min 05 s' or '1 h 02 min'; a dash when unknown."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
