"""`mindfuse twin`: serve the twin for a line whose Twilio API base is on this machine."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from .__main__ import CONTROL_TOKEN_FILE
from .__main__ import main as serve

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def line_args(config) -> list[str]:
    """`python -m twin` options for a line with this Flask config (account, number, webhooks)."""
    line = config["PUBLIC_BASE_URL"]
    return [
        "--account-sid", config["TWILIO_ACCOUNT_SID"],
        "--auth-token", config["TWILIO_AUTH_TOKEN"],
        "--phone-number", config["TWILIO_PHONE_NUMBER"],
        "--voice-url", f"{line}/twilio/voice",
        "--status-callback", f"{line}/twilio/voice/status",
        "--sms-url", f"{line}/twilio/sms",
    ]  # fmt: skip


@click.command("twin")
@with_appcontext
def twin_command() -> None:
    """Stand in for Twilio when the line's TWILIO_API_BASE points at this machine."""
    config = current_app.config
    api = urlsplit(config["TWILIO_API_BASE"])
    if api.hostname not in LOOPBACK:
        click.echo(f"twin: not needed, the line talks to {config['TWILIO_API_BASE']}")
        return
    token_file = Path(current_app.instance_path) / CONTROL_TOKEN_FILE  # `mindfuse call` reads it
    where = ["--host", api.hostname, "--port", str(api.port or 80)]
    serve([*where, "--control-token-file", str(token_file), *line_args(config)])
