"""SMS subscribers at a glance: counts by status and recent sign-ups and stops. No numbers."""

from __future__ import annotations

from flask import render_template

from app.admin import bp
from app.admin.labels import SOURCE_LABELS, SUBSCRIBER_CHANGES, SUBSCRIBER_STATUS_LABELS
from app.sms import subscribers as sms_subscribers

RECENT = 20


@bp.get("/subscribers")
def subscribers():
    """How many get reminders, how many stopped, and the latest changes (no numbers)."""
    return render_template(
        "admin/subscribers.html",
        counts=sms_subscribers.counts(),
        by_source=sms_subscribers.active_by_source(),
        by_zone=sms_subscribers.active_by_zone(),
        recent=sms_subscribers.recent_changes(RECENT),
        statuses=SUBSCRIBER_STATUS_LABELS,
        changes=SUBSCRIBER_CHANGES,
        sources=SOURCE_LABELS,
    )
