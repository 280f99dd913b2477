"""Logging in and out; every other admin page and export requires a logged-in admin."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.admin import bp, throttle
from app.admin.audit import audit, failed_login
from app.admin.forms import LoginForm
from app.admin.models import AdminUser
from app.admin.params import MAX_ID
from app.admin.throttle import Gate
from app.db import db, utcnow

OPEN_ENDPOINTS = {"admin.login", "admin.static"}
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


def load_user(session_id: str) -> AdminUser | None:
    """Flask-Login's user loader: the account, if the session's generation is still its own."""
    user_id, _, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()) or int(user_id) > MAX_ID:
        return None
    user = db.session.get(AdminUser, int(user_id))
    return user if user and user.session_generation == int(generation) else None


def end_every_session(user: AdminUser) -> None:
    """Every session of this admin, on any device, ends at its next request."""
    user.session_generation += 1


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


def _password_matches(user: AdminUser | None, password: str) -> bool:
    if user is None:
        AdminUser(password_hash=_DUMMY_HASH).check_password(password)
        return False
    return user.check_password(password)


def too_many(form, wait: int, template: str, **context):
    """The form again, saying how long to wait before the next attempt (429)."""
    when = f"{wait} s" if wait < 60 else f"{-(-wait // 60)} min"
    form.form_errors.append(f"Too many attempts. Try again in {when}.")
    page = render_template(template, form=form, **context)
    return page, 429, {"Retry-After": str(wait)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; each attempt is booked against the account and the address first."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form)
    email, address = form.email.data.strip().lower(), request.remote_addr
    wait = throttle.book(Gate.PASSWORD, email, address)
    if wait:
        return too_many(form, wait, "admin/login.html")
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email))
    if _password_matches(user, form.password.data):
        return _logged_in(user, email, address)
    failed_login(address, email, user, "wrong password")
    db.session.commit()
    form.form_errors.append("Wrong email or password.")
    return render_template("admin/login.html", form=form), 401


def _logged_in(user: AdminUser, email: str, address: str | None):
    throttle.succeeded(Gate.PASSWORD, email, address)
    login_user(user)
    user.last_login_at = utcnow()
    audit("login", target=user.id, admin=user)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Log out everywhere (a POST with a CSRF token, so no other site can log an admin out)."""
    audit("logout", target=current_user.id)
    end_every_session(current_user)
    db.session.commit()
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("admin.login"))
