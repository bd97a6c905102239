"""The `coordinator` command finds its commands without making the whole app (coordinator/cli.py).

Its --help is what Flask's own command group prints for the whole app, word for word; every command it names
is the app's; a command marked database_only runs on the light app, every other one on the whole app.
(Which modules a command's process imports is checked in test_lean.py, in a process of its own.)
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from coordinator import cli


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_help_is_flasks_for_the_whole_app_word_for_word(app, width, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")  # both groups set it; put back as it was afterwards
    ours = cli.command_group()
    flasks = FlaskGroup(create_app=lambda: app, help=ours.help, set_debug_flag=False)
    settings = {"terminal_width": width, "max_content_width": width}
    mine = CliRunner().invoke(ours, ["--help"], prog_name="coordinator", **settings)
    theirs = CliRunner().invoke(flasks, ["--help"], prog_name="coordinator", **settings)
    assert mine.exit_code == theirs.exit_code == 0, mine.output + theirs.output
    assert "  outbox " in mine.output and "  db " in mine.output  # the app's commands, and the one create_app adds
    assert mine.output == theirs.output


def test_every_command_is_the_apps(app):
    assert set(cli.SHORT_HELP) == set(app.cli.list_commands(None)) == set(cli.COMMANDS) | {"db"}
    for name in cli.COMMANDS:
        assert cli.load_command(name) is app.cli.get_command(None, name), name


def test_the_cron_command_gets_the_light_app_and_the_others_the_whole_one(tmp_path, monkeypatch):
    """The app a command is given: create_cli_app for `outbox send` (no pages), create_app for `outbox list`;
    the same settings."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    import click

    made = {}
    outbox = cli.load_command("outbox")
    for name in ("send", "list"):
        with click.Context(outbox.get_command(None, name)):
            made[name] = cli._app_for_command()
    assert list(made["send"].blueprints) == [] and made["send"].view_functions.keys() <= {"static"}
    assert "invites" in made["list"].blueprints and "index" in made["list"].view_functions
    light, whole = dict(made["send"].config), made["list"].config
    assert light["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert {key: whole[key] for key in light} == light  # every setting the light app has, as the whole app has it
    assert made["send"].instance_path == made["list"].instance_path
