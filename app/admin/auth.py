"""Logging in and out; every other admin page and export requires a logged-in admin."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.admin import bp, throttle
from app.admin.audit import audit
from app.admin.forms import LoginForm
from app.admin.models import AdminUser
from app.db import db, utcnow

OPEN_ENDPOINTS = {"admin.login", "admin.static"}
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


def load_user(user_id: str) -> AdminUser | None:
    """Flask-Login's user loader."""
    return db.session.get(AdminUser, int(user_id)) if user_id.isdigit() else None


@bp.before_request
def require_login():
    """Send anyone not logged in to the login page, remembering where they were going."""
    if request.endpoint in OPEN_ENDPOINTS or current_user.is_authenticated:
        return None
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """A redirect target inside the admin only (no open redirects)."""
    target = target or ""
    try:
        parts = urlsplit(target)
    except ValueError:  # such as an unclosed IPv6 bracket: "//["
        return url_for("admin.dashboard")
    header_safe = all(32 <= ord(c) != 127 for c in target)  # Location refuses a line break
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or not header_safe:
        return url_for("admin.dashboard")
    return target


def _authenticate(email: str, password: str) -> AdminUser | None:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email))
    if user is None:
        AdminUser(password_hash=_DUMMY_HASH).check_password(password)
        return None
    return user if user.check_password(password) else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; failures are counted per email and per address."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email, address = form.email.data.strip().lower(), request.remote_addr or "unknown"
        wait = throttle.blocked_for(email, address)
        user = None if wait else _authenticate(email, form.password.data)
        if user is not None:
            return _logged_in(user, email, address)
        if wait:
            minutes = -(-wait // 60)
            form.form_errors.append(f"Too many attempts. Try again in {minutes} min.")
            status = 429
        else:
            throttle.failed(email, address)
            audit("login_failed", email=email)
            db.session.commit()
            form.form_errors.append("Wrong email or password.")
            status = 401
    return render_template("admin/login.html", form=form), status


def _logged_in(user: AdminUser, email: str, address: str):
    throttle.succeeded(email, address)
    login_user(user)
    user.last_login_at = utcnow()
    audit("login", target=user.id, admin=user)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Log out (a POST with a CSRF token, so no other site can log an admin out)."""
    audit("logout", target=current_user.id)
    db.session.commit()
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("admin.login"))
