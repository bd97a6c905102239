"""`coordinator invites …` and `coordinator outbox …`: calendars and the mail worker."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

invites_cli = click.Group("invites", help="Kalenderinbjudningar.")
outbox_cli = click.Group("outbox", help="Utkorgen för e-post.")


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


@outbox_cli.command("send", help="Skicka de meddelanden i utkorgen som står på tur (via SMTP).")
@click.option("--limit", type=int, default=100, show_default=True, help="Högst så många meddelanden.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def send(limit: int, as_json: bool):
    from ..clitools import echo_json
    from ..outbox import delivery as outbox

    report = outbox.deliver_pending(current_app.config, limit=limit)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"Skickade: {report.sent}, försöks igen senare: {report.retried}, misslyckade: {report.failed}")


@outbox_cli.command("list", help="Visa utkorgen, nyaste först.")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None)
@click.option("--limit", type=int, default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_messages(status: str | None, limit: int, as_json: bool):
    from ..clitools import echo_json
    from ..outbox import delivery as outbox

    messages = outbox.messages(status, limit)
    if as_json:
        echo_json({"messages": [outbox.message_json(m) for m in messages]})
        return
    if not messages:
        click.echo("Utkorgen är tom.")
    for m in messages:
        line = f"{m.id:>5}  {m.status:<8} försök {m.attempts}  {m.kind:<7} {m.subject}"
        if m.status in ("pending", "sending"):
            line += f"  (nästa försök {m.next_attempt_at:%Y-%m-%d %H:%M})"
        if m.last_error:
            line += f"\n       fel: {m.last_error}"
        click.echo(line)


@outbox_cli.command("retry", help="Lägg ett misslyckat meddelande i kön igen.")
@click.argument("message_id", type=int)
@with_appcontext
def retry(message_id: int):
    from ..clitools import fail
    from ..extensions import db
    from ..outbox import delivery as outbox
    from ..outbox.models import FAILED, OutboxMessage

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        fail(f"Meddelande {message_id} finns inte.")
    if message.status != FAILED:
        fail(f"Meddelande {message_id} har status {message.status}; bara misslyckade kan försökas igen.")
    outbox.retry(message)
    db.session.commit()
    click.echo(f"Meddelande {message_id} ligger i kön igen.")
