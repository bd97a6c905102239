"""`coordinator feedback region LANSKOD --out F.pdf` and `coordinator feedback examples --out F.pdf`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


def _write(out: str, data: bytes) -> None:
    if not out.lower().endswith(".pdf"):
        raise click.UsageError("--out ska vara en PDF-fil (F.pdf).")
    try:
        Path(out).write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"Kunde inte skriva {out}: {e.strerror}") from e
    click.echo(f"Skrev {out} ({len(data)} byte).")


@click.command("region", help="Den regionala sammanfattningen för ett län som PDF (LANSKOD, t.ex. 01).")
@click.argument("lanskod")
@click.option("--out", required=True, help="Filen att skriva (F.pdf).")
@with_appcontext
def region_command(lanskod: str, out: str) -> None:
    from .spread import region, region_pdf

    data = region(lanskod.strip().zfill(2) if lanskod.strip().isdigit() else lanskod)
    if data is None:
        raise click.ClickException(f"Det finns inget län med koden {lanskod!r}.")
    _write(out, region_pdf(data))


@click.command("examples", help="Goda exempel från hela landet som PDF.")
@click.option("--out", required=True, help="Filen att skriva (F.pdf).")
@with_appcontext
def digest_command(out: str) -> None:
    from .spread import digest, digest_pdf

    _write(out, digest_pdf(digest()))
