"""`coordinator digest`: what is due, as JSON or as the weekly digest mail (meant for cron).

    coordinator digest --json                      # the start page's items for today
    coordinator digest --as-of 2016-10-31 --json
    coordinator digest --send                      # queue this week's digest to those who asked for it
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail


@click.command("digest", help="Vad som väntar: som JSON, eller som veckobrev till dem som valt det (--send).")
@click.option("--as-of", "as_of", default=None, metavar="ÅÅÅÅ-MM-DD", help="Dagen läget gäller (i dag om inget anges).")
@click.option("--send", is_flag=True, help="Lägg veckobrevet i utkorgen till var och en som valt det under Konto.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som ett JSON-objekt.")
@with_appcontext
def digest(as_of: str | None, send: bool, as_json: bool) -> None:
    from datetime import date

    from ..scheduling.overview import today
    from ..tasks.auto import sync_now
    from . import digest as letters
    from . import due

    if as_of:
        try:
            on = date.fromisoformat(as_of.strip())
        except ValueError:
            fail(f"Ogiltigt datum ”{as_of}”. Skriv det som ÅÅÅÅ-MM-DD.", as_json)
        if not date(2000, 1, 1) <= on <= date(2099, 12, 31):
            fail("Välj ett datum mellan 2000-01-01 och 2099-12-31.", as_json)
    else:
        on = today()
    sync_now(on)
    ov = due.compute(on)
    result = letters.as_json(ov)
    if send:
        queued = letters.queue(ov)
        result["sent"] = {"queued": [u.email for u in queued.queued], "already": [u.email for u in queued.already]}
    if as_json:
        echo_json(result)
        return
    click.echo(f"Läget den {on.isoformat()}: {len(ov.visits_next)} besök de närmaste 14 dagarna, "
               f"{len(ov.notes_missing)} anteckningar att skriva, {len(ov.unanswered)} inbjudningar utan svar, "
               f"{len(ov.activities_overdue)} handlingsplaner med försenade aktiviteter, "
               f"{len(ov.questionnaires)} enkäter utan svar, {ov.mail.failed_count} utskick som inte gick iväg, "
               f"{len(ov.tasks)} öppna uppgifter.")
    if send:
        click.echo(f"Veckobrev i utkorgen: {len(result['sent']['queued'])} nya, "
                   f"{len(result['sent']['already'])} hade redan fått veckans. "
                   "`coordinator outbox send` skickar dem.")
