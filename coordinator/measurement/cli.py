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
    from ..clitools import echo_json
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


@measurement_cli.command("estimate", help="Vägda riksskattningar (1/π) med 95 %-intervall för formuläret "
                                          "QUESTIONNAIRE_ID, bredvid de besökta platsernas ovägda andelar.")
@click.argument("questionnaire_id", type=str)
@click.option("--round", "rnd", type=click.IntRange(1, 2), default=None,
              help="Omgång 1 eller 2 (utan: varje plats senast inskickade svar).")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut ett JSON-objekt.")
@with_appcontext
def estimate(questionnaire_id: str, rnd: int | None, as_json: bool):
    from ..clitools import echo_json, fail
    from .tabulate import format_number
    from .weighted import UnknownQuestionnaire, national_estimates

    try:
        qid = int(questionnaire_id.strip())
        result = national_estimates(qid, rnd)
    except (ValueError, UnknownQuestionnaire):
        fail(f"Det finns inget formulär med nummer {questionnaire_id!r}. "
             "Se formulären under Mätning i webbappen.", as_json)
        return
    if as_json:
        echo_json(result)
        return

    def pct(x):
        return "–" if x is None else format_number(100 * x, 1) + " %"

    click.echo(f"{result['questionnaire']}: vägda riksskattningar ({result['sites']} kommuner med svar)")
    for q in result["questions"]:
        click.echo(f"\n{q['position']}. {q['text']} (besvarad av {q['answered']})")
        for o in q["options"]:
            if o["suppressed"]:
                click.echo(f"  {o['label']}: för få svar (n < {result['min_base']}) för en riksskattning")
            else:
                lo, hi = o["ci95"]
                click.echo(f"  {o['label']}: ovägd {pct(o['unweighted_share'])}, vägd {pct(o['weighted_share'])} "
                           f"(95 % KI {pct(lo)}–{pct(hi)})")
        if "weighted_mean" in q:
            if q["suppressed"]:
                click.echo(f"  För få svar (n < {result['min_base']}) för en riksskattning")
            else:
                lo, hi = q["ci95"]
                click.echo(f"  Medelvärde: ovägt {format_number(q['unweighted_mean'])}, vägt "
                           f"{format_number(q['weighted_mean'])} (95 % KI {format_number(lo)}–{format_number(hi)})")
    click.echo("\n" + result["method"])
