"""The admin: call logs, line health, safety and schedule, behind a login. Never a raw number."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
csrf = CSRFProtect()
login_manager = LoginManager()
# Twilio (and payment provider) webhooks carry no CSRF token: they keep their signature checks.
WEBHOOK_BLUEPRINTS = ("voice", "callback", "listener", "urgent", "fusing", "sms", "payments")


def _csrf_check() -> None:
    """CSRF on every form except the signed webhooks, whatever order blueprints registered in."""
    blueprint = (request.blueprint or "").split(".")[0]
    if blueprint in current_app.config["CSRF_EXEMPT_BLUEPRINTS"]:
        return
    csrf.protect(apply_exemptions=True)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request that brings no session cookie (every
    webhook: only the admin sets one) gets its empty session without a signer being built."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _cookie_flags(app: Flask) -> None:
    secure = not app.testing and app.config["PUBLIC_BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("SESSION_COOKIE_SECURE") or secure
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)


def init_app(app: Flask) -> None:
    """Register the admin blueprint, its login manager and CSRF protection."""
    from app.admin import headers, views  # noqa: F401, PLC0415 - views attach the routes to bp
    from app.admin.auth import load_user  # noqa: PLC0415

    _cookie_flags(app)
    app.session_interface = CookieSessions()
    app.config.setdefault("CSRF_EXEMPT_BLUEPRINTS", WEBHOOK_BLUEPRINTS)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # _csrf_check decides instead
    csrf.init_app(app)
    app.before_request(_csrf_check)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = _l("Please log in to see the admin.")
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    app.register_blueprint(bp)
    headers.init_app(app)
