"""`mindfuse sms ...`: subscriber counts and encryption key rotation."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import db
from app.listeners.models import Listener
from app.sms import crypto, subscribers
from app.sms.models import Subscriber

sms_cli = AppGroup("sms", help="SMS subscribers and their encrypted numbers.")


@sms_cli.command("count")
def count() -> None:
    """How many people get reminders now."""
    click.echo(subscribers.active_count())


@sms_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every kept number (subscribers, listeners) with NUMBER_ENCRYPTION_KEY's first."""
    rotated = 0
    for subscriber in db.session.scalars(
        select(Subscriber).where(Subscriber.number_encrypted.is_not(None))
    ):
        subscriber.number_encrypted = crypto.rotate(subscriber.number_encrypted)
        rotated += 1
    for listener in db.session.scalars(select(Listener)):  # the roster's, with the same keys
        listener.number_encrypted = crypto.rotate(listener.number_encrypted)
        rotated += 1
    db.session.commit()
    click.echo(f"Re-encrypted {rotated} numbers with the newest key.")
