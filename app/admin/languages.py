"""The language an admin reads these pages in: their own choice, kept on their account."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import i18n
from app.admin import bp
from app.admin.auth import safe_next
from app.admin.forms import LanguageForm
from app.db import db

SESSION_KEY = "admin_language"  # before logging in (the login pages), per browser


def chosen() -> str:
    """The admin's language: their account's, else this browser's choice, else the one their
    browser asks for (Accept-Language) among those offered, else the line's default."""
    if current_user and current_user.is_authenticated and i18n.valid(current_user.language):
        return current_user.language
    if i18n.valid(session.get(SESSION_KEY)):
        return session[SESSION_KEY]
    return request.accept_languages.best_match(i18n.offered()) or i18n.default()


@bp.before_request
def _speak() -> None:
    i18n.use(chosen())


def names() -> dict[str, str]:
    """Each offered language by its own name."""
    return {code: i18n.row(code).name for code in i18n.offered()}


@bp.post("/language")
def choose_language():
    """Keep the admin's language on their account (and for this browser)."""
    form = LanguageForm()
    code = i18n.valid(form.language.data) if form.validate_on_submit() else None
    if code is None:
        flash(_("Unknown language."), "error")
    else:
        session[SESSION_KEY] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("admin.dashboard"))
