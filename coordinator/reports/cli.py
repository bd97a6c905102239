"""`coordinator report ...`: the report for a report period and the final-report basis from the command line.

The command for a period keeps its old name, `quarterly`, whatever the rhythm; its help and messages
name the period as the report does (a quarter, or a period of another rhythm).

    coordinator report quarterly 2015Q3 --out rapport.pdf   # a draft, with the period's narratives
    coordinator report quarterly 2015Q3 --out rapport.docx  # the same as a Word file (the type follows the extension)
    coordinator report quarterly 2015-03 --out rapport.pdf  # the same for a period of another rhythm
    coordinator report final --out slutrapport.pdf          # the final report (or slutrapport.docx for Word)
    coordinator report issue slut --yes                     # issue without the question (scripts)
    coordinator report quarterly 2015Q3 --json              # the figures, as archived when issued
    coordinator report remind [--as-of 2016-10-10] [--json]  # reminders to the office (daily, from cron)
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..clitools import echo_json, fail
from .models import FINAL, FINAL_PERIOD

report_cli = click.Group("report", help="Rapporterna till statsrådet (kvartalsrapporter med den förvalda rytmen) och "
                                        "slutrapporten till Regeringskansliet.")
FORMATS = (".pdf", ".docx")


OUT_TYPES = {".pdf": "PDF", ".docx": "Word"}


def out_type(out: Path | None, as_json: bool = False) -> str | None:
    """The file type --out asks for, by its extension: ".pdf" or ".docx" (a clear refusal otherwise)."""
    if out is None:
        return None
    suffix = out.suffix.lower()
    if suffix not in OUT_TYPES:
        fail(f"Filen {out.name} har en filändelse som inte stöds. Skriv rapporten till en fil som slutar på .pdf "
             "(PDF) eller .docx (Word).", as_json)
    return suffix


def render_file(suffix: str, data: dict, narratives: dict, status: dict) -> bytes:
    """The report in the file type asked for."""
    if suffix == ".docx":
        from . import docx
        return docx.render(data, narratives, status)
    from . import pdf
    return pdf.render(data, narratives, status)


def _draft(period_text: str, out: Path | None, as_json: bool) -> None:
    from . import figures, wording
    from .service import narrative_texts

    if out is None and not as_json:
        fail("Ange --out FIL.pdf (PDF) eller --out FIL.docx (Word) för rapporten, eller --json för siffrorna.")
    suffix = out_type(out, as_json)
    try:
        period = figures.parse_period(period_text)
    except ValueError as e:
        fail(str(e), as_json)
    data = figures.compute(period.key)
    if out is not None:
        try:
            out.write_bytes(render_file(suffix, data, narrative_texts(period.key), {"draft": True}))
        except OSError as e:
            fail(f"Filen {out} kunde inte skrivas ({e.strerror or e}).", as_json)
        if not as_json:
            # "Utkast till Kvartal 3 2015", as before; another rhythm's label is months ("mars–juni 2015").
            what = "slutrapporten" if period.kind == FINAL else period.label if wording.words(period).quarter \
                else f"rapporten för perioden {period.label}"
            click.echo(f"Utkast till {what} skrivet till {out} ({OUT_TYPES[suffix]}).")
    if as_json:
        echo_json(data)


@report_cli.command("quarterly", help="Rapport (utkast) för en rapportperiod, t.ex. 2015Q3 (ett kvartal) eller "
                                      "2015-02 (en period som börjar i februari 2015). Kommandot heter quarterly "
                                      "vilken rytm uppdraget än har.")
@click.argument("period")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Skriv rapporten hit: FIL.pdf ger PDF, FIL.docx ger Word.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut rapportens siffror som JSON.")
@with_appcontext
def quarterly(period: str, out: Path | None, as_json: bool) -> None:
    if period.strip().lower() == FINAL_PERIOD:
        fail("Slutrapporten tas fram med: coordinator report final", as_json)
    _draft(period, out, as_json)


@report_cli.command("final", help="Slutrapporten till Regeringskansliet (hela uppdraget), som utkast: PDF, eller "
                                  "Word om filen slutar på .docx.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Skriv rapporten hit: FIL.pdf ger PDF, FIL.docx ger Word.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut slutrapportens siffror som JSON.")
@with_appcontext
def final(out: Path | None, as_json: bool) -> None:
    _draft(FINAL_PERIOD, out, as_json)


@report_cli.command("issue", help="Utfärda nästa version av rapporten för PERIOD (2015Q3, 2015-02, eller slut för "
                                  "slutrapporten): PDF, Word, HTML och siffror låses; filerna med var sin SHA-256. "
                                  "Det går inte att ångra; kommandot frågar först (--yes för skript).")
@click.argument("period")
@click.option("--comment", default="", help="Vad som är nytt i den här versionen.")
@click.option("--as", "email", default=None, help="E-postadress till användaren som utfärdar (admin eller staff).")
@click.option("--yes", is_flag=True, help="Fråga inte: utfärda direkt (för skript).")
@with_appcontext
def issue(period: str, comment: str, email: str | None, yes: bool) -> None:
    from sqlalchemy import func, select

    from flask_babel import force_locale

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
    if not yes:
        with force_locale(service.REPORT_LOCALE):
            report_title = service.title(p)
        number = service.latest_version(p.kind, p.key) + 1
        click.echo(f"Version {number} av {report_title} utfärdas"
                   + (f" med kommentaren ”{comment.strip()}”." if comment.strip() else " utan kommentar.")
                   + "\nRapporten låses som den ser ut nu: PDF:en, Word-filen, siffrorna och texterna sparas med "
                     "kontrollsummor (SHA-256) och ändras aldrig. Departementet kan läsa versionen så snart den är utfärdad."
                   + "\nEn utfärdad version kan inte ändras eller tas tillbaka; en rättelse blir en ny version.")
        try:
            answer = click.confirm("Utfärda?", default=False)
        except click.Abort:  # no answer (no terminal): nothing is issued
            answer = False
        if not answer:
            fail("Ingenting utfärdades. Svara ja på frågan, eller ge --yes i ett skript.")
    try:
        row = service.issue(p, comment, user, actor=f"kommandorad:{user.email if user else 'okänd'}")
    except service.IssueConflict as e:
        fail(str(e))
    click.echo(f"{row.title}: version {row.version_number} utfärdad (PDF {row.size} byte, Word {row.docx_size} byte).")
    click.echo(f"sha256 {row.sha256} (PDF)")
    click.echo(f"sha256 {row.docx_sha256} (Word)")


@report_cli.command("remind", help="Lägg en påminnelse i utkorgen till varje aktiv admin och handläggare för varje "
                                   "rapport som ska vara klar inom inställningens antal dagar (eller är försenad) och "
                                   "inte är utfärdad. Ingen får samma påminnelse två gånger. Kör den dagligen.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Dagen påminnelserna gäller (ÅÅÅÅ-MM-DD); utan den: i dag.")
@click.option("--json", "as_json", is_flag=True, help="Skriv ut resultatet som JSON.")
@with_appcontext
def remind(as_of, as_json: bool) -> None:
    from ..scheduling.overview import today
    from .reminders import queue_and_commit

    on = as_of.date() if as_of else today()
    result = queue_and_commit(on)
    if as_json:
        echo_json({"as_of": on.isoformat(),
                   "queued": [{"period": r.period.key, "due": r.due.isoformat(), "user": u.email}
                              for r, u in result.queued],
                   "already": result.already})
        return
    click.echo(f"Påminnelser i utkorgen: {len(result.queued)}" + "".join(
        f"\n- {r.period.label} (ska vara klar {r.due.isoformat()}): {u.email}" for r, u in result.queued))
    if result.already:
        click.echo(f"Redan påminda tidigare: {result.already}")
    if result.queued:
        click.echo("Skicka dem med: coordinator outbox send")
