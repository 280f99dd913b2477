"""The README's table of `mindfuse` commands, made from the CLI's own help.

.venv/bin/python scripts/cli_reference.py          # print the table
.venv/bin/python scripts/cli_reference.py --write  # put it into README.md
.venv/bin/python scripts/cli_reference.py --check  # exit 1 if README.md's differs
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

from app import create_app

README = Path(__file__).resolve().parents[1] / "README.md"
LISTED_WHOLE = {"db"}  # Flask-Migrate's Alembic commands: named in one row, see its docs
BEGIN = "<!-- mindfuse commands: made by scripts/cli_reference.py from the CLI's help -->"
END = "<!-- end of mindfuse commands -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rows(ctx: click.Context, path: str, command: click.Command) -> list[str]:
    """The command's row; a group's subcommands get rows of their own."""
    sub = click.Context(command, info_name=path, parent=ctx)
    if isinstance(command, click.Group) and path not in LISTED_WHOLE:
        rows = []
        for name in command.list_commands(sub):
            rows += _rows(sub, f"{path} {name}", command.get_command(sub, name))
        return rows
    pieces = [p for p in command.collect_usage_pieces(sub) if p != "[OPTIONS]"]
    help_text = command.get_short_help_str(limit=300)
    if isinstance(command, click.Group):
        pieces = ["SUBCOMMAND"]
        help_text += f" Subcommands: {', '.join(command.list_commands(sub))}."
        options = []
    else:
        options = [
            param.opts[0]
            for param in command.params
            if isinstance(param, click.Option) and param.name != "help"
        ]
    usage = " ".join([f"mindfuse {path}", *pieces])
    listed = ", ".join(f"`{o}`" for o in options)
    return [f"| `{_cell(usage)}` | {_cell(help_text)} | {listed} |"]


def table() -> str:
    """The markdown table: one row per top-level command, as `mindfuse --help` lists them."""
    group = FlaskGroup(create_app=create_app, load_dotenv=False)  # as app.cli.main builds it
    ctx = group.make_context("mindfuse", [], resilient_parsing=True)
    rows = ["| command | what it does | options |", "| --- | --- | --- |"]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows += _rows(ctx, name, command)
    return "\n".join(rows)


def in_readme(text: str) -> str:
    """The table between the markers in the README's text."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def main(argv: list[str]) -> int:
    made = table()
    if "--write" in argv:
        text = README.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        README.write_text(f"{text[:start]}\n{made}\n{text[end:]}")
    elif "--check" in argv:
        if in_readme(README.read_text()) != made:
            print(
                "README.md's table of mindfuse commands differs from the CLI's help: run "
                ".venv/bin/python scripts/cli_reference.py --write"
            )
            return 1
    else:
        print(made)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
