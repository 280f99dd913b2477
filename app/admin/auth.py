"""Logging in (a password, then a code) and out; every other admin page and export requires a
logged-in admin."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.admin import bp, throttle, totp
from app.admin.audit import audit, failed_login
from app.admin.forms import CodeForm, LoginForm
from app.admin.models import AdminUser
from app.admin.params import MAX_ID
from app.admin.throttle import Gate
from app.db import db, utcnow

OPEN_ENDPOINTS = {"admin.login", "admin.login_code", "admin.static"}
PENDING, PENDING_SECONDS = "admin_pending", 300  # between the password and the code
NO_SECOND_FACTOR = _l(
    "Two-step login is not set up for this account yet. "
    "Set it up with: mindfuse admin reset-2fa EMAIL"
)
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


def load_user(session_id: str) -> AdminUser | None:
    """Flask-Login's user loader: the account, if the session's generation is still its own."""
    user_id, _, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()) or int(user_id) > MAX_ID:
        return None
    user = db.session.get(AdminUser, int(user_id))
    return user if user and user.session_generation == int(generation) else None


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
    form.form_errors.append(_("Too many attempts. Try again in %(when)s.", when=when))
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
    if not _password_matches(user, form.password.data):
        failed_login(address, email, user, "wrong password")
        db.session.commit()
        form.form_errors.append(_("Wrong email or password."))
        return render_template("admin/login.html", form=form), 401
    throttle.succeeded(Gate.PASSWORD, email, address)
    if not user.totp_secret:
        form.form_errors.append(str(NO_SECOND_FACTOR))
        return render_template("admin/login.html", form=form), 403
    until = int(time.time()) + PENDING_SECONDS
    session[PENDING] = {"id": user.id, "generation": user.session_generation, "until": until}
    return redirect(url_for("admin.login_code", next=request.args.get("next")))


def _pending_user() -> AdminUser | None:
    """The account whose password was just given, for a few minutes and while its sessions stand."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = db.session.get(AdminUser, pending.get("id"))
    return user if user and user.session_generation == pending.get("generation") else None


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step: the code from the admin's authenticator app, or a recovery code."""
    user = _pending_user()
    if current_user.is_authenticated or user is None:
        return redirect(url_for("admin.login", next=request.args.get("next")))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("admin/login_code.html", form=form)
    address = request.remote_addr
    wait = throttle.book(Gate.CODE, str(user.id), address)
    if wait:
        return too_many(form, wait, "admin/login_code.html")
    factor = totp.verify(user, form.code.data)
    if factor is None:
        failed_login(address, user.email, user, "wrong code after the right password", False)
        db.session.commit()
        form.form_errors.append(_("That code is not right, or was used already."))
        return render_template("admin/login_code.html", form=form), 401
    throttle.succeeded(Gate.CODE, str(user.id), address)
    session.pop(PENDING, None)
    if factor is totp.Factor.RECOVERY:
        flash(_("Recovery code used: %(left)s left.", left=totp.recovery_codes_left(user)))
    return _logged_in(user)


def _logged_in(user: AdminUser):
    login_user(user)
    user.last_login_at = utcnow()
    audit("login", target=user.id, admin=user)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Log out everywhere (a POST with a CSRF token, so no other site can log an admin out)."""
    audit("logout", target=current_user.id)
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("admin.login"))
