"""`coordinator report ...`: the quarterly report and the final-report basis from the command line.

    coordinator report quarterly 2015Q3 --out rapport.pdf   # a draft, with the period's narratives
    coordinator report final --out underlag.pdf
    coordinator report quarterly 2015Q3 --json              # the figures, as archived when issued
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..cli import echo_json, fail
from .models import FINAL_PERIOD

report_cli = click.Group("report", help="Kvartalsrapporter och underlag till slutrapporten.")


def _draft(period_text: str, out: Path | None, as_json: bool) -> None:
    from . import figures, pdf
    from .service import narrative_texts

    if out is None and not as_json:
        fail("Ange --out FIL.pdf för PDF:en eller --json för siffrorna.")
    try:
        period = figures.parse_period(period_text)
    except ValueError as e:
        fail(str(e), as_json)
    data = figures.compute(period.key)
    if out is not None:
        out.write_bytes(pdf.render(data, narrative_texts(period.key), {"draft": True}))
        if not as_json:
            click.echo(f"Utkast till {period.label} skrivet till {out}.")
    if as_json:
        echo_json(data)


@report_cli.command("quarterly", help="Kvartalsrapport (utkast) för ett kvartal, t.ex. 2015Q3.")
@click.argument("period")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Skriv PDF:en hit.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut rapportens siffror som JSON.")
@with_appcontext
def quarterly(period: str, out: Path | None, as_json: bool) -> None:
    if period.strip().lower() == FINAL_PERIOD:
        fail("Underlaget till slutrapporten tas fram med: coordinator report final", as_json)
    _draft(period, out, as_json)


@report_cli.command("final", help="Underlag till slutrapporten (hela uppdraget), som utkast.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Skriv PDF:en hit.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut underlagets siffror som JSON.")
@with_appcontext
def final(out: Path | None, as_json: bool) -> None:
    _draft(FINAL_PERIOD, out, as_json)


@report_cli.command("issue", help="Utfärda nästa version av rapporten för PERIOD (2015Q3, eller slut för underlaget "
                                  "till slutrapporten): PDF, HTML och siffror låses med en SHA-256.")
@click.argument("period")
@click.option("--comment", default="", help="Vad som är nytt i den här versionen.")
@click.option("--as", "email", default=None, help="E-postadress till användaren som utfärdar (admin eller staff).")
@with_appcontext
def issue(period: str, comment: str, email: str | None) -> None:
    from sqlalchemy import func, select

    from ..auth.models import User
    from ..extensions import db
    from . import figures, service

    try:
        p = figures.parse_period(period)
    except ValueError as e:
        fail(str(e))
    user = None
    if email:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None or user.role not in ("admin", "staff") or not user.active:
            fail(f"Ingen aktiv användare på kansliet med e-postadressen {email}.")
    try:
        row = service.issue(p, comment, user, actor=f"kommandorad:{user.email if user else 'okänd'}")
    except service.IssueConflict as e:
        fail(str(e))
    click.echo(f"{row.title}: version {row.version_number} utfärdad ({row.size} byte).")
    click.echo(f"sha256 {row.sha256}")
