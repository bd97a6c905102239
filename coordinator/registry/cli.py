import click
from flask.cli import with_appcontext

from ..cli import echo_json, fail
from . import service
from .reference import load_reference_data

registry_cli = click.Group("registry", help="Kommunregistret.")


@registry_cli.command("load", help="Läs in levererad referensdata (idempotent).")
@with_appcontext
def load() -> None:
    echo_json(load_reference_data())


@registry_cli.command("summary", help="Antal kommuner, län och kommuner per ÖJ-grupp ett referensår.")
@click.option("--year", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def summary(year: int | None, as_json: bool) -> None:
    year = year or service.defaults().reference_year
    try:
        data = service.summary(year)
    except service.RegistryError as e:
        fail(str(e), as_json)
    if as_json:
        echo_json(data)
    else:
        click.echo(f"{data['kommuner']} kommuner, {data['lan']} län, år {year}")
        for g, n in data["groups"].items():
            click.echo(f"  grupp {g}: {n}")
