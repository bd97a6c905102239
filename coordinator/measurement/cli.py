"""`coordinator measurement ...` (to be written)."""
import click

measurement_cli = click.Group("measurement", help="Mätningar före besöken.")
