"""`coordinator report ...` (to be written)."""
import click

report_cli = click.Group("report", help="Kvartalsrapporter och underlag till slutrapporten.")
