"""`coordinator feedback …`: feedback letters, regional summaries and the good-examples digest as files."""
from __future__ import annotations

import click

feedback_cli = click.Group("feedback", help="Återkoppling till kommuner, län och hela landet.")

from .spread_cli import digest_command, region_command  # noqa: E402

feedback_cli.add_command(region_command)
feedback_cli.add_command(digest_command)
