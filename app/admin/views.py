"""Every admin view module, imported once so their routes attach to the blueprint."""

from __future__ import annotations

from flask import render_template
from flask_wtf.csrf import CSRFError

from app import i18n
from app.admin import (  # noqa: F401 - imported for their routes
    account,
    audit,
    auth,
    bp,
    calls,
    dashboard,
    languages,
    listeners,
    membership,
    params,
    safety,
    schedule,
    subscribers,
    urgent,
    zones,
)
from app.admin.labels import describe, outcome_label


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    """A form without a valid token: say so plainly, change nothing."""
    return render_template("admin/error.html", message=error.description), 400


@bp.context_processor
def layout_context() -> dict:
    """What the layout needs on every admin page: the time zone and language selectors."""
    names = languages.names()
    return {
        "zone_name": zones.zone_name(),
        "zone_choices": zones.choices(),
        "admin_language": i18n.current(),
        "language_choices": list(names.items()),
        "languages": {code: row.name for code, row in i18n.LANGUAGES.items()},
    }


@bp.app_template_filter("local")
def local_filter(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment in the admin's time zone."""
    return zones.local(moment, fmt)


@bp.app_template_filter("named")
def named_filter(moment, fmt: str) -> str:
    """A date or time (already local) with its day and month names in the admin's language."""
    return zones.named(moment, fmt)


@bp.app_template_filter("outcome")
def outcome_filter(outcome: str | None) -> str:
    """A readable call outcome."""
    return outcome_label(outcome)


@bp.app_template_filter("step")
def step_filter(event) -> str:
    """A timeline step in plain words."""
    return describe(event.kind, event.detail)


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
