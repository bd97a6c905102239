"""`coordinator outbox …`: the mail worker (cron runs `outbox send`) and the outbox's list and retry."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..clitools import database_only

outbox_cli = click.Group("outbox", help="Utkorgen för e-post.")


@database_only  # it sends the stored messages as they are: no page, template or translation is needed
@outbox_cli.command("send", help="Skicka de meddelanden i utkorgen som står på tur (via SMTP).")
@click.option("--limit", type=int, default=100, show_default=True, help="Högst så många meddelanden.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def send(limit: int, as_json: bool):
    from ..clitools import echo_json
    from . import delivery as outbox

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
    from . import delivery as outbox

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
    from . import delivery as outbox
    from .models import FAILED, OutboxMessage

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        fail(f"Meddelande {message_id} finns inte.")
    if message.status != FAILED:
        fail(f"Meddelande {message_id} har status {message.status}; bara misslyckade kan försökas igen.")
    outbox.retry(message)
    db.session.commit()
    click.echo(f"Meddelande {message_id} ligger i kön igen.")
