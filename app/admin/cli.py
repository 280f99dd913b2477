"""`mindfuse admin ...`: create admin accounts, set up their second factor, list them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin import totp
from app.admin.audit import audit
from app.admin.models import MIN_PASSWORD, AdminUser
from app.db import db

admin_cli = AppGroup("admin", help="Manage the accounts that can log into /admin.")
QR_OPTION = click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the key's QR code to this SVG file.",
)


def _password() -> str:
    """Prompt twice on a terminal; otherwise read one line from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _show(enrolment: totp.Enrolment, qr_path: Path | None) -> None:
    """Print the second factor's key, its QR code and the recovery codes: they are shown once."""
    click.echo("\nAdd this key to an authenticator app (it is shown only now):")
    click.echo(f"  key: {enrolment.secret}\n  {enrolment.uri}\n")
    click.echo(totp.qr_text(enrolment.uri))
    if qr_path is not None:
        qr_path.touch(mode=0o600)
        qr_path.chmod(0o600)  # also when the file was there before: it holds the key
        qr_path.write_bytes(totp.qr_svg(enrolment.uri))
        click.echo(f"The QR code is also in {qr_path}; delete it once it is scanned.")
    click.echo("Recovery codes (each logs in once without the app; keep them safe):")
    for code in enrolment.recovery_codes:
        click.echo(f"  {code}")


@admin_cli.command("create")
@click.argument("email")
@QR_OPTION
def create(email: str, qr_path: Path | None) -> None:
    """Create an admin account with its second factor; the password is prompted or read."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    if db.session.scalar(select(AdminUser).where(AdminUser.email == email)):
        raise click.ClickException(f"An admin with the email {email} already exists.")
    password = _password()
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password must have at least {MIN_PASSWORD} characters.")
    user = AdminUser(email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    enrolment = totp.enrol(user)
    audit("admin_created", target=user.id, detail=email, email="command line")
    db.session.commit()
    click.echo(f"Admin {email} created.")
    _show(enrolment, qr_path)


@admin_cli.command("reset-2fa")
@click.argument("email")
@QR_OPTION
def reset_second_factor(email: str, qr_path: Path | None) -> None:
    """Give an admin a new key and recovery codes (a lost phone), ending their sessions."""
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no admin with the email {email}.")
    enrolment = totp.enrol(user)
    user.end_sessions()
    audit("second_factor_reset", target=user.id, detail=user.email, email="command line")
    db.session.commit()
    click.echo(f"New key and recovery codes for {user.email}; their sessions are ended.")
    _show(enrolment, qr_path)


@admin_cli.command("list")
def list_admins() -> None:
    """List admin accounts with their last login."""
    users = db.session.scalars(select(AdminUser).order_by(AdminUser.email)).all()
    if not users:
        click.echo("No admins yet. Create one with: mindfuse admin create EMAIL")
    for user in users:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never"
        click.echo(f"{user.email}  created {user.created_at:%Y-%m-%d}  last login {last}")
