"""`coordinator schedule ...`: planning from the command line."""
import click
from flask.cli import with_appcontext

from ..cli import echo_json, fail
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
        click.echo(f"{v['date']}  omgång {v['round']}  {v['site']}")
    stats = result["stats"]
    click.echo(f"Resor: {stats.get('travel_km', 0):.0f} km, {stats.get('travel_days', 0)} resdagar.")
