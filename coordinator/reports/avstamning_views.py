"""The log of avstämningar with the minister (/rapporter/avstamningar/) and their actions.

Thin views: the rules, locking and audit are avstamningar.py (and tasks.service for the actions).
Staff and admin only: the minister's feedback is the office's record, so readers (the ministry) get
403. Every change is a POST with CSRF and the version it was based on; a stale form is refused (409)
with what the user typed kept and shown beside what is stored now. Deleting asks first, on a page
that says what goes with it.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..auth import staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf
from ..plans.views import CONFLICT_TEXT  # the same words for every refused stale save
from ..scheduling.overview import today
from . import avstamningar as service
from . import bp
from .forms import ActionForm, AvstamningForm, OutcomeForm, VersionForm
from .models import Avstamning

CONFLICT_HEADING = _l("Någon annan har ändrat avstämningen")
ACTION_CONFLICT_HEADING = _l("Någon annan har ändrat åtgärden")


def _avstamning_or_404(avstamning_id: int) -> Avstamning:
    row = service.get(avstamning_id)
    if row is None:
        abort(404)
    return row


def _action_or_404(row: Avstamning, task_id: int):
    task = service.action(row, task_id)
    if task is None:
        abort(404)
    return task


def _field_error(form, e: service.AvstamningError) -> None:
    field = form[e.field]
    field.errors = [*field.errors, str(e)]


def _report_label(report) -> str:
    return _("%(title)s, version %(n)s (utfärdad %(day)s)", title=report.title, n=report.version_number,
             day=format_datetime(report.issued_at, "yyyy-MM-dd"))


# --------------------------------------------------------------------------- the log

@bp.route("/rapporter/avstamningar/")
@staff_required
def avstamningar():
    return render_template("reports/avstamningar.html", rows=service.listing(), today=today())


def _form(row: Avstamning | None, formdata=None) -> AvstamningForm:
    if formdata is not None:
        form = AvstamningForm(formdata)
    elif row is None:
        form = AvstamningForm(formdata=None, version="0")
    else:
        form = AvstamningForm(formdata=None, version=str(row.version), held_on=row.held_on,
                              attendees=row.attendees, report_id=str(row.report_id or ""), feedback=row.feedback,
                              decisions=row.decisions)
    form.report_id.choices = [("", _("Ingen rapport (ännu)"))] + [
        (str(r.id), _report_label(r)) for r in service.report_choices()]
    return form


def _form_page(row: Avstamning | None, form: AvstamningForm, conflict=None, status: int = 200):
    if conflict is not None:
        form.version.data = str(row.version)  # the user has seen both: saving again is deliberate
    return render_template("reports/avstamning_form.html", row=row, form=form, conflict=conflict,
                           conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


@bp.route("/rapporter/avstamningar/ny", methods=["GET", "POST"])
@staff_required
def avstamning_new():
    if request.method == "GET":
        return _form_page(None, _form(None))
    form = _form(None, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _form_page(None, form, status=400)
    try:
        row = service.create(form.values(), current_user)
        db.session.commit()
    except service.AvstamningError as e:
        db.session.rollback()
        _field_error(form, e)
        return _form_page(None, form, status=400)
    flash(_("Avstämningen den %(day)s är sparad. Lägg till de åtgärder som ska göras.",
            day=row.held_on.isoformat()), "success")
    return redirect(url_for("reports.avstamning", avstamning_id=row.id, _anchor="atgarder"))


def _conflict_rows(form: AvstamningForm, row: Avstamning) -> list[tuple]:
    reports = dict(form.report_id.choices)
    return [(str(form[name].label.text), typed, stored) for name, typed, stored in (
        ("held_on", form.held_on.data.isoformat() if form.held_on.data else "", row.held_on.isoformat()),
        ("attendees", form.attendees.data, row.attendees),
        ("report_id", reports.get(form.report_id.data or "", ""), reports.get(str(row.report_id or ""), "")),
        ("feedback", form.feedback.data, row.feedback),
        ("decisions", form.decisions.data, row.decisions),
    ) if (typed or "") != (stored or "")]


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/andra", methods=["GET", "POST"])
@staff_required
def avstamning_edit(avstamning_id: int):
    row = _avstamning_or_404(avstamning_id)
    if request.method == "GET":
        return _form_page(row, _form(row))
    form = _form(row, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _form_page(row, form, status=400)
    try:
        changed = service.update(row, form.version.data, form.values(), current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        row = _avstamning_or_404(avstamning_id)
        return _form_page(row, form, conflict=_conflict_rows(form, row), status=409)
    except service.AvstamningError as e:
        db.session.rollback()
        _field_error(form, e)
        return _form_page(_avstamning_or_404(avstamning_id), form, status=400)
    flash(_("Ändringen är sparad.") if changed else _("Inget var ändrat; ingenting sparades."),
          "success" if changed else "info")
    return redirect(url_for("reports.avstamning", avstamning_id=row.id))


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/")
@staff_required
def avstamning(avstamning_id: int):
    row = _avstamning_or_404(avstamning_id)
    return render_template("reports/avstamning.html", row=row, today=today(), version_form=VersionForm())


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def avstamning_delete(avstamning_id: int):
    row = _avstamning_or_404(avstamning_id)
    form = VersionForm(formdata=None, version=str(row.version)) if request.method == "GET" else VersionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            n = service.delete(row, form.version.data, current_user)
            db.session.commit()
        except (service.StaleError, StaleDataError):
            db.session.rollback()
            flash(_("Någon annan har ändrat avstämningen sedan du öppnade sidan. Ingenting togs bort; läs igenom "
                    "den och försök igen."), "error")
            return redirect(url_for("reports.avstamning_delete", avstamning_id=avstamning_id))
        flash(ngettext("Avstämningen den %(day)s är borttagen, med %(num)s åtgärd.",
                       "Avstämningen den %(day)s är borttagen, med %(num)s åtgärder.", n, day=row.held_on.isoformat()),
              "success")
        return redirect(url_for("reports.avstamningar"))
    return render_template("reports/avstamning_delete.html", row=row, form=form)


# --------------------------------------------------------------------------- actions

def _action_form(row: Avstamning, task=None, formdata=None) -> ActionForm:
    if formdata is not None:
        form = ActionForm(formdata)
    elif task is None:
        form = ActionForm(formdata=None, version="0")
    else:
        form = ActionForm(formdata=None, version=str(task.version), title=task.title, owner_id=str(task.owner_id or ""),
                          due_date=task.due_date, details=task.details, outcome=task.outcome)
    form.owner_id.choices = [("", _("Välj ansvarig"))] + [
        (str(u.id), u.name if u.active else _("%(name)s (inte längre aktiv)", name=u.name))
        for u in service.owner_choices(keep=task.owner_id if task is not None else None)]
    return form


def _action_page(row: Avstamning, form: ActionForm, task=None, conflict=None, status: int = 200):
    if conflict is not None:
        form.version.data = str(task.version)
    return render_template("reports/action_form.html", row=row, task=task, form=form, conflict=conflict,
                           conflict_heading=ACTION_CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/atgarder/ny", methods=["GET", "POST"])
@staff_required
def action_new(avstamning_id: int):
    row = _avstamning_or_404(avstamning_id)
    if request.method == "GET":
        return _action_page(row, _action_form(row))
    form = _action_form(row, formdata=request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _action_page(row, form, status=400)
    try:
        task = service.add_action(row, form.values(), current_user)
        db.session.commit()
    except service.AvstamningError as e:
        db.session.rollback()
        _field_error(form, e)
        return _action_page(_avstamning_or_404(avstamning_id), form, status=400)
    flash(_("Åtgärden ”%(title)s” är tillagd.", title=task.title), "success")
    return redirect(url_for("reports.avstamning", avstamning_id=avstamning_id, _anchor="atgarder"))


def _action_conflict_rows(form: ActionForm, task) -> list[tuple]:
    owners = dict(form.owner_id.choices)
    return [(str(form[name].label.text), typed, stored) for name, typed, stored in (
        ("title", form.title.data, task.title),
        ("owner_id", owners.get(form.owner_id.data or "", ""), owners.get(str(task.owner_id or ""), "")),
        ("due_date", form.due_date.data.isoformat() if form.due_date.data else "", task.due_date.isoformat()),
        ("details", form.details.data, task.details),
        ("outcome", form.outcome.data, task.outcome),
    ) if (typed or "") != (stored or "")]


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/atgarder/<int:task_id>/andra", methods=["GET", "POST"])
@staff_required
def action_edit(avstamning_id: int, task_id: int):
    row = _avstamning_or_404(avstamning_id)
    task = _action_or_404(row, task_id)
    if request.method == "GET":
        return _action_page(row, _action_form(row, task), task)
    form = _action_form(row, task, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _action_page(row, form, task, status=400)
    try:
        changed = service.update_action(task, form.version.data, form.values(with_outcome=task.done), current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        row = _avstamning_or_404(avstamning_id)
        task = _action_or_404(row, task_id)
        return _action_page(row, form, task, conflict=_action_conflict_rows(form, task), status=409)
    except service.AvstamningError as e:
        db.session.rollback()
        _field_error(form, e)
        row = _avstamning_or_404(avstamning_id)
        return _action_page(row, form, _action_or_404(row, task_id), status=400)
    flash(_("Åtgärden är sparad.") if changed else _("Inget var ändrat; ingenting sparades."),
          "success" if changed else "info")
    return redirect(url_for("reports.avstamning", avstamning_id=avstamning_id, _anchor=f"atgard-{task_id}"))


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/atgarder/<int:task_id>/klar", methods=["GET", "POST"])
@staff_required
def action_done(avstamning_id: int, task_id: int):
    row = _avstamning_or_404(avstamning_id)
    task = _action_or_404(row, task_id)
    if request.method == "GET":
        form = OutcomeForm(formdata=None, version=str(task.version), outcome=task.outcome)
        return render_template("reports/action_done.html", row=row, task=task, form=form)
    form = OutcomeForm()
    status = 400
    if form.validate_on_submit():
        try:
            service.close_action(task, form.version.data, form.outcome.data, current_user)
            db.session.commit()
            flash(_("Åtgärden ”%(title)s” är klar.", title=task.title), "success")
            return redirect(url_for("reports.avstamning", avstamning_id=avstamning_id, _anchor=f"atgard-{task_id}"))
        except (service.StaleError, StaleDataError):
            db.session.rollback()
            row = _avstamning_or_404(avstamning_id)
            task = _action_or_404(row, task_id)
            form.version.data = str(task.version)
            form.outcome.errors = [_("Någon annan har ändrat åtgärden sedan du öppnade sidan, så ingenting sparades. "
                                     "Det du skrev står kvar; kontrollera åtgärden nedan och spara igen.")]
            status = 409
        except service.AvstamningError as e:
            db.session.rollback()
            form.outcome.errors = [str(e)]
    abort_if_bad_csrf(form)
    return render_template("reports/action_done.html", row=row, task=task, form=form), status


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/atgarder/<int:task_id>/oppna", methods=["POST"])
@staff_required
def action_reopen(avstamning_id: int, task_id: int):
    row = _avstamning_or_404(avstamning_id)
    task = _action_or_404(row, task_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.reopen_action(task, form.version.data, current_user)
        db.session.commit()
        flash(_("Åtgärden ”%(title)s” är öppen igen. Utfallet som skrevs står kvar.", title=task.title), "success")
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        flash(_("Någon annan har ändrat åtgärden sedan du öppnade sidan. Ingenting ändrades; försök igen."), "error")
    return redirect(url_for("reports.avstamning", avstamning_id=avstamning_id, _anchor=f"atgard-{task_id}"))


@bp.route("/rapporter/avstamningar/<int:avstamning_id>/atgarder/<int:task_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def action_delete(avstamning_id: int, task_id: int):
    row = _avstamning_or_404(avstamning_id)
    task = _action_or_404(row, task_id)
    if request.method == "GET":
        return render_template("reports/action_delete.html", row=row, task=task,
                               form=VersionForm(formdata=None, version=str(task.version)))
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    title = task.title
    try:
        service.delete_action(task, form.version.data, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        flash(_("Någon annan har ändrat åtgärden sedan du öppnade sidan. Ingenting togs bort; läs igenom den och "
                "försök igen."), "error")
        return redirect(url_for("reports.action_delete", avstamning_id=avstamning_id, task_id=task_id))
    flash(_("Åtgärden ”%(title)s” är borttagen.", title=title), "success")
    return redirect(url_for("reports.avstamning", avstamning_id=avstamning_id, _anchor="atgarder"))
