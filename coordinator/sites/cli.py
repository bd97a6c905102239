"""`coordinator site show KOMMUNKOD [--unit NAME] --json`: everything about one visit site."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail

site_cli = click.Group("site", help="Besöksplatser: allt om en plats.")


@site_cli.command("show", help="Allt om en besöksplats i det antagna urvalet, t.ex. 0180 --unit Skärholmen.")
@click.argument("kommunkod")
@click.option("--unit", default=None, help="Stadsdel/enhet när kommunen har flera besöksplatser.")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som ett JSON-objekt.")
@with_appcontext
def show(kommunkod: str, unit: str | None, as_json: bool) -> None:
    from ..scheduling.overview import today
    from . import story as stories
    from .views import describe

    kommunkod = kommunkod.strip()
    if not (len(kommunkod) == 4 and kommunkod.isdigit()):
        fail(f"Ogiltig kommunkod ”{kommunkod}”: den har fyra siffror, t.ex. 0180.", as_json)
    sites = stories.find_site(kommunkod, unit)
    if not sites:
        where = f" med enheten ”{unit}”" if unit else ""
        fail(f"Det antagna urvalet har ingen besöksplats i kommun {kommunkod}{where}.", as_json)
    if len(sites) > 1:
        units = ", ".join(s.enhet or "(central förvaltning)" for s in sites)
        fail(f"Kommun {kommunkod} har flera besöksplatser: ange --unit (en av: {units}).", as_json)
    s = stories.story(sites[0], today())
    from ..links import public_context
    with public_context():  # the words link to pages
        timeline = [{"when": d.when.isoformat(), "what": d.text, "who": d.who} for d in describe(s.timeline)]
    data = stories.as_json(s, timeline)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['label']} ({data['kommunkod']}), {data['lan']}, ÖJ-grupp {data['group']}")
    for v in data["visits"]:
        click.echo(f"  Besök {v['round']}: {v['date'] or 'inget datum'} ({v['status'] or '–'})")
    p = data["plan"]
    click.echo(f"  Anteckningar: {data['notes']}; handlingsplan: {p['activities']} aktiviteter, {p['decided']} "
               f"beslutade, {p['done']} genomförda; enkäter: {data['questionnaires']}")
