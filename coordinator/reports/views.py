"""The report pages: the archive, a period's draft with its narratives and issuing, the issued versions.

Thin views: the workflow is service.py, the content figures.py, pdf.py and reports/_body.html.
Staff see everything here; the ministry (role reader) sees the archive and the issued versions
only: never a draft, a narrative or its history. An issued version is shown and downloaded exactly
as it was stored, never rendered again from today's data.
"""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..auth import roles_required, staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf, parse_id
from . import bp, drafts, rhythm, service
from .forms import IssueForm, NarrativeForm, VersionForm
from .models import IssuedReport, sections_for

CONFLICT_HEADING = _l("Någon annan har ändrat texten")
CONFLICT_TEXT = _l("Någon annan sparade texten efter att du öppnade sidan, så det du skickade har inte sparats och "
                   "ingenting har skrivits över. Det du skrev står kvar i formuläret; tabellen visar det mot det som "
                   "är sparat nu. Spara igen om ditt ska gälla.")
# Who may read issued versions: the office and the ministry.
reader_or_staff = roles_required("admin", "staff", "reader")


@bp.context_processor
def report_helpers():
    return {"section_title": lambda s: str(service.SECTION_TITLES.get(s, s)), "report_title": service.title,
            "narrative_sections": sections_for}


@bp.app_template_global("report_periods")
def report_periods() -> list:
    """The report periods with their due dates, then the final-report basis (the settings page shows them)."""
    return rhythm.all_periods()


# --------------------------------------------------------------------------- helpers

def _period_or_404(key: str):
    period = service.period_or_none(key)
    if period is None:
        abort(404)
    return period


def _section_or_404(period, section: str) -> str:
    if section not in sections_for(period.key):
        abort(404)
    return section


def _narrative_form(section: str, row, formdata=None) -> NarrativeForm:
    if formdata is None:
        form = NarrativeForm(formdata=None, prefix=section, version=row.version if row else 0,
                             text=row.text if row else "")
    else:
        form = NarrativeForm(formdata, prefix=section)
    form.text.label.text = service.SECTION_TITLES[section]
    return form


def _issue_form(period, formdata=None) -> IssueForm:
    if formdata is not None:
        return IssueForm(formdata)
    return IssueForm(formdata=None, version=service.latest_version(period.kind, period.key) + 1)


def _pdf_response(data: bytes, name: str, etag: str | None = None):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-cache"  # behind a login; revalidate with the ETag
    if etag:
        response.set_etag(etag)
        response.make_conditional(request)
    return response


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_response(data: bytes, name: str, etag: str | None = None):
    """A Word file to download (attachment: a browser cannot show it)."""
    response = make_response(data)
    response.headers["Content-Type"] = DOCX_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-cache"
    if etag:
        response.set_etag(etag)
        response.make_conditional(request)
    return response


# --------------------------------------------------------------------------- the archive

@bp.route("/rapporter/")
@login_required
def index():
    rows = service.issued()
    if current_user.role not in ("admin", "staff"):
        return render_template("reports/archive.html", issued=rows)
    return render_template("reports/index.html", periods=service.periods(), by_period=service.by_period(rows),
                           texts=service.narrative_counts(), issued=rows, quarters=rhythm.calendar_quarters())


# --------------------------------------------------------------------------- a period's draft (staff)

def _draft_page(period, issue_form: IssueForm | None = None, status: int = 200):
    """The draft as it would be issued now, one form per narrative section, and the issue form.

    A refused narrative save is shown on that section's own page instead (narrative.html)."""
    rows = service.narratives(period.key)
    return render_template(
        "reports/draft.html", period=period, rows=rows,
        forms={section: _narrative_form(section, row) for section, row in rows.items()},
        issue_form=issue_form or _issue_form(period), versions=service.issued(period.key),
        data=drafts.compute(period.key), narratives={s: row.text if row else "" for s, row in rows.items()},
        status={"draft": True}), status


@bp.route("/rapporter/<period>/")
@staff_required
def draft(period: str):
    return _draft_page(_period_or_404(period))


@bp.route("/rapporter/<period>/utkast.pdf")
@staff_required
def draft_pdf(period: str):
    p = _period_or_404(period)
    return _pdf_response(service.render_draft_pdf(p), service.filename(p.kind, p.key, None))


@bp.route("/rapporter/<period>/utkast.docx")
@staff_required
def draft_docx(period: str):
    p = _period_or_404(period)
    return _docx_response(service.render_draft_docx(p), service.filename(p.kind, p.key, None, "docx"))


def _editor(period, section: str, form: NarrativeForm | None = None, conflict=None, status: int = 200):
    row = service.narrative(period.key, section)
    if form is None:
        form = _narrative_form(section, row)
    elif conflict is not None:  # the user has now seen both: saving again is deliberate
        form.version.data = str(row.version if row else 0)
    return render_template("reports/narrative.html", period=period, section=section, row=row, form=form,
                           conflict=conflict, conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT,
                           revisions=service.history(row)), status


@bp.route("/rapporter/<period>/text/<section>", methods=["GET", "POST"])
@staff_required
def narrative(period: str, section: str):
    p = _period_or_404(period)
    section = _section_or_404(p, section)
    if request.method == "GET":
        return _editor(p, section)
    form = _narrative_form(section, None, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _editor(p, section, form, status=400)
    try:
        saved = service.save_narrative(p.key, section, form.version.data, form.text.data or "", current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError, IntegrityError):
        db.session.rollback()
        row = service.narrative(p.key, section)
        return _editor(p, section, form, status=409, conflict=[
            (form.text.label.text, form.text.data, row.text if row else "")])
    except service.ReportError as e:
        db.session.rollback()
        form.text.errors = [str(e)]
        return _editor(p, section, form, status=400)
    if saved is None:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    else:
        flash(_("Texten ”%(section)s” är sparad (version %(n)d).", section=form.text.label.text, n=saved.number),
              "success")
    return redirect(url_for("reports.draft", period=p.key, _anchor=f"text-{section}"))


@bp.route("/rapporter/<period>/text/<section>/historik")
@staff_required
def history(period: str, section: str):
    p = _period_or_404(period)
    section = _section_or_404(p, section)
    row = service.narrative(p.key, section)
    return render_template("reports/history.html", period=p, section=section, row=row,
                           revisions=service.history(row))


@bp.route("/rapporter/<period>/text/<section>/historik/<int:number>")
@staff_required
def revision(period: str, section: str, number: int):
    p = _period_or_404(period)
    section = _section_or_404(p, section)
    row = service.narrative(p.key, section)
    rev = service.revision(row, number)
    if rev is None:
        abort(404)
    current = service.history(row)[0].number
    return render_template("reports/revision.html", period=p, section=section, row=row, rev=rev,
                           is_current=rev.number == current,
                           restore_form=VersionForm(formdata=None, version=row.version))


@bp.route("/rapporter/<period>/text/<section>/historik/<int:number>/aterstall", methods=["POST"])
@staff_required
def restore(period: str, section: str, number: int):
    p = _period_or_404(period)
    section = _section_or_404(p, section)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved = service.restore(p.key, section, number, form.version.data, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError, IntegrityError):
        db.session.rollback()
        flash(_("Texten har sparats av någon annan sedan du öppnade sidan. Ingenting återställdes; "
                "jämför med historiken och försök igen."), "error")
        return redirect(url_for("reports.history", period=p.key, section=section))
    except service.ReportError:
        db.session.rollback()
        abort(404)
    if saved is None:
        flash(_("Version %(n)d har samma text som den gällande. Ingenting ändrades.", n=number), "success")
    else:
        flash(_("Version %(old)d är återställd som version %(n)d.", old=number, n=saved.number), "success")
    return redirect(url_for("reports.history", period=p.key, section=section))


def _issue_confirmation(period, form: IssueForm, number: int | None) -> confirm.Confirmation:
    title = service.title(period)
    empty = [str(service.SECTION_TITLES[s]) for s, text in service.narrative_texts(period.key).items()
             if not text.strip()]
    happens = [_("Version %(n)s av %(title)s utfärdas med kommentaren ”%(comment)s”.", n=number or "?",
                 title=title, comment=form.comment.data.strip()),
               _("Rapporten låses som den ser ut nu: PDF:en, siffrorna och texterna sparas med en kontrollsumma "
                 "(SHA-256) och ändras aldrig, även om uppgifterna ändras senare."),
               _("Departementet kan läsa och ladda ner versionen så snart den är utfärdad.")]
    if empty:
        happens.append(ngettext("Texten %(names)s är tom och kommer med tom.",
                                "Texterna %(names)s är tomma och kommer med tomma.", len(empty),
                                names=", ".join(f"”{n}”" for n in empty)))
    if number and number > 1:
        happens.append(_("Version %(old)s finns kvar i arkivet; den nya visas som den senaste.", old=number - 1))
    return confirm.Confirmation(
        heading=_("Utfärda version %(n)s av %(title)s?", n=number or "?", title=title),
        action=url_for("reports.issue", period=period.key), button=_("Utfärda version %(n)s", n=number or "?"),
        back=url_for("reports.draft", period=period.key, _anchor="utfarda"), danger=False,
        facts=[(_("Rapport"), title), (_("Kommentar"), form.comment.data.strip())], happens=happens,
        cannot_undo=_("En utfärdad version kan inte ändras eller tas tillbaka. En rättelse blir en ny version."),
        hidden={"version": form.version.data, "comment": form.comment.data})


@bp.route("/rapporter/<period>/utfarda", methods=["POST"])
@staff_required
def issue(period: str):
    p = _period_or_404(period)
    form = _issue_form(p, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _draft_page(p, form, status=400)
    expected = parse_id(form.version.data)
    if not confirm.confirmed():
        return confirm.page(_issue_confirmation(p, form, expected))
    try:
        row = service.issue(p, form.comment.data, current_user, expected_version=expected)
    except service.IssueConflict as e:
        db.session.rollback()
        form.version.data = str(service.latest_version(p.kind, p.key) + 1)  # seen now: issuing again is deliberate
        form.comment.errors = [str(e)]
        return _draft_page(p, form, status=409)
    flash(_("Version %(n)d är utfärdad. Den är nu låst och kan läsas av departementet.", n=row.version_number),
          "success")
    return redirect(url_for("reports.issued", report_id=row.id))


# --------------------------------------------------------------------------- issued versions (staff and reader)

def _issued_or_404(report_id: int, *columns) -> IssuedReport:
    row = db.session.get(IssuedReport, report_id, options=[undefer(c) for c in columns])
    if row is None:
        abort(404)
    return row


@bp.route("/rapporter/utfardade/<int:report_id>/")
@reader_or_staff
def issued(report_id: int):
    row = _issued_or_404(report_id, IssuedReport.html)
    return render_template("reports/issued.html", report=row, body=Markup(row.html),
                           versions=service.issued(row.period),
                           filename=service.filename(row.kind, row.period, row.version_number),
                           docx_filename=service.filename(row.kind, row.period, row.version_number, "docx"))


@bp.route("/rapporter/utfardade/<int:report_id>.pdf")
@reader_or_staff
def issued_pdf(report_id: int):
    row = _issued_or_404(report_id, IssuedReport.pdf)
    return _pdf_response(bytes(row.pdf), service.filename(row.kind, row.period, row.version_number), row.sha256)


@bp.route("/rapporter/utfardade/<int:report_id>.docx")
@reader_or_staff
def issued_docx(report_id: int):
    """The frozen Word file; a version issued before Word files were made has none (404)."""
    row = _issued_or_404(report_id, IssuedReport.docx)
    if row.docx is None:
        abort(404)
    return _docx_response(bytes(row.docx), service.filename(row.kind, row.period, row.version_number, "docx"),
                          row.docx_sha256)
