"""`mindfuse admin ...`: create admin accounts and list them."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin.audit import audit
from app.admin.models import AdminUser
from app.db import db

admin_cli = AppGroup("admin", help="Manage the accounts that can log into /admin.")
MIN_PASSWORD = 12


def _password() -> str:
    """Prompt twice on a terminal; otherwise read one line from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@admin_cli.command("create")
@click.argument("email")
def create(email: str) -> None:
    """Create an admin account; the password is prompted for, or read from stdin."""
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
    audit("admin_created", target=user.id, detail=email, email="command line")
    db.session.commit()
    click.echo(f"Admin {email} created.")


@admin_cli.command("list")
def list_admins() -> None:
    """List admin accounts with their last login."""
    users = db.session.scalars(select(AdminUser).order_by(AdminUser.email)).all()
    if not users:
        click.echo("No admins yet. Create one with: mindfuse admin create EMAIL")
    for user in users:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never"
        click.echo(f"{user.email}  created {user.created_at:%Y-%m-%d}  last login {last}")
