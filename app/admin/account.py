"""The admin's own account: the second factor's state, and changing the password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.admin import bp, throttle, totp
from app.admin.audit import audit
from app.admin.auth import too_many
from app.admin.forms import PasswordForm
from app.admin.throttle import Gate
from app.db import db

TEMPLATE = "admin/account.html"


def _context() -> dict:
    return {"codes_left": totp.recovery_codes_left(current_user)}


@bp.route("/account", methods=["GET", "POST"])
def account():
    """Change the password: the current one first; every other session then ends."""
    form = PasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(TEMPLATE, form=form, **_context()), status
    user, address = current_user._get_current_object(), request.remote_addr
    wait = throttle.book(Gate.CHANGE, str(user.id), address)
    if wait:
        return too_many(form, wait, TEMPLATE, **_context())
    if not user.check_password(form.current.data):
        form.current.errors.append(_("That is not your current password."))
        return render_template(TEMPLATE, form=form, **_context()), 400
    throttle.succeeded(Gate.CHANGE, str(user.id), address)
    user.set_password(form.new.data)
    user.end_sessions()
    audit("password_changed", target=user.id)
    db.session.commit()
    login_user(user)  # this session goes on under the new generation
    flash(_("Password changed. Every other session of yours is logged out."))
    return redirect(url_for("admin.account"))
