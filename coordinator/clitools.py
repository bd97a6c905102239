"""What every command prints with: JSON output and a failure in words. A leaf module, so that the command
groups of the capability folders need not import the `coordinator` command (which imports them)."""
from __future__ import annotations

import json
import sys

import click


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def database_only(command: click.Command) -> click.Command:
    """Mark a command that needs only the settings and the database, and uses through the ORM no model beyond
    those it imports itself: the `coordinator` command runs it on create_cli_app, not on the whole app."""
    command.database_only = True
    return command


def fail(message: str, as_json: bool = False, code: int = 1):
    if as_json:
        echo_json({"error": message})
    else:
        click.echo(message, err=True)
    sys.exit(code)
