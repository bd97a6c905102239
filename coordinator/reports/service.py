"""The reports' workflow: staff narratives with revisions, and issuing frozen versions.

The report's content (figures, PDF, the HTML body) is figures.py, pdf.py and reports/_body.html;
this module only decides what goes into them and keeps what came out.

Narratives: one row per period and section, guarded by its `version`; every save that changes the
text adds a NarrativeRevision (1, 2, …) and restoring an old revision is a new save. A save based
on an older version raises StaleError and changes nothing; a race between the check and the
commit ends in SQLAlchemy's StaleDataError (or an IntegrityError when two people write the first
text of a section at once), which the views treat the same way.

Issuing: the figures are computed once, the PDF, the Word file (DOCX) and the HTML are rendered
with the version's status and stored, the PDF and the DOCX each with its SHA-256. Issued rows are never updated. Two people issuing the
same period at once race for the version number; the unique constraint decides, and the loser
either takes the next number (the command line) or is refused (a form that said which version it
would issue). The audit log gets ids, periods, sections and hashes, never narrative text.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit import record
from ..extensions import db
from ..i18n import _
from ..timeutil import utcnow
from ..versions import Stale
from . import figures, rhythm, wording
from .models import FINAL, FINAL_PERIOD, IssuedReport, Narrative, NarrativeRevision, sections_for

SECTION_TITLES = {
    "uppdraget": _l("Uppdraget och arbetet"),
    "iakttagelser": _l("Iakttagelser"),
    "analys": _l("Analys"),
    "slutsatser": _l("Slutsatser"),
    "atgarder": _l("Förslag till åtgärder"),
}
# The frozen report is in the office's language, whatever language the issuer reads the app in.
REPORT_LOCALE = "sv"
ISSUE_ATTEMPTS = 3
TEXT_MAX = 20_000


class ReportError(Exception):
    """A request the workflow refuses; the message is for the user."""


class StaleError(ReportError, Stale):
    """The form was based on an older version: someone else saved in between. Nothing was changed."""


class IssueConflict(ReportError):
    """Someone else issued a version of the same period first. Nothing was issued."""


@event.listens_for(IssuedReport, "before_update")
def _issued_reports_are_frozen(mapper, connection, target) -> None:
    """The archive's promise: what was issued is never changed. A correction is a new version."""
    raise ReportError("Ett utfärdat rapportexemplar ändras aldrig; utfärda en ny version i stället.")


# --------------------------------------------------------------------------- periods

def period_or_none(key: str):
    """The period a URL names in its canonical spelling ("2015Q3", "2015-02", "slut"), or None.

    rhythm.parse_period refuses periods that the reporting rhythm does not make."""
    try:
        period = rhythm.parse_period(key)
    except ValueError:
        return None
    return period if period.key == key else None


def periods() -> list:
    """Every report period of the assignment, then the final-report basis."""
    return rhythm.all_periods()


def title(period) -> str:
    """The report's own heading: "Kvartalsrapport: Kvartal 3 2015", "Rapport till statsrådet: mars–juni 2015"."""
    return wording.title(period)


def filename(kind: str, period: str, version: int | None, ext: str = "pdf") -> str:
    """kvartalsrapport-2015Q3-v2.pdf, rapport-2015-03-v1.pdf, slutrapport-v1.pdf; a draft ends in -utkast.
    ext="docx" names the Word file."""
    return wording.filename(FINAL_PERIOD if kind == FINAL else period, version, ext)


# --------------------------------------------------------------------------- narratives

def narrative(period_key: str, section: str) -> Narrative | None:
    return db.session.scalar(select(Narrative).where(Narrative.period == period_key, Narrative.section == section))


def narratives(period_key: str) -> dict[str, Narrative | None]:
    """Every section of the period in report order; None where nothing has been written."""
    rows = {n.section: n for n in db.session.scalars(select(Narrative).where(Narrative.period == period_key))}
    return {section: rows.get(section) for section in sections_for(period_key)}


def narrative_texts(period_key: str) -> dict[str, str]:
    """What the report prints: every section, "" where nothing has been written."""
    return {section: n.text if n else "" for section, n in narratives(period_key).items()}


def narrative_counts() -> dict[str, int]:
    """How many sections have text, per period."""
    return dict(db.session.execute(select(Narrative.period, func.count()).where(Narrative.text != "")
                                   .group_by(Narrative.period)).tuples().all())


def clean_text(text: str | None) -> str:
    """One line ending and no trailing blanks, so an unchanged form is no change."""
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n")
                     .split("\n")).strip()


def _check(expected: int | str | None, actual: int) -> None:
    if expected is None or str(expected).strip() != str(actual):
        raise StaleError(_("Någon annan har sparat texten sedan du öppnade sidan. Det du skickade har inte sparats."))


def _user_id(user) -> int | None:
    return getattr(user, "id", None)


def save_narrative(period_key: str, section: str, base_version: int | str | None, text: str, user,
                   restored_from: int | None = None) -> NarrativeRevision | None:
    """Save a section's text as a new revision; None if the text is what is stored already.

    `base_version` is the narrative's version the form was based on (0 before the first save)."""
    if section not in sections_for(period_key):
        raise ReportError(_("Avsnittet finns inte."))
    text = clean_text(text)
    if len(text) > TEXT_MAX:
        raise ReportError(_("Texten får vara högst %(n)d tecken.", n=TEXT_MAX))
    row = narrative(period_key, section)
    _check(base_version, row.version if row else 0)
    if text == (row.text if row else ""):
        return None
    if row is None:
        row = Narrative(period=period_key, section=section, text="")
        db.session.add(row)
    number = (db.session.scalar(select(func.max(NarrativeRevision.number))
                                .where(NarrativeRevision.narrative_id == row.id)) or 0) if row.id else 0
    row.text, row.updated_at, row.updated_by_id = text, utcnow(), _user_id(user)
    revision = NarrativeRevision(narrative=row, number=number + 1, text=text, user_id=_user_id(user))
    db.session.add(revision)
    db.session.flush()  # raises the version, and checks the one we read
    details: dict[str, Any] = {"period": period_key, "section": section, "revision": revision.number}
    if restored_from is not None:
        details["restored_from"] = restored_from
    record("report.narrative_restored" if restored_from is not None else "report.narrative_saved", row, **details)
    return revision


def history(row: Narrative | None) -> list[NarrativeRevision]:
    """The revisions, newest first."""
    if row is None:
        return []
    return list(db.session.scalars(select(NarrativeRevision).where(NarrativeRevision.narrative_id == row.id)
                                   .options(selectinload(NarrativeRevision.user))
                                   .order_by(NarrativeRevision.number.desc())))


def revision(row: Narrative | None, number: int) -> NarrativeRevision | None:
    if row is None:
        return None
    return db.session.scalar(select(NarrativeRevision).where(NarrativeRevision.narrative_id == row.id,
                                                             NarrativeRevision.number == number))


def restore(period_key: str, section: str, number: int, base_version: int | str | None,
            user) -> NarrativeRevision | None:
    """Make an earlier revision's text current again, as a new revision; None if it already is."""
    old = revision(narrative(period_key, section), number)
    if old is None:
        raise ReportError(_("Versionen finns inte."))
    return save_narrative(period_key, section, base_version, old.text, user, restored_from=number)


# --------------------------------------------------------------------------- issued versions

def issued(period_key: str | None = None) -> list[IssuedReport]:
    """Issued versions (without their PDF and HTML), newest first; all periods, or one."""
    query = select(IssuedReport).options(selectinload(IssuedReport.issued_by))
    if period_key is not None:
        query = query.where(IssuedReport.period == period_key)
    return list(db.session.scalars(query.order_by(IssuedReport.issued_at.desc(), IssuedReport.id.desc())))


def by_period(rows: list[IssuedReport]) -> dict[str, list[IssuedReport]]:
    out: dict[str, list[IssuedReport]] = {}
    for row in rows:
        out.setdefault(row.period, []).append(row)
    return out


def latest_version(kind: str, period_key: str) -> int:
    """The highest version issued for the period, 0 if none."""
    return db.session.scalar(select(func.max(IssuedReport.version_number))
                             .where(IssuedReport.kind == kind, IssuedReport.period == period_key)) or 0


def compute(period) -> dict[str, Any]:
    """The figures as the report prints them: in the report's language, whatever the reader's."""
    with force_locale(REPORT_LOCALE):
        return figures.compute(period.key)


def draft_figures(period) -> dict[str, Any]:
    """compute(), from the drafts' cache while the data is unchanged (never for an issued version)."""
    from . import drafts
    with force_locale(REPORT_LOCALE):
        return drafts.compute(period.key)


def render_draft_pdf(period) -> bytes:
    from . import pdf
    data = draft_figures(period)
    with force_locale(REPORT_LOCALE):
        return pdf.render(data, narrative_texts(period.key), {"draft": True})


def render_draft_docx(period) -> bytes:
    from . import docx
    data = draft_figures(period)
    with force_locale(REPORT_LOCALE):
        return docx.render(data, narrative_texts(period.key), {"draft": True})


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    html: str
    docx: bytes


def _render(data: dict, texts: dict[str, str], status: dict) -> Rendered:
    from . import docx, pdf
    with force_locale(REPORT_LOCALE):
        return Rendered(pdf.render(data, texts, status),
                        render_template("reports/_body.html", data=data, narratives=texts, status=status),
                        docx.render(data, texts, status))


def freeze(period, comment: str, user, number: int, issued_at, actor: str | None = None) -> IssuedReport:
    """Render the period's report as version `number`, issued at `issued_at`, and add it to the session
    (flushed and audited, not committed). issue() is the way in; the demo issues its past reports here."""
    comment = clean_text(comment)
    data = compute(period)
    texts = narrative_texts(period.key)
    issued_by = getattr(user, "name", None) or _("Samordnarens kansli")
    status = {"version": number, "issued_at": issued_at.isoformat(), "issued_by": issued_by, "comment": comment}
    rendered = _render(data, texts, status)
    with force_locale(REPORT_LOCALE):
        report_title = title(period)
    row = IssuedReport(kind=period.kind, period=period.key, version_number=number, title=report_title,
                       issued_at=issued_at, issued_by_id=_user_id(user), comment=comment,
                       sha256=hashlib.sha256(rendered.pdf).hexdigest(), size=len(rendered.pdf),
                       figures=data, pdf=rendered.pdf, html=rendered.html, docx=rendered.docx,
                       docx_sha256=hashlib.sha256(rendered.docx).hexdigest(), docx_size=len(rendered.docx))
    db.session.add(row)
    db.session.flush()
    record("report.issued", row, actor=actor, kind=row.kind, period=row.period, version=number,
           sha256=row.sha256, size=row.size, docx_sha256=row.docx_sha256, docx_size=row.docx_size)
    return row


def issue(period, comment: str, user, expected_version: int | None = None,
          actor: str | None = None) -> IssuedReport:
    """Freeze the period's report as its next version, and commit it.

    It commits itself: a version number is only known to be ours once the row is committed. With
    `expected_version` (the number the form offered) a version issued by someone else in between
    refuses the request; without it (the command line) the next free number is taken."""
    for _attempt in range(ISSUE_ATTEMPTS):
        number = latest_version(period.kind, period.key) + 1
        if expected_version is not None and number != expected_version:
            raise IssueConflict(_("Någon annan har utfärdat version %(n)d av rapporten sedan du öppnade sidan. "
                                  "Ingenting utfärdades; läs den versionen och utfärda igen om det behövs.",
                                  n=number - 1))
        try:
            row = freeze(period, comment, user, number, utcnow().replace(microsecond=0), actor)
            db.session.commit()
            return row
        except IntegrityError:  # someone else took this number between our read and our insert
            db.session.rollback()
    raise IssueConflict(_("Flera utfärdade rapporten samtidigt. Ingenting utfärdades; försök igen."))
