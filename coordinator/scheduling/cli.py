"""`coordinator schedule ...`: planning from the command line."""
import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail
from ..extensions import db
from . import service

schedule_cli = click.Group("schedule", help="Planering av besöken.")


@schedule_cli.command("plan", help="Föreslå datum för besöken i en omgång eller båda. Inget sparas utan --save.")
@click.option("--round", "round_", type=click.Choice(["1", "2", "all"]), default="all", show_default=True)
@click.option("--save", is_flag=True, help="Spara de föreslagna datumen (bokade besök ändras aldrig).")
@click.option("--time-limit", type=float, default=None, help="Sekunder för lösaren.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def plan(round_, save, time_limit, as_json):
    try:
        result = service.plan(None if round_ == "all" else int(round_), save=save, time_limit=time_limit)
    except service.VisitError as e:
        db.session.rollback()
        fail(str(e), as_json)
    if save:
        db.session.commit()
    else:
        db.session.rollback()
    if as_json:
        echo_json(result)
        return
    for v in result["visits"]:
        who = ", ".join(v["staff"]) or "–"
        click.echo(f"{v['date']}  omgång {v['round']}  {v['site']}  ({v['mode'] or '–'}; {who})")
    stats = result["stats"]
    click.echo(f"Resor: {stats.get('travel_km', 0):.0f} km, {stats.get('travel_days', 0)} resdagar, "
               f"{stats.get('travel_hours', 0):.0f} restimmar, {stats.get('overnights', 0)} övernattningar, "
               f"{stats.get('co2_kg', 0):.0f} kg koldioxid per resenär.")
    for r, (first, last) in result["windows"].items():
        click.echo(f"Omgång {r}: {first} – {last}")
    for w in result["staffing"]:
        click.echo(f"Obs: {w}")


@schedule_cli.command("offer", help="Erbjud kommunen datum för ett besök: ett e-brev med kommunens länk läggs i "
                                    "utkorgen.")
@click.argument("visit_id")
@click.option("--count", type=int, default=None, help="Antal datum (standard: uppdragets inställning, 3).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def offer(visit_id, count, as_json):
    from ..forms import parse_id
    from .models import Visit
    from . import offers

    number = parse_id(visit_id)
    visit = db.session.get(Visit, number) if number is not None else None
    if visit is None:
        fail(f"Besöket {visit_id[:20]!r} finns inte.", as_json)
    try:
        row = offers.offer(visit, count=count)
        result = {"offer_id": row.id, "visit_id": visit.id, "site": visit.site.label, "round": visit.round,
                  "dates": list(row.dates), "link": offers.offer_url(row),
                  "valid_through": offers.links.last_valid_day(row).isoformat(), "outbox_id": row.outbox_message_id}
        db.session.commit()
    except offers.OfferError as e:
        db.session.rollback()
        fail(str(e), as_json)
    if as_json:
        echo_json(result)
        return
    click.echo(f"Erbjudna datum för {result['site']} (omgång {result['round']}): {', '.join(result['dates'])}")
    click.echo(f"Kommunens länk: {result['link']}")


@schedule_cli.command("remind-offers", help="Påminn kommuner som inte har svarat på erbjudna datum (för cron).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remind_offers(as_json):
    from . import offers

    n = offers.remind()
    db.session.commit()
    if as_json:
        echo_json({"reminders": n})
        return
    click.echo(f"{n} påminnelser lades i utkorgen.")
