"""The `coordinator` console command: Flask's CLI plus set-up and scripting commands."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .clitools import fail


class _Commands(FlaskGroup):
    """Flask's command group, which says in words that the database is not set up (instead of a traceback)
    when a command meets a database without the app's tables."""

    def invoke(self, ctx):
        from sqlalchemy.exc import DBAPIError
        try:
            return super().invoke(ctx)
        except DBAPIError as e:
            if _no_tables(e):
                fail("Databasen är inte förberedd. Kör först: coordinator setup")
            raise


def _no_tables(e) -> bool:
    """SQLite's "no such table", PostgreSQL's undefined table (SQLSTATE 42P01)."""
    return "no such table" in str(e.orig) or getattr(e.orig, "sqlstate", None) == "42P01"


def main() -> None:
    from . import create_app
    cli = _Commands(create_app=create_app, help="coordinator: urval, besök och uppföljning av kommuner.")
    cli.main(prog_name="coordinator")


def register_commands(app: Flask) -> None:
    from .auth.cli import user_cli
    from .backup.cli import backup, restore
    from .demo import demo
    from .feedback.cli import feedback_cli
    from .invites.cli import invites_cli, outbox_cli
    from .measurement.cli import measurement_cli
    from .registry.cli import registry_cli
    from .reports.cli import report_cli
    from .sampling.cli import sample_cli
    from .overview.cli import digest
    from .scheduling.cli import schedule_cli
    from .sites.cli import site_cli

    for group in (user_cli, registry_cli, sample_cli, schedule_cli, invites_cli, outbox_cli, measurement_cli,
                  report_cli, site_cli, feedback_cli):
        app.cli.add_command(group)
    app.cli.add_command(setup)
    app.cli.add_command(demo)
    app.cli.add_command(digest)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    from .server import serve
    app.cli.add_command(serve)


def prepare_database() -> dict:
    """Migrate the database and load the shipped reference data and defaults (what `setup` does before it
    makes the first administrator; the benchmarks start from it too). Returns the reference data's counts."""
    from flask_migrate import upgrade

    from .dialogue.defaults import load_dialogue_defaults
    from .events.defaults import load_organisation_defaults
    from .registry.reference import load_reference_data
    from .scheduling.defaults import load_assignment_defaults

    upgrade()
    counts = load_reference_data()
    load_assignment_defaults()
    load_dialogue_defaults()
    load_organisation_defaults()
    return counts


@click.command("setup", help="Migrera databasen, läs in referensdata och skapa en första administratör.")
@click.option("--admin-email", default="admin@example.se", show_default=True)
@with_appcontext
def setup(admin_email: str) -> None:
    from .auth.models import User
    from .extensions import db
    from .registry.service import prune_previews, stash_dir

    counts = prepare_database()
    click.echo(f"Databas klar: {counts['kommuner']} kommuner, {counts['lan']} län "
               f"({counts['population']} nya befolkningsrader).")
    prune_previews(stash_dir(Path(current_app.instance_path)))  # uploads of previews never confirmed
    if db.session.scalar(select(User).where(User.role == "admin")) is None:
        password = secrets.token_urlsafe(12)
        user = User(email=admin_email.lower(), name="Administratör", role="admin")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo("\nEn första administratör har skapats. Logga in med:")
        click.echo(f"  e-post:   {admin_email.lower()}")
        click.echo(f"  lösenord: {password}")
        click.echo("Byt lösenordet under Konto efter första inloggningen.\n")
    else:
        click.echo("Det finns redan en administratör; inget konto skapades.")
