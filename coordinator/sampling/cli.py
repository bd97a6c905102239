"""`coordinator sample ...`: the command-line contract that scripts and checks rely on."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail
from ..extensions import db
from ..registry import service as registry
from . import design, service
from .models import Sample

sample_cli = click.Group("sample", help="Urvalet av besöksplatser.")


def _year(year: int | None) -> int:
    return year or registry.defaults().reference_year


@sample_cli.command("draw", help="Dra ett urval. Inget sparas utan --save.")
@click.option("--year", type=int, default=None, help="Referensår för befolkningen.")
@click.option("--seed", type=int, required=True, help="Slumpfrö: samma frö ger samma urval.")
@click.option("--balance-skr/--no-balance-skr", default=None, help="Sprid även över SKR:s kommungrupper.")
@click.option("--save", is_flag=True, help="Spara urvalet som utkast.")
@click.option("--name", default="", help="Namn på det sparade urvalet.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def draw(year, seed, balance_skr, save, name, as_json):
    try:
        frame, result = service.draw(_year(year), seed, balance_skr)
    except service.SampleError as e:
        fail(str(e), as_json)
    data = service.draw_json(frame, result)
    if save:
        sample = service.save_draw(frame, result, name=name)
        db.session.commit()
        data["id"] = sample.id
        data["diagnostics"]["srs"] = sample.diagnostics.get("srs")
    if as_json:
        echo_json(data)
        return
    click.echo(f"Urval år {result.reference_year}, frö {seed}: {len(result.sites)} besöksplatser, sb = {result.diagnostics.sb:.3f}")
    for s in result.sites:
        click.echo(f"  grupp {s.group}  {s.kommunkod} {s.kommun}{', ' + s.enhet if s.enhet else ''}  π = {s.pi:.4f}"
                   if s.pi is not None else f"  grupp {s.group}  {s.kommunkod} {s.kommun}, {s.enhet}")
    if save:
        click.echo(f"Sparat som urval {data['id']}.")


@sample_cli.command("adopt", help="Anta ett sparat urval (som i webbgränssnittet).")
@click.argument("sample_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def adopt(sample_id, as_json):
    sample = db.session.get(Sample, sample_id)
    if sample is None:
        fail(f"Urval {sample_id} finns inte.", as_json)
    try:
        service.adopt(sample)
    except service.SampleError as e:
        fail(str(e), as_json)
    db.session.commit()
    if as_json:
        echo_json({"id": sample.id, "status": sample.status, "sites": len(sample.active_sites)})
    else:
        click.echo(f"Urval {sample.id} är antaget: {len(sample.active_sites)} besöksplatser.")


@sample_cli.command("pi", help="Varje kommuns inklusionssannolikhet under designen.")
@click.option("--year", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def pi(year, as_json):
    year = _year(year)
    try:
        frame = service.build_frame(year)
        values = design.inclusion_probabilities(frame, service.current_settings())
    except (service.SampleError, design.DesignError) as e:
        fail(str(e), as_json)
    if as_json:
        echo_json({"year": year, "pi": values})
    else:
        for u in frame.units:
            click.echo(f"{u.kommunkod} {u.kommun:<20} {values[u.kommunkod]:.6f}")


@sample_cli.command("validate", help="Pröva ett handplockat urval (CSV: kommunkod,enhet) mot reglerna.")
@click.option("--year", type=int, default=None)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def validate(year, path, as_json):
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    selection, problems = service.parse_selection(text)
    if not problems:
        try:
            problems = [design.describe(p) for p in service.validate_selection(_year(year), selection)]
        except service.SampleError as e:
            fail(str(e), as_json)
    if as_json:
        echo_json({"valid": not problems, "problems": problems, "sites": len(selection)})
    else:
        click.echo("Urvalet följer reglerna." if not problems else "\n".join(problems))
