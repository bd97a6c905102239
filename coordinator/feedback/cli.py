"""`coordinator feedback …`: feedback letters, regional summaries and the good-examples digest as files."""
from __future__ import annotations

import click

feedback_cli = click.Group("feedback", help="Återkoppling till kommuner, län och hela landet.")
