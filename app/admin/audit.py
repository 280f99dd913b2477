"""The audit log: every admin change, who made it and when."""

from __future__ import annotations

import hashlib
import hmac

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp, throttle
from app.admin.models import AdminUser, AuditLog
from app.admin.params import page_number
from app.db import db
from app.settings import settings

PER_PAGE = 50
LABELS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "admin_created": _l("Admin created"),
    "second_factor_reset": _l("Second factor reset"),
    "password_changed": _l("Password changed"),
    "block_lifted": _l("Block lifted"),
    "schedule_changed": _l("Schedule changed"),
    "date_added": _l("One-off date added"),
    "date_cancelled": _l("Date cancelled"),
    "date_removed": _l("Date exception removed"),
    "membership_granted": _l("Membership granted"),
    "membership_revoked": _l("Membership revoked"),
    "crisis_service_saved": _l("Crisis service saved"),
    "crisis_service_removed": _l("Crisis service removed"),
    "listener_added": _l("Listener added"),
    "listener_paused": _l("Listener paused"),
    "listener_resumed": _l("Listener resumed"),
    "listener_removed": _l("Listener removed"),
}


def audit(
    action: str,
    target: str | int | None = None,
    detail: str | None = None,
    admin: AdminUser | None = None,
    email: str | None = None,
) -> None:
    """Record an admin action (committed with the caller's transaction)."""
    if admin is None and current_user and current_user.is_authenticated:
        admin = current_user
    db.session.add(
        AuditLog(
            admin_id=admin.id if admin else None,
            admin_email=(admin.email if admin else email),
            action=action,
            target=None if target is None else str(target)[:64],
            detail=detail[:200] if detail else None,
        )
    )


def fingerprint(text: str) -> str:
    """A short keyed hash: the same text reads the same in the log, and cannot be read back."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"admin-audit:" + text.encode(), hashlib.sha256).hexdigest()[:10]


def failed_login(
    address: str | None, email: str, user: AdminUser | None, reason: str, capped: bool = True
) -> None:
    """Record a failed login, and nothing typed in it; capped: the address's first in the window.

    Uncapped for wrong codes: only someone who knew the password gets that far, and their
    attempts are throttled per account, so their rows are few and each of them matters.
    """
    if capped and not throttle.first_failure(address):
        return
    who = f"admin {user.id}" if user else f"unknown account {fingerprint(email)}"
    where = fingerprint(throttle.client(address))
    db.session.add(
        AuditLog(
            action="login_failed",
            target=None if user is None else str(user.id),
            detail=f"{who}, {reason}, address {where}",
        )
    )


@bp.get("/audit")
def audit_log():
    """The audit log, newest first."""
    page = db.paginate(
        select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()),
        page=page_number(request.args),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("admin/audit.html", page=page, labels=LABELS)
