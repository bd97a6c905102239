import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail
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


@registry_cli.command("import", help="Importera folkmängd från en SCB-fil (CSV). Allt eller inget.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--year", type=int, default=None,
              help="År för en fil utan årskolumn; för en fil med flera år: importera bara detta.")
@click.option("--dry-run", is_flag=True, help="Läs och kontrollera filen men spara ingenting.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def import_file(file: str, year: int | None, dry_run: bool, as_json: bool) -> None:
    import getpass
    import sys
    from pathlib import Path

    from .scb import PopulationImportError

    path = Path(file)
    data = path.read_bytes()
    try:
        if dry_run:
            plan = service.plan_import(data, year)
            imp = None
        else:
            try:
                user = getpass.getuser()
            except Exception:  # no user name in some containers
                user = "okänd"
            imp, plan = service.import_population(data, path.name, year, actor=f"kommandorad:{user}"[:200])
    except PopulationImportError as e:
        messages = e.messages()
        if as_json:
            echo_json({"error": "Filen importerades inte; inget sparades.", "problems": messages})
        else:
            click.echo("Filen importerades inte; inget sparades.", err=True)
            for m in messages:
                click.echo(f"  {m}", err=True)
        sys.exit(1)
    result = {
        "import_id": imp.id if imp else None,
        "dry_run": dry_run,
        "file": path.name,
        "sha256": plan.sha256,
        "years": plan.years,
        "rows": plan.rows,
        "replaced": plan.replaced,
        "changed": plan.changed,
        "per_year": {str(y): v for y, v in plan.per_year.items()},
        "encoding": plan.parsed.encoding,
        "delimiter": plan.parsed.delimiter,
    }
    if as_json:
        echo_json(result)
    else:
        verb = "Skulle importera" if dry_run else f"Import {imp.id}:"
        click.echo(f"{verb} {plan.rows} rader för år {', '.join(map(str, plan.years))} "
                   f"({plan.replaced} ersatte tidigare siffror, {plan.changed} med ändrat värde).")
