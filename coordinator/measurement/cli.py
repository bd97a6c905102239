"""`coordinator measurement …`: reminders before the visits (run it daily from cron, like `outbox send`)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

measurement_cli = click.Group("measurement", help="Mätningar före besöken.")


@measurement_cli.command("remind", help="Lägg en påminnelse i utkorgen för varje mätning som inte är inskickad "
                                        "och vars besök är inom DAYS dagar. Ingen får mer än en påminnelse.")
@click.option("--days", type=click.IntRange(1, 90), default=7, show_default=True)
@click.option("--base-url", envvar="PUBLIC_URL", default=None,
              help="Adressen som länkarna i e-posten börjar med, t.ex. https://samordnaren.example.se "
                   "(miljövariabeln PUBLIC_URL).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remind(days: int, base_url: str | None, as_json: bool):
    from ..cli import echo_json
    from ..extensions import db
    from . import service

    if base_url:  # the links are made as if the request came to this address
        with current_app.test_request_context("/", base_url=base_url):
            reminded, skipped = service.remind(days)
    else:
        reminded, skipped = service.remind(days)
    db.session.commit()
    if as_json:
        echo_json({"reminded": [{"request_id": r.id, "site": r.site.label, "round": r.round} for r in reminded],
                   "no_contacts": [{"request_id": r.id, "site": r.site.label, "round": r.round} for r in skipped]})
        return
    click.echo(f"Påminnelser i utkorgen: {len(reminded)}" + "".join(f"\n- {r.site.label} (omgång {r.round})"
                                                               for r in reminded))
    for r in skipped:
        click.echo(f"Ingen aktiv kontakt, ingen påminnelse: {r.site.label} (omgång {r.round})", err=True)
    click.echo("Skicka dem med: coordinator outbox send")
