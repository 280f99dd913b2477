"""`mindfuse fusing ...`: show and change the Fusing Hour schedule from the command line."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import DateKind, FusingDate
from app.fusing.schedule import occurrences, spoken_when

fusing_cli = AppGroup("fusing", help="Show and change the Fusing Hour schedule.")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@fusing_cli.command("show")
@click.option("--count", default=5, show_default=True, help="How many sessions to list.")
def show(count: int) -> None:
    """The weekly rule, one-off and cancelled dates, and the next sessions."""
    rule = sessions.rule_row()
    click.echo(
        f"Every {WEEKDAYS[rule.weekday].title()} at {rule.start_time:%H:%M} {rule.timezone}, "
        f"{rule.duration_seconds // 60} min, rounds of {rule.round_seconds // 60} min"
    )
    for row in db.session.scalars(db.select(FusingDate).order_by(FusingDate.day)):
        click.echo(
            f"  {row.kind}: {row.day}" + (f" {row.start_time:%H:%M}" if row.start_time else "")
        )
    rule_, extras, cancelled = sessions.schedule()
    now = utcnow()
    for occurrence in occurrences(rule_, now, now + timedelta(days=400), extras, cancelled)[:count]:
        click.echo(f"  {occurrence.starts_at:%Y-%m-%d %H:%M} UTC: {spoken_when(occurrence, now)}")


@fusing_cli.command("set")
@click.option("--weekday", type=click.Choice(WEEKDAYS, case_sensitive=False))
@click.option("--time", "start", type=click.DateTime(["%H:%M"]), help="Local start, HH:MM.")
@click.option("--zone", help="IANA time zone, e.g. Europe/Berlin.")
@click.option(
    "--minutes", type=click.IntRange(*sessions.DURATION_MINUTES), help="Length of the session."
)
@click.option(
    "--round-minutes", type=click.IntRange(*sessions.ROUND_MINUTES), help="Length of a round."
)
def set_rule(weekday, start, zone, minutes, round_minutes) -> None:
    """Change the weekly rule."""
    rule = sessions.rule_row()
    if weekday:
        rule.weekday = WEEKDAYS.index(weekday.lower())
    if start:
        rule.start_time = start.time()
    if zone:
        rule.timezone = zone
    if minutes:
        rule.duration_seconds = minutes * 60
    if round_minutes:
        rule.round_seconds = round_minutes * 60
    _save()


@fusing_cli.command("add-date")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("start", type=click.DateTime(["%H:%M"]))
@click.option(
    "--minutes",
    type=click.IntRange(*sessions.DURATION_MINUTES),
    help="Length (default: the rule's).",
)
def add_date(day, start, minutes) -> None:
    """Add a one-off session on DAY at local START."""
    db.session.add(
        FusingDate(
            day=day.date(),
            kind=DateKind.EXTRA,
            start_time=start.time(),
            duration_seconds=minutes * 60 if minutes else None,
        )
    )
    _save()


@fusing_cli.command("cancel-date")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
def cancel_date(day) -> None:
    """Cancel the weekly session on DAY."""
    db.session.add(FusingDate(day=day.date(), kind=DateKind.CANCELLED))
    _save()


def _save() -> None:
    try:
        sessions.save_schedule()
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Saved.")
