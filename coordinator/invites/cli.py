"""`coordinator invites …`: the visits' calendar files."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

invites_cli = click.Group("invites", help="Kalenderinbjudningar.")


@invites_cli.command("ics", help="Skriv ut besökets aktuella kalenderfil: inbjudan (METHOD:REQUEST), eller återbudet (METHOD:CANCEL) för ett inställt besök.")
@click.argument("visit_id", type=int)
@click.option("--cancel", is_flag=True, help="Skriv ut återbudet (METHOD:CANCEL) i stället.")
@with_appcontext
def ics(visit_id: int, cancel: bool):
    from ..clitools import fail
    from ..extensions import db
    from ..scheduling.models import Visit
    from . import service

    visit = db.session.get(Visit, visit_id)
    if visit is None:
        fail(f"Besök {visit_id} finns inte.")
    try:
        data = service.calendar_for(visit, "CANCEL" if cancel else None)  # a cancelled visit: its CANCEL
    except service.InviteError as e:
        fail(str(e))
    click.echo(data, nl=False)  # the bytes as generated: UTF-8, CRLF line ends
