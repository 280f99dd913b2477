"""The `mindfuse` command: the app's Flask CLI plus the line's own commands."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app import identity_keys, urls
from app.infra import local_redis, redis

REDIS_LOG_LEVELS = {"DEBUG": "verbose"}  # otherwise Redis logs its warnings only


@click.command("redis-url")
@click.option("--no-start", is_flag=True, help="Print the local Redis's URL without starting it.")
@with_appcontext
def redis_url_command(no_start: bool):
    """Print the Redis URL in use, starting the embedded local server if none is configured."""
    if no_start and not current_app.config.get("REDIS_URL"):
        click.echo(local_redis.socket_url(current_app.instance_path))
    else:
        click.echo(redis.redis_url())


@click.command("redis-server")
@with_appcontext
def redis_server_command():
    """Run the local Redis in the foreground until stopped (`make run` does, and stops it)."""
    if current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is set: the line uses that Redis, not a local one")
    level = REDIS_LOG_LEVELS.get(current_app.config["LOG_LEVEL"], "warning")
    url = local_redis.serve(current_app.instance_path, level)  # returns only if one runs
    raise click.ClickException(f"a local Redis is running already at {url}")


@click.command("urls")
@with_appcontext
def urls_command():
    """Print the webhook URLs to configure on the Twilio number (callbacks with retries)."""
    click.echo(f"Voice URL (POST):            {urls.public(urls.INCOMING)}")
    click.echo(f"Call status callback (POST): {urls.callback(urls.STATUS)}")
    click.echo(f"SMS URL (POST):              {urls.public(urls.SMS)}")


@click.command("rekey")
@with_appcontext
def rekey_command():
    """Re-key every stored caller identity to the newest key in NUMBER_HASH_REKEYS."""
    if problems := identity_keys.mismatched():
        raise click.ClickException("; ".join(problems) + ": keep the keys in the order added")
    for column, count in identity_keys.rekey().items():
        click.echo(f"{column}: {count} re-keyed")
    click.echo(f"Every identity is at re-key {identity_keys.applied()}; safe to run again.")


def init_app(app: Flask) -> None:
    """Attach the line's commands to the app's CLI."""
    from app.admin.cli import admin_cli  # noqa: PLC0415
    from app.fusing.cli import fusing_cli  # noqa: PLC0415
    from app.sms.cli import sms_cli  # noqa: PLC0415

    commands = (
        redis_url_command,
        redis_server_command,
        urls_command,
        rekey_command,
        fusing_cli,
        sms_cli,
    )
    for command in (*commands, admin_cli):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `mindfuse` console script: the same CLI as `flask --app app`."""
    from app import create_app  # noqa: PLC0415

    FlaskGroup(create_app=create_app)(prog_name="mindfuse")
