"""The office's staff who travel on visits, and when each of them cannot (/besok/uppdrag/personal).

Staff and admin read the pages; admin edits, as on the assignment's other settings pages. There is one
active coordinator, who goes on every visit: a second is refused, and the coordinator cannot be made
inactive (take the mark away first, mark someone else, then make the former inactive). A staff member's
edit carries the version it was loaded with; a save based on an older version is refused with the stored
values shown. Absences are whole days, both ends included, and may not overlap another of the same
person's. Everything is audited with ids and dates only: never names, addresses or reasons.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..audit import record
from ..auth import admin_required, staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf, parse_id
from . import bp
from .models import StaffAbsence, StaffMember
from .overview import today
from .staff_forms import AbsenceForm, ActionForm, StaffForm

FIELDS = ("name", "title", "email", "coordinator")


def staff_members() -> list[StaffMember]:
    """Everyone, active first, the coordinator first among them; absences read in the same go."""
    return list(db.session.scalars(
        select(StaffMember).options(selectinload(StaffMember.absences))
        .order_by(StaffMember.active.desc(), StaffMember.coordinator.desc(), StaffMember.name, StaffMember.id)))


def active_coordinators(excluding: int | None = None) -> list[StaffMember]:
    query = select(StaffMember).where(StaffMember.coordinator.is_(True), StaffMember.active.is_(True))
    if excluding is not None:
        query = query.where(StaffMember.id != excluding)
    return list(db.session.scalars(query.order_by(StaffMember.id)))


def upcoming_absence(member: StaffMember, day) -> StaffAbsence | None:
    """The member's current or next absence on `day`, or None."""
    return next((x for x in member.absences if x.end_date >= day), None)


def _second_coordinator(form: StaffForm, member: StaffMember | None) -> bool:
    """Refuse a second active coordinator on the form; True if refused."""
    if not form.coordinator.data or (member is not None and not member.active):
        return False
    others = active_coordinators(excluding=member.id if member is not None else None)
    if others:
        form.coordinator.errors.append(_(
            "%(name)s är redan samordnare. Det finns bara en samordnare: ta först bort markeringen hos "
            "%(name)s och spara, och markera sedan den nya samordnaren.", name=others[0].name))
        return True
    return False


@bp.route("/uppdrag/personal")
@staff_required
def staff_list():
    members = staff_members()
    day = today()
    return render_template("scheduling/staff.html", members=members, day=day,
                           upcoming={m.id: upcoming_absence(m, day) for m in members},
                           no_coordinator=not any(m.coordinator and m.active for m in members),
                           can_edit=current_user.role == "admin")


@bp.route("/uppdrag/personal/ny", methods=["GET", "POST"])
@admin_required
def staff_new():
    form = StaffForm()
    if request.method == "POST":
        valid = form.validate_on_submit()
        abort_if_bad_csrf(form)
        if valid and not _second_coordinator(form, None):
            member = StaffMember(name=form.name.data, title=form.title.data or "", email=form.email.data or "",
                                 coordinator=bool(form.coordinator.data), active=True)
            db.session.add(member)
            db.session.flush()
            record("staff.created", member, coordinator=member.coordinator)
            db.session.commit()
            flash(_("%(name)s är tillagd.", name=member.name), "success")
            return redirect(url_for("scheduling.staff_member", staff_id=member.id))
    return render_template("scheduling/staff_member.html", form=form, member=None, conflict=None,
                           can_edit=True), 422 if form.errors else 200


def _member_page(member: StaffMember, form: StaffForm | None, conflict=None, status: int = 200):
    return render_template("scheduling/staff_member.html", form=form, member=member, conflict=conflict,
                           can_edit=current_user.role == "admin", day=today()), status


@bp.route("/uppdrag/personal/<int:staff_id>", methods=["GET", "POST"])
@staff_required
def staff_member(staff_id: int):
    member = db.get_or_404(StaffMember, staff_id)
    if current_user.role != "admin":
        if request.method == "POST":
            abort(403)
        return _member_page(member, None)
    if request.method == "GET":
        form = StaffForm(formdata=None, obj=member)
        form.version.data = str(member.version)
        return _member_page(member, form)
    form = StaffForm()
    valid = form.validate_on_submit()
    abort_if_bad_csrf(form)
    if parse_id(form.version.data) != member.version:
        return _conflict(form, member)
    if not valid or _second_coordinator(form, member):
        return _member_page(member, form, status=422)
    new = {"name": form.name.data, "title": form.title.data or "", "email": form.email.data or "",
           "coordinator": bool(form.coordinator.data)}
    changed = [n for n in FIELDS if getattr(member, n) != new[n]]
    if not changed:
        flash(_("Inga ändringar att spara."), "info")
        return redirect(url_for("scheduling.staff_member", staff_id=member.id))
    for n in changed:
        setattr(member, n, new[n])
    # Field names only: the values name a person.
    record("staff.updated", member, fields=changed, coordinator=member.coordinator)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return _conflict(form, db.get_or_404(StaffMember, staff_id))
    flash(_("%(name)s är sparad.", name=member.name), "success")
    if "coordinator" in changed and not member.coordinator and member.active and not active_coordinators():
        flash(_("Ingen är markerad som samordnare nu. Markera den nya samordnaren, så att planeringen vet vem som "
                "följer med på varje besök."), "warning")
    return redirect(url_for("scheduling.staff_member", staff_id=member.id))


def _conflict(form: StaffForm, member: StaffMember):
    """Refuse a save based on an old version: the stored values in the form, what the user typed beside them."""
    db.session.refresh(member)
    yes_no = {True: _("Ja"), False: _("Nej")}
    typed = []
    for n in FIELDS:
        if n == "coordinator":
            mine, stored = yes_no[bool(form.coordinator.data)], yes_no[member.coordinator]
        else:
            mine, stored = (form[n].data or "").strip() if isinstance(form[n].data, str) else "", getattr(member, n)
        if mine != stored:
            typed.append((str(form[n].label.text), mine, stored))
    fresh = StaffForm(formdata=None, obj=member)
    fresh.version.data = str(member.version)
    return _member_page(member, fresh, conflict=typed, status=409)


def _active_change(staff_id: int, active: bool):
    member = db.get_or_404(StaffMember, staff_id)
    back = url_for("scheduling.staff_member", staff_id=member.id)
    endpoint = "scheduling.staff_activate" if active else "scheduling.staff_deactivate"
    errors = []
    if member.active == active:
        errors.append(_("%(name)s är redan aktiv.", name=member.name) if active
                      else _("%(name)s är redan inaktiv.", name=member.name))
    elif not active and member.coordinator:
        errors.append(_("%(name)s är samordnare och följer med på varje besök, så hen kan inte göras inaktiv. Ta "
                        "först bort markeringen som samordnare och markera någon annan.", name=member.name))
    elif active and member.coordinator and active_coordinators(excluding=member.id):
        errors.append(_("%(name)s är markerad som samordnare, och %(other)s är redan samordnare. Ta bort "
                        "markeringen hos en av dem först.", name=member.name,
                        other=active_coordinators(excluding=member.id)[0].name))
    if errors or not confirm.confirmed():
        if active:
            c = confirm.Confirmation(
                heading=_("Göra %(name)s aktiv igen?", name=member.name),
                action=url_for(endpoint, staff_id=member.id), button=_("Gör aktiv"), back=back,
                happens=[_("%(name)s kan åter följa med på besök när besöken planeras.", name=member.name)],
                hidden={"version": member.version}, danger=False, errors=errors)
        else:
            c = confirm.Confirmation(
                heading=_("Göra %(name)s inaktiv?", name=member.name),
                action=url_for(endpoint, staff_id=member.id), button=_("Gör inaktiv"), back=back,
                happens=[_("%(name)s följer inte med på besök som planeras efter detta.", name=member.name),
                         _("Besök som redan har planerats med %(name)s behåller sin bemanning tills de planeras om.",
                           name=member.name),
                         _("Personen och hens frånvaro finns kvar och kan göras aktiv igen.")],
                hidden={"version": member.version}, errors=errors)
        return confirm.page(c, status=409 if errors and request.method == "POST" else 200)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if parse_id(form.version.data) != member.version:
        flash(_("%(name)s har ändrats av någon annan sedan du öppnade sidan. Se efter hur det ser ut nu och gör om "
                "det om det behövs.", name=member.name), "warning")
        return redirect(back)
    member.active = active
    record("staff.activated" if active else "staff.deactivated", member)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("%(name)s har ändrats av någon annan sedan du öppnade sidan. Se efter hur det ser ut nu och gör om "
                "det om det behövs.", name=member.name), "warning")
        return redirect(back)
    flash(_("%(name)s är aktiv igen.", name=member.name) if active else _("%(name)s är inaktiv.", name=member.name),
          "success")
    return redirect(back)


@bp.route("/uppdrag/personal/<int:staff_id>/inaktivera", methods=["GET", "POST"])
@admin_required
def staff_deactivate(staff_id: int):
    return _active_change(staff_id, False)


@bp.route("/uppdrag/personal/<int:staff_id>/aktivera", methods=["GET", "POST"])
@admin_required
def staff_activate(staff_id: int):
    return _active_change(staff_id, True)


# --------------------------------------------------------------------------- absences

@bp.route("/uppdrag/personal/<int:staff_id>/franvaro/ny", methods=["GET", "POST"])
@admin_required
def staff_absence_new(staff_id: int):
    member = db.get_or_404(StaffMember, staff_id)
    form = AbsenceForm(others=member.absences)
    if request.method == "POST" and (form.validate_on_submit() or abort_if_bad_csrf(form)):
        absence = StaffAbsence(staff=member, start_date=form.start_date.data, end_date=form.end_date.data,
                               reason=form.reason.data or "")
        db.session.add(absence)
        db.session.flush()
        record("staff.absence_added", member, absence_id=absence.id, start=absence.start_date.isoformat(),
               end=absence.end_date.isoformat())
        db.session.commit()
        flash(_("Frånvaron %(start)s–%(end)s är inlagd för %(name)s.", start=absence.start_date.isoformat(),
                end=absence.end_date.isoformat(), name=member.name), "success")
        return redirect(url_for("scheduling.staff_member", staff_id=member.id, _anchor="franvaro"))
    return render_template("scheduling/staff_absence.html", form=form, member=member), 422 if form.errors else 200


@bp.route("/uppdrag/personal/<int:staff_id>/franvaro/<int:absence_id>/ta-bort", methods=["GET", "POST"])
@admin_required
def staff_absence_delete(staff_id: int, absence_id: int):
    member = db.get_or_404(StaffMember, staff_id)
    absence = db.session.get(StaffAbsence, absence_id)
    if absence is None or absence.staff_id != member.id:
        abort(404)
    period = f"{absence.start_date.isoformat()}–{absence.end_date.isoformat()}"
    back = url_for("scheduling.staff_member", staff_id=member.id, _anchor="franvaro")
    if not confirm.confirmed():
        return confirm.page(confirm.Confirmation(
            heading=_("Ta bort frånvaron %(period)s för %(name)s?", period=period, name=member.name),
            action=url_for("scheduling.staff_absence_delete", staff_id=member.id, absence_id=absence.id),
            button=_("Ta bort frånvaron"), back=back,
            facts=[(_("Period"), period), (_("Anledning"), absence.reason or _("(ingen angiven)"))],
            happens=[_("Frånvaron tas bort. När besöken planeras nästa gång kan %(name)s följa med på besök "
                       "%(period)s.", name=member.name, period=period)],
            cannot_undo=_("Frånvaron går inte att få tillbaka; den kan bara läggas in på nytt.")))
    if not ActionForm().validate_on_submit():
        abort(400)
    record("staff.absence_removed", member, absence_id=absence.id, start=absence.start_date.isoformat(),
           end=absence.end_date.isoformat())
    db.session.delete(absence)
    db.session.commit()
    flash(_("Frånvaron %(period)s för %(name)s är borttagen.", period=period, name=member.name), "success")
    return redirect(back)
