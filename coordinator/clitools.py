"""What every command prints with: JSON output and a failure in words. A leaf module, so that the command
groups of the capability folders need not import the `coordinator` command (which imports them)."""
from __future__ import annotations

import json
import sys

import click


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def fail(message: str, as_json: bool = False, code: int = 1):
    if as_json:
        echo_json({"error": message})
    else:
        click.echo(message, err=True)
    sys.exit(code)
