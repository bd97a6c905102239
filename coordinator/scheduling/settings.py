"""The assignment's settings pages (phases, windows, blackouts, rules).

Staff read them; admin edits. The assignment is one row with a ``version`` column: the form
carries the version it was loaded with, and a save based on an older version is refused
with the stored values shown (as the registry's settings page does). Every change is audited
in the same transaction; values that may name a person (the organizer) are logged as
"changed" only. Swedish public holidays are not data here: they come from the ``holidays``
package and are shown for information.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..audit import record
from ..auth import admin_required, staff_required
from ..extensions import db
from . import bp
from .defaults import assignment as current_assignment
from .models import Assignment, Blackout, Phase
from .service import derived_windows
from .settings_forms import (ASSIGNMENT_FIELDS, BOOLEAN_FIELDS, CHANGE_CHECKS, PERSONAL_FIELDS, AssignmentForm,
                             BlackoutForm, DeleteForm, PhaseForm, fmt_hours, fmt_value)


def _assignment() -> Assignment:
    a = current_assignment()
    if a is None:  # the shipped defaults are loaded by `coordinator init`; never edit thin air
        from .defaults import load_assignment_defaults
        load_assignment_defaults()
        a = current_assignment()
    return a


def phases() -> list[Phase]:
    return list(db.session.scalars(select(Phase).order_by(Phase.number, Phase.start_date, Phase.id)))


def blackouts() -> list[Blackout]:
    return list(db.session.scalars(select(Blackout).order_by(Blackout.start_date, Blackout.id)))


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    from calendar import monthrange
    return date(year, month, min(d.day, monthrange(year, month)[1]))


def public_holidays(start: date, end: date) -> list[tuple[date, str]]:
    """Swedish public holidays between start and end (inclusive), from the `holidays` package."""
    if end < start:
        return []
    language = "en_US" if str(get_locale()) == "en" else "sv"
    # include_sundays=False: ordinary Sundays are not listed (the SE calendar counts them as holidays).
    import holidays  # here, not at start (see workdays.py)

    found = holidays.SE(years=range(start.year, end.year + 1), include_sundays=False, language=language)
    return sorted((d, name) for d, name in found.items() if start <= d <= end)


def holiday_window(a: Assignment, today: date | None = None) -> tuple[date, date, bool]:
    """(start, end, upcoming): the next twelve months while the assignment runs, else its whole period."""
    today = today or date.today()
    if today <= a.end_date:
        start = max(today, a.start_date)
        return start, min(_add_months(start, 12), a.end_date), True
    return a.start_date, a.end_date, False


def _outside(a: Assignment, items) -> list:
    return [p for p in items if p.start_date < a.start_date or p.end_date > a.end_date]


def _page(form: AssignmentForm | None, conflict=None, status: int = 200):
    a = _assignment()
    start, end, upcoming = holiday_window(a)
    phase_list = phases()
    return render_template(
        "scheduling/settings.html", a=a, form=form, conflict=conflict, phases=phase_list,
        blackouts=blackouts(), holidays=public_holidays(start, end), holiday_start=start, holiday_end=end,
        holidays_upcoming=upcoming, phases_outside=_outside(a, phase_list), delete_form=DeleteForm(),
        weekday=lambda d: format_date(d, "EEEE"), can_edit=current_user.role == "admin",
        derived=derived_windows(a, phase_list)), status


def _jsonable(value):
    return value if value is None or isinstance(value, (int, float, str, bool)) else fmt_value(value)


@bp.route("/uppdrag", methods=["GET", "POST"])
@staff_required
def settings():
    a = _assignment()
    if current_user.role != "admin":
        if request.method == "POST":
            abort(403)
        return _page(None)
    form = AssignmentForm()
    if request.method == "GET":
        form = AssignmentForm(formdata=None)
        form.load(a)
        return _page(form)
    valid = form.validate_on_submit()
    if "csrf_token" not in form.errors and form.version.data != str(a.version):
        return _conflict(form, a)
    if not valid:
        return _page(form, status=422)
    values = form.values()
    # Other capabilities may refuse the change (the reports: a rhythm that strands their texts).
    refused = [(name, message) for check in CHANGE_CHECKS for name, message in check(a, values).items()]
    for name, message in refused:
        form[name].errors.append(message)
    if refused:
        return _page(form, status=422)
    changed = [n for n in ASSIGNMENT_FIELDS if getattr(a, n) != values[n]]
    if not changed:
        flash(_("Inga ändringar att spara."), "info")
        return redirect(url_for("scheduling.settings"))
    public = [n for n in changed if n not in PERSONAL_FIELDS]
    old = {n: _jsonable(getattr(a, n)) for n in public}
    for n in changed:
        setattr(a, n, values[n])
    record("assignment.changed", a, fields=changed, old=old, new={n: _jsonable(values[n]) for n in public})
    try:
        db.session.commit()
    except StaleDataError:
        # Someone saved between our check and our write.
        db.session.rollback()
        return _conflict(form, _assignment())
    flash(_("Uppdragets inställningar är sparade (%(n)s ändringar).", n=len(changed)), "success")
    return redirect(url_for("scheduling.settings"))


def _conflict(form: AssignmentForm, a: Assignment):
    """Refuse a save based on an old version: show the stored values and what the user typed."""
    db.session.refresh(a)
    typed = []
    yes_no = {"True": _("Ja"), "False": _("Nej")}
    for n in ASSIGNMENT_FIELDS:
        value = getattr(a, n)
        mine, stored = form.typed(n), (fmt_hours(value) if n == "max_day_hours" else fmt_value(value))
        if mine != stored:
            if n in BOOLEAN_FIELDS:
                mine, stored = yes_no.get(mine, mine), yes_no.get(stored, stored)
            typed.append((str(form[n].label.text), mine, stored))
    fresh = AssignmentForm(formdata=None)
    fresh.load(a)
    return _page(fresh, conflict=typed, status=409)


# --------------------------------------------------------------------------- phases

def _phase_form(phase: Phase | None) -> PhaseForm:
    taken = {p.number for p in phases() if phase is None or p.id != phase.id}
    return PhaseForm(assignment=_assignment(), taken_numbers=taken)


PHASE_FIELDS = ("number", "name", "start_date", "end_date", "description")


@bp.route("/uppdrag/faser/ny", methods=["GET", "POST"])
@admin_required
def settings_phase_new():
    form = _phase_form(None)
    if request.method == "GET":
        form.number.data = max((p.number for p in phases()), default=0) + 1
    elif form.validate_on_submit():
        phase = Phase(**{n: form[n].data for n in PHASE_FIELDS})
        phase.description = phase.description or ""
        db.session.add(phase)
        db.session.flush()
        record("phase.created", phase, number=phase.number, name=phase.name,
               start=phase.start_date.isoformat(), end=phase.end_date.isoformat())
        db.session.commit()
        flash(_("Fas %(n)s är tillagd.", n=phase.number), "success")
        return redirect(url_for("scheduling.settings", _anchor="faser"))
    return render_template("scheduling/settings_phase.html", form=form, phase=None, a=_assignment()), \
        422 if form.errors else 200


@bp.route("/uppdrag/faser/<int:phase_id>", methods=["GET", "POST"])
@admin_required
def settings_phase_edit(phase_id: int):
    phase = db.get_or_404(Phase, phase_id)
    form = _phase_form(phase)
    if request.method == "GET":
        for n in PHASE_FIELDS:
            form[n].data = getattr(phase, n)
    elif form.validate_on_submit():
        new = {n: form[n].data if n != "description" else (form[n].data or "") for n in PHASE_FIELDS}
        changed = [n for n in PHASE_FIELDS if getattr(phase, n) != new[n]]
        if changed:
            old = {n: _jsonable(getattr(phase, n)) for n in changed}
            for n in changed:
                setattr(phase, n, new[n])
            record("phase.changed", phase, fields=changed, old=old, new={n: _jsonable(new[n]) for n in changed})
            db.session.commit()
            flash(_("Fas %(n)s är sparad.", n=phase.number), "success")
        else:
            flash(_("Inga ändringar att spara."), "info")
        return redirect(url_for("scheduling.settings", _anchor="faser"))
    return render_template("scheduling/settings_phase.html", form=form, phase=phase, a=_assignment(),
                           delete_form=DeleteForm()), 422 if form.errors else 200


@bp.route("/uppdrag/faser/<int:phase_id>/ta-bort", methods=["GET", "POST"])
@admin_required
def settings_phase_delete(phase_id: int):
    phase = db.get_or_404(Phase, phase_id)
    if not confirm.confirmed():
        return confirm.page(confirm.Confirmation(
            heading=_("Ta bort fas %(n)s, %(name)s?", n=phase.number, name=phase.name),
            action=url_for("scheduling.settings_phase_delete", phase_id=phase.id), button=_("Ta bort fasen"),
            back=url_for("scheduling.settings_phase_edit", phase_id=phase.id),
            facts=[(_("Period"), f"{phase.start_date.isoformat()}–{phase.end_date.isoformat()}")],
            happens=[_("Fas %(n)s, ”%(name)s”, tas bort ur uppdragets faser.", n=phase.number, name=phase.name),
                     _("Sidorna som visar uppdragets faser och hur arbetet ligger till visar den inte längre.")],
            cannot_undo=_("Fasen och dess beskrivning går inte att få tillbaka; den kan bara läggas in på nytt för "
                          "hand.")))
    if not DeleteForm().validate_on_submit():
        abort(400)
    record("phase.deleted", phase, number=phase.number, name=phase.name,
           start=phase.start_date.isoformat(), end=phase.end_date.isoformat())
    db.session.delete(phase)
    db.session.commit()
    flash(_("Fas %(n)s (%(name)s) är borttagen.", n=phase.number, name=phase.name), "success")
    return redirect(url_for("scheduling.settings", _anchor="faser"))


# --------------------------------------------------------------------------- blackouts

BLACKOUT_FIELDS = ("name", "start_date", "end_date")


@bp.route("/uppdrag/uppehall/ny", methods=["GET", "POST"])
@admin_required
def settings_blackout_new():
    form = BlackoutForm()
    if request.method == "POST" and form.validate_on_submit():
        blackout = Blackout(**{n: form[n].data for n in BLACKOUT_FIELDS})
        db.session.add(blackout)
        db.session.flush()
        record("blackout.created", blackout, name=blackout.name, start=blackout.start_date.isoformat(),
               end=blackout.end_date.isoformat())
        db.session.commit()
        flash(_("Uppehållet ”%(name)s” är tillagt.", name=blackout.name), "success")
        return redirect(url_for("scheduling.settings", _anchor="uppehall"))
    return render_template("scheduling/settings_blackout.html", form=form, blackout=None), \
        422 if form.errors else 200


@bp.route("/uppdrag/uppehall/<int:blackout_id>", methods=["GET", "POST"])
@admin_required
def settings_blackout_edit(blackout_id: int):
    blackout = db.get_or_404(Blackout, blackout_id)
    form = BlackoutForm()
    if request.method == "GET":
        for n in BLACKOUT_FIELDS:
            form[n].data = getattr(blackout, n)
    elif form.validate_on_submit():
        new = {n: form[n].data for n in BLACKOUT_FIELDS}
        changed = [n for n in BLACKOUT_FIELDS if getattr(blackout, n) != new[n]]
        if changed:
            old = {n: _jsonable(getattr(blackout, n)) for n in changed}
            for n in changed:
                setattr(blackout, n, new[n])
            record("blackout.changed", blackout, fields=changed, old=old,
                   new={n: _jsonable(new[n]) for n in changed})
            db.session.commit()
            flash(_("Uppehållet ”%(name)s” är sparat.", name=blackout.name), "success")
        else:
            flash(_("Inga ändringar att spara."), "info")
        return redirect(url_for("scheduling.settings", _anchor="uppehall"))
    return render_template("scheduling/settings_blackout.html", form=form, blackout=blackout,
                           delete_form=DeleteForm()), 422 if form.errors else 200


@bp.route("/uppdrag/uppehall/<int:blackout_id>/ta-bort", methods=["GET", "POST"])
@admin_required
def settings_blackout_delete(blackout_id: int):
    blackout = db.get_or_404(Blackout, blackout_id)
    if not confirm.confirmed():
        return confirm.page(confirm.Confirmation(
            heading=_("Ta bort uppehållet ”%(name)s”?", name=blackout.name),
            action=url_for("scheduling.settings_blackout_delete", blackout_id=blackout.id),
            button=_("Ta bort uppehållet"), back=url_for("scheduling.settings_blackout_edit", blackout_id=blackout.id),
            facts=[(_("Period"), f"{blackout.start_date.isoformat()}–{blackout.end_date.isoformat()}")],
            happens=[_("Uppehållet ”%(name)s” tas bort. Nästa gång datum föreslås kan besök läggas %(start)s–%(end)s.",
                       name=blackout.name, start=blackout.start_date.isoformat(), end=blackout.end_date.isoformat()),
                     _("Besök som redan har datum flyttas inte.")],
            cannot_undo=_("Uppehållet går inte att få tillbaka; det kan bara läggas in på nytt för hand.")))
    if not DeleteForm().validate_on_submit():
        abort(400)
    record("blackout.deleted", blackout, name=blackout.name, start=blackout.start_date.isoformat(),
           end=blackout.end_date.isoformat())
    db.session.delete(blackout)
    db.session.commit()
    flash(_("Uppehållet ”%(name)s” är borttaget.", name=blackout.name), "success")
    return redirect(url_for("scheduling.settings", _anchor="uppehall"))
