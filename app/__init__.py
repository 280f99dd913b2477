"""Mindfuse: a phone line that connects lonely people with another real person, anonymously."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, send_file
from werkzeug.middleware.proxy_fix import ProxyFix

from app.infra.log_redaction import install_log_redaction
from app.private_files import private_folder
from app.settings import from_environment

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FAVICON = Path(__file__).with_name("static") / "favicon.ico"  # what browsers ask for unbidden


def create_app(test_config: dict | None = None) -> Flask:
    """Build the Flask app from the environment, or from `test_config` over it."""
    folder = os.environ.get("MINDFUSE_INSTANCE")  # settings.MINDFUSE_INSTANCE, read first
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(folder) if folder else None,
        static_folder=None,
    )
    private_folder(app.instance_path)  # secrets, the SQLite file, the local Redis
    app.config.from_mapping(from_environment(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["TRUST_PROXY_HEADERS"]:
        # Only the address and the scheme: the host a request names never counts (signatures
        # and every URL the line hands out are built from PUBLIC_BASE_URL), and the client's
        # own X-Forwarded-For entries sit left of those the PROXY_HOPS proxies added.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0)
    install_log_redaction()
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)
    logging.getLogger().setLevel(app.config["LOG_LEVEL"])  # also when logging was set up before
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs request details

    from app import admin, cli, db, i18n  # noqa: PLC0415 - keep import-time side effects out
    from app.billing.views import bp as payments
    from app.fusing.views import bp as fusing
    from app.infra import redis, request_limits
    from app.sms.views import bp as sms
    from app.voice import direct
    from app.voice.callback_views import bp as callback
    from app.voice.listener_views import bp as listener
    from app.voice.urgent_views import bp as urgent
    from app.voice.views import bp as voice

    request_limits.init_app(app)  # first: before any hook that reads a body
    db.init_app(app)
    i18n.init_app(app)
    redis.init_app(app)
    cli.init_app(app)
    app.register_blueprint(voice)
    app.register_blueprint(callback)
    app.register_blueprint(listener)
    app.register_blueprint(urgent)
    app.register_blueprint(fusing)
    app.register_blueprint(sms)
    app.register_blueprint(payments)
    admin.init_app(app)  # the admin blueprint, Flask-Login and CSRF (webhooks exempt)
    direct.install(app)  # the greeting, the line's busiest webhook, beside Flask's dispatch

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/favicon.ico")
    def favicon():
        return send_file(FAVICON, mimetype="image/vnd.microsoft.icon", max_age=86400)

    return app
