"""`coordinator feedback …`: feedback letters, regional summaries and the good-examples digest as files.

    coordinator feedback letter 0512 --round 1 --out brev.pdf     # or brev.docx: the type follows the extension
    coordinator feedback letter 0180 --unit Skärholmen --round 2 --out brev.docx

A letter that has been approved or sent is written as it was approved; a draft as it reads now,
marked UTKAST.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

feedback_cli = click.Group("feedback", help="Återkoppling till kommuner, län och hela landet.")

from .spread_cli import digest_command, region_command  # noqa: E402

feedback_cli.add_command(region_command)
feedback_cli.add_command(digest_command)

SUFFIXES = (".pdf", ".docx")


@feedback_cli.command("letter", help="Återkopplingsbrevet till en besöksplats efter ett besök, som PDF eller Word-fil.")
@click.argument("kommunkod")
@click.option("--round", "round_", type=click.IntRange(1, 2), required=True, help="Besöksomgång: 1 eller 2.")
@click.option("--unit", default=None, help="Stadsdel/enhet när kommunen har flera besöksplatser.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="Filen att skriva: .pdf eller .docx.")
@with_appcontext
def letter(kommunkod: str, round_: int, unit: str | None, out: Path) -> None:
    from ..clitools import fail
    from ..sites import story as stories
    from . import document, service
    from .models import DRAFT

    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        fail(f"Filen måste sluta på .pdf eller .docx, inte ”{out.name}”.")
    kommunkod = kommunkod.strip()
    if not (len(kommunkod) == 4 and kommunkod.isdigit()):
        fail(f"Ogiltig kommunkod ”{kommunkod}”: den har fyra siffror, t.ex. 0180.")
    sites = stories.find_site(kommunkod, unit)
    if not sites:
        where = f" med enheten ”{unit}”" if unit else ""
        fail(f"Det antagna urvalet har ingen besöksplats i kommun {kommunkod}{where}.")
    if len(sites) > 1:
        units = ", ".join(s.enhet or "(central förvaltning)" for s in sites)
        fail(f"Kommun {kommunkod} har flera besöksplatser: ange --unit (en av: {units}).")
    site = sites[0]
    row = service.letter_for(site.id, round_)
    if row is None:
        fail(f"{site.label} har inget återkopplingsbrev för omgång {round_} än. Skapa ett utkast på "
             "besöksplatsens sida efter besöket.")
    data = service.current(row)
    draft = row.status == DRAFT
    body = document.render_pdf(data, draft=draft) if suffix == ".pdf" else document.render_docx(data, draft=draft)
    try:
        out.write_bytes(body)
    except OSError as e:
        fail(f"Kunde inte skriva {out}: {e.strerror or e}.")
    state = "utkast" if draft else ("skickat" if row.status == "skickat" else "godkänt")
    click.echo(f"Återkopplingsbrevet till {site.label}, omgång {round_} ({state}), skrivet till {out}.")
