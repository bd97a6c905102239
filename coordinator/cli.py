"""The `coordinator` console command: Flask's CLI plus set-up and scripting commands.

The command imports only what the command that is run needs. The app's own commands are named here with the
module that holds them (COMMANDS) and imported when they are run; a command marked `database_only` (clitools)
gets the app of create_cli_app (settings and database, no pages), every other one the whole app of create_app
when it first needs it. `coordinator --help` lists the commands from SHORT_HELP without importing them or
making an app (tests/test_cli_start.py checks that the list is Flask's for the whole app, word for word).
"""
from __future__ import annotations

import importlib
import secrets
from gettext import gettext as click_gettext  # click's own catalogue, not the app's
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .clitools import fail

# The app's commands: name -> "module:attribute".
COMMANDS = {
    "backup": "coordinator.backup.cli:backup",
    "demo": "coordinator.demo:demo",
    "digest": "coordinator.overview.cli:digest",
    "feedback": "coordinator.feedback.cli:feedback_cli",
    "invites": "coordinator.invites.cli:invites_cli",
    "measurement": "coordinator.measurement.cli:measurement_cli",
    "outbox": "coordinator.outbox.cli:outbox_cli",
    "registry": "coordinator.registry.cli:registry_cli",
    "report": "coordinator.reports.cli:report_cli",
    "restore": "coordinator.backup.cli:restore",
    "sample": "coordinator.sampling.cli:sample_cli",
    "schedule": "coordinator.scheduling.cli:schedule_cli",
    "serve": "coordinator.server:serve",
    "setup": "coordinator.cli:setup",
    "site": "coordinator.sites.cli:site_cli",
    "user": "coordinator.auth.cli:user_cli",
}

# What `coordinator --help` says of each of the app's commands: the first sentence of its help (all that click
# shows of it in a list). `db` is Flask-Migrate's group, which create_app adds.
SHORT_HELP = {
    "backup": "Säkerhetskopiera databasen, den hemliga nyckeln och importerade filer till en fil.",
    "db": "Perform database migrations.",
    "demo": "Skapa ett demouppdrag (fiktiva data) med urval, besök, anteckningar och planer.",
    "digest": "Vad som väntar: som JSON, eller som veckobrev till dem som valt det (--send).",
    "feedback": "Återkoppling till kommuner, län och hela landet.",
    "invites": "Kalenderinbjudningar.",
    "measurement": "Mätningar före besöken.",
    "outbox": "Utkorgen för e-post.",
    "registry": "Kommunregistret.",
    "report": "Rapporterna till statsrådet (kvartalsrapporter med den förvalda rytmen) och slutrapporten till "
              "Regeringskansliet.",
    "restore": "Återställ en säkerhetskopia: databasen, den hemliga nyckeln och importerade filer.",
    "sample": "Urvalet av besöksplatser.",
    "schedule": "Planering av besöken.",
    "serve": "Kör appen med en produktionsserver (gunicorn) bakom en proxy med HTTPS.",
    "setup": "Migrera databasen, läs in referensdata och skapa en första administratör.",
    "site": "Besöksplatser: allt om en plats.",
    "user": "Personalkonton.",
}


def load_command(name: str) -> click.Command:
    module, _, attribute = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def _app_for_command() -> Flask:
    """The app for the command being run (ScriptInfo calls this the first time a command needs the app)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and getattr(ctx.command, "database_only", False):
        from . import create_cli_app
        return create_cli_app()
    from . import create_app
    return create_app()


class _Commands(FlaskGroup):
    """Flask's command group, which says in words that the database is not set up (instead of a traceback)
    when a command meets a database without the app's tables, and imports the app's commands when they are
    run (Flask's own group makes the whole app to find or list them)."""

    def get_command(self, ctx, name):
        if name in COMMANDS:
            return load_command(name)
        return super().get_command(ctx, name)  # run, shell, routes, plugins (limiter), and db from the app

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return sorted(set(self.commands) | set(SHORT_HELP))

    def format_commands(self, ctx, formatter):
        """As click lists them, with the app's commands described by SHORT_HELP instead of imported."""
        rows = []
        for name in self.list_commands(ctx):
            command = click.Group.get_command(self, ctx, name)  # Flask's and the plugins' (already loaded)
            if command is None:
                command = click.Command(name, help=SHORT_HELP[name])
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section(click_gettext("Commands")):  # click's heading, as click translates it
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

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


def command_group() -> FlaskGroup:
    return _Commands(create_app=_app_for_command, help="coordinator: urval, besök och uppföljning av kommuner.")


def main() -> None:
    command_group().main(prog_name="coordinator")


def register_commands(app: Flask) -> None:
    """Every command on the app's own group (app.cli: the tests' runner, `flask --app coordinator`)."""
    for name in COMMANDS:
        app.cli.add_command(load_command(name), name)


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
    from sqlalchemy import select

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
