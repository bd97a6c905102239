"""Pages of the other dialogue forms (/dialogforum/) and the organisation register.

Thin views: the rules, locking, invitations and audit are in service.py. Every change is a POST
with CSRF and the version it was based on; a stale form is refused (409) with what the user typed
kept and shown beside what is stored now. Staff only: readers (the ministry) get 403.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from ..forms import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm
from ..auth import staff_required
from ..contacts.models import PARTSTATS
from ..extensions import db
from ..forms import abort_if_bad_csrf, parse_id
from ..invites import service as invites
from ..invites.views import KIND_LABELS as MESSAGE_KIND_LABELS
from ..invites.views import OUTBOX_STATUS_LABELS, PARTSTAT_LABELS, calendar_response, flash_reply_result, reply_data
from ..outbox.models import OutboxMessage
from ..versions import CONFLICT_TEXT  # the same words for every refused stale save
from . import bp, service
from .forms import (KIND_LABELS, ORGANISATION_KIND_LABELS, STATUS_LABELS, AttendeeForm, CancelForm, EventForm,
                    OrganisationForm, VersionForm)
from .models import EVENT_KINDS, GENOMFORT, PLANERAT, Event, Organisation

CONFLICT_HEADING = _l("Någon annan har ändrat dialogforumet")
ORGANISATION_CONFLICT_HEADING = _l("Någon annan har ändrat organisationen")
ATTENDED_VALUES = {"ja": True, "nej": False, "": None}


# Labels of kinds and statuses as app-wide template globals (the dialogue's pages show event
# passages too): registered once, not rebuilt on every render.
@bp.app_template_global()
def event_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def event_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def organisation_kind_label(kind: str) -> str:
    return str(ORGANISATION_KIND_LABELS.get(kind, kind))


def _field_error(form, e: service.FieldError) -> None:
    target = getattr(form, e.field, None)
    if target is not None:
        target.errors = [*target.errors, str(e)] if isinstance(target.errors, list) else [str(e)]


# --------------------------------------------------------------------------- the list

@bp.route("/dialogforum/")
@staff_required
def index():
    kind = request.args.get("slag") or None
    if kind not in (None, *EVENT_KINDS):
        kind = None
    coming, rest = service.split(service.events(kind), service.today())
    counts = dict(db.session.execute(select(Event.kind, func.count()).group_by(Event.kind)).all())
    return render_template("events/index.html", coming=coming, rest=rest, kind=kind, kinds=EVENT_KINDS,
                           counts=counts, noted=_noted_events())


def _noted_events(event_ids: list[int] | None = None) -> dict[int, int]:
    """Event id -> passages in its note (events with a note only)."""
    counts: dict[int, int] = {}
    for _receiver, found in service.event_passages.send(event_ids):
        counts.update(found)
    return counts


# --------------------------------------------------------------------------- create and edit

def _event_form(event: Event | None, formdata=None) -> EventForm:
    if formdata is not None:
        form = EventForm(formdata)
    elif event is None:
        form = EventForm(formdata=None, version="0")
    else:
        form = EventForm(formdata=None, version=str(event.version),
                         organisations=[link.organisation_id for link in event.organisations if link.invited],
                         **{k: getattr(event, k) for k in service.EVENT_FIELDS})
    keep = {link.organisation_id for link in event.organisations} if event is not None else set()
    form.organisations.choices = [(o.id, o.name) for o in service.organisation_choices(keep)]
    return form


def _form_page(event: Event | None, form: EventForm, conflict=None, status: int = 200):
    if conflict is not None:
        form.version.data = str(event.version)  # the user has seen both: saving again is deliberate
    return render_template("events/form.html", event=event, form=form, conflict=conflict,
                           conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


@bp.route("/dialogforum/nytt", methods=["GET", "POST"])
@staff_required
def new():
    if request.method == "GET":
        return _form_page(None, _event_form(None))
    form = _event_form(None, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _form_page(None, form, status=400)
    try:
        event = service.create_event(form.values(), form.organisations.data or [], current_user)
        db.session.commit()
    except service.FieldError as e:
        db.session.rollback()
        _field_error(form, e)
        return _form_page(None, form, status=400)
    flash(_("Dialogforumet är skapat. Lägg till de personer som ska bjudas in."), "success")
    return redirect(url_for("events.event", event_id=event.id, _anchor="personer"))


def _conflict_rows(form: EventForm, event: Event) -> list[tuple]:
    def names(ids):
        by_id = {o.id: o.name for o in service.organisations()}
        return ", ".join(sorted(by_id.get(i, "?") for i in ids))

    return [
        (form.kind.label.text, str(KIND_LABELS.get(form.kind.data, "")), str(KIND_LABELS.get(event.kind, ""))),
        (form.title.label.text, form.title.data, event.title),
        (form.date.label.text, form.date.data.isoformat() if form.date.data else "", event.date.isoformat()),
        (form.start_time.label.text, form.start_time.data.strftime("%H:%M") if form.start_time.data else "",
         event.start_time.strftime("%H:%M")),
        (form.end_time.label.text, form.end_time.data.strftime("%H:%M") if form.end_time.data else "",
         event.end_time.strftime("%H:%M")),
        (form.place.label.text, form.place.data, event.place),
        (form.description.label.text, form.description.data, event.description),
        (form.organisations.label.text, names(form.organisations.data or []),
         names(link.organisation_id for link in event.organisations if link.invited)),
    ]


@bp.route("/dialogforum/<int:event_id>/andra", methods=["GET", "POST"])
@staff_required
def edit(event_id: int):
    event = db.get_or_404(Event, event_id)
    if request.method == "GET":
        return _form_page(event, _event_form(event))
    form = _event_form(event, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _form_page(event, form, status=400)
    try:
        changed, message = service.update_event(event, form.version.data, form.values(),
                                                form.organisations.data or [], current_user)
        db.session.commit()
    except service.FieldError as e:
        db.session.rollback()
        _field_error(form, e)
        return _form_page(db.get_or_404(Event, event_id), form, status=400)
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        event = db.get_or_404(Event, event_id)
        db.session.refresh(event)
        return _form_page(event, form, conflict=_conflict_rows(form, event), status=409)
    if not changed:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    elif message is not None:
        flash(_("Ändringen är sparad. Det som de inbjudna ser i sin kalender ändrades, så en uppdaterad inbjudan "
                "(version %(n)d) ligger i utkorgen.", n=message.sequence), "success")
    else:
        flash(_("Ändringen är sparad."), "success")
    return redirect(url_for("events.event", event_id=event.id))


# --------------------------------------------------------------------------- one event

def _attendee_form(event: Event, formdata=None) -> AttendeeForm:
    form = AttendeeForm(formdata) if formdata is not None else AttendeeForm(formdata=None, version=event.version)
    form.organisation.choices = [("", _("– ingen organisation –"))] + [
        (o.id, o.name) for o in service.organisation_choices({a.organisation_id for a in event.attendees})]
    return form


def _event_page(event: Event, *, attendee_form: AttendeeForm | None = None, conflict=None,
                errors: list[str] | None = None, status: int = 200, pasted: str = ""):
    if attendee_form is None:
        attendee_form = _attendee_form(event)
    elif conflict is not None:
        attendee_form.version.data = str(event.version)
    note_passages = _noted_events([event.id]).get(event.id, 0)
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event_id == event.id)
                                  .order_by(OutboxMessage.id.desc())).all()
    linked = {link.organisation_id: link for link in event.organisations}
    return render_template(
        "events/event.html", event=event, attendee_form=attendee_form, conflict=conflict,
        conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT, errors=errors or [],
        invited=[link for link in event.organisations if link.invited], linked=linked,
        all_organisations=service.organisation_choices(set(linked)),
        waiting=service.not_yet_invited(event) if event.sent_sequence is not None else [],
        partstats=PARTSTATS, partstat_labels=PARTSTAT_LABELS, messages=messages, kinds=MESSAGE_KIND_LABELS,
        statuses=OUTBOX_STATUS_LABELS, note_passages=note_passages or 0, can_hold=event.date <= service.today(),
        pasted=pasted,
        PLANERAT=PLANERAT, GENOMFORT=GENOMFORT), status


@bp.route("/dialogforum/<int:event_id>")
@staff_required
def event(event_id: int):
    return _event_page(db.get_or_404(Event, event_id))


def _refused(event_id: int, e: Exception, **forms):
    """A change the rules refused (400) or a stale one (409): the page again, as it is stored now."""
    db.session.rollback()
    event = db.get_or_404(Event, event_id)
    db.session.refresh(event)
    if isinstance(e, (service.StaleError, StaleDataError)):
        return _event_page(event, conflict=[], **forms, status=409)
    return _event_page(event, errors=[str(e)], **forms, status=400)


def _done(event: Event, message: str, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for("events.event", event_id=event.id, _anchor=anchor))


@bp.route("/dialogforum/<int:event_id>/personer", methods=["POST"])
@staff_required
def add_attendee(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = _attendee_form(event, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _event_page(event, attendee_form=form, status=400)
    try:
        attendee = service.add_attendee(event, form.version.data, form.name.data, form.email.data,
                                        form.organisation.data, current_user)
        db.session.commit()
    except service.FieldError as e:
        db.session.rollback()
        _field_error(form, e)
        return _event_page(db.get_or_404(Event, event_id), attendee_form=form, status=400)
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e, attendee_form=form)
    return _done(event, _("%(name)s är tillagd bland de inbjudna.", name=attendee.name), "personer")


def _remove_attendee_confirmation(event: Event, attendee) -> confirm.Confirmation:
    happens = [_("%(name)s (%(email)s) tas bort från de inbjudna till ”%(title)s”.", name=attendee.name,
                 email=attendee.email, title=event.title)]
    if attendee.sent_sequence is not None and event.status == PLANERAT:
        happens.append(_("%(name)s har fått inbjudan och får nu ett meddelande om att den inte längre gäller. "
                         "Händelsen tas då bort ur personens kalender. De andra inbjudna får inget meddelande.",
                         name=attendee.name))
    if attendee.partstat != "NEEDS-ACTION":
        happens.append(_("Svaret som är registrerat (%(answer)s) tas bort med personen.",
                         answer=PARTSTAT_LABELS.get(attendee.partstat, attendee.partstat)))
    return confirm.Confirmation(
        heading=_("Ta bort %(name)s från de inbjudna?", name=attendee.name),
        action=url_for("events.remove_attendee", event_id=event.id, attendee_id=attendee.id),
        button=_("Ta bort personen"), back=url_for("events.event", event_id=event.id, _anchor="personer"),
        facts=[(_("Dialogforum"), event.title), (_("Datum"), event.date.isoformat())], happens=happens,
        cannot_undo=_("Personen och hennes eller hans svar går inte att få tillbaka; lägg till personen igen om "
                      "det behövs."),
        hidden={"version": event.version})


@bp.route("/dialogforum/<int:event_id>/personer/<int:attendee_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def remove_attendee(event_id: int, attendee_id: int):
    event = db.get_or_404(Event, event_id)
    attendee = next((a for a in event.attendees if a.id == attendee_id), None)
    if attendee is None:
        abort(404)
    if not confirm.confirmed():
        return confirm.page(_remove_attendee_confirmation(event, attendee))
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = service.remove_attendee(event, form.version.data, attendee_id, current_user)
        db.session.commit()
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e)
    if message is not None:
        return _done(event, _("Personen är borttagen från de inbjudna. Ett meddelande om att inbjudan inte längre "
                              "gäller ligger i utkorgen."), "personer")
    return _done(event, _("Personen är borttagen från de inbjudna."), "personer")


@bp.route("/dialogforum/<int:event_id>/personer/<int:attendee_id>/svar", methods=["POST"])
@staff_required
def set_partstat(event_id: int, attendee_id: int):
    event = db.get_or_404(Event, event_id)
    if not FlaskForm().validate_on_submit():  # the CSRF token only
        abort(400)
    try:
        attendee = service.set_partstat(event, attendee_id, request.form.get("partstat", ""),
                                        (request.form.get("comment") or "").strip()[:2000], current_user)
        db.session.commit()
    except service.EventError as e:
        return _refused(event_id, e)
    return _done(event, _("Svaret från %(name)s är sparat: %(answer)s.", name=attendee.name,
                          answer=PARTSTAT_LABELS.get(attendee.partstat, attendee.partstat)),
                 f"person-{attendee.id}")


@bp.route("/dialogforum/<int:event_id>/inbjudan", methods=["POST"])
@staff_required
def invite(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = service.invite(event, form.version.data, current_user)
        db.session.commit()
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e)
    people = len([r for r in message.recipients.split(",") if r.strip()])
    return _done(event, _("Inbjudan (version %(n)d) till %(people)d personer ligger i utkorgen och skickas vid "
                          "nästa utskick.", n=message.sequence, people=people), "utskick")


@bp.route("/dialogforum/<int:event_id>/inbjudan.ics")
@staff_required
def event_ics(event_id: int):
    event = db.get_or_404(Event, event_id)
    try:
        data = service.calendar_for(event)
    except service.EventError as e:
        flash(str(e), "error")
        return redirect(url_for("events.event", event_id=event.id))
    return calendar_response(data, f"dialogforum-{event.id}.ics", method=service.calendar_method(event))


@bp.route("/dialogforum/<int:event_id>/svar", methods=["POST"])
@staff_required
def replies(event_id: int):
    """A calendar answer (REPLY) uploaded or pasted, as for visits."""
    event = db.get_or_404(Event, event_id)
    if not FlaskForm().validate_on_submit():  # the CSRF token only
        abort(400)
    data, problem = reply_data(request)
    if problem:
        return _event_page(event, errors=[problem], pasted=request.form.get("text") or "", status=400)
    try:
        result = invites.apply_reply(data, current_user, owner=event)
    except invites.InviteError as e:
        db.session.rollback()
        return _event_page(db.get_or_404(Event, event_id), errors=[str(e)], pasted=request.form.get("text") or "",
                           status=400)
    db.session.commit()
    flash_reply_result(result)
    return redirect(url_for("events.event", event_id=event.id, _anchor="svarsfil"))


@bp.route("/dialogforum/<int:event_id>/genomfort", methods=["POST"])
@staff_required
def hold(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.mark_held(event, form.version.data, current_user)
        db.session.commit()
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e)
    return _done(event, _("Dialogforumet är markerat som genomfört. Registrera gärna vilka som deltog."), "narvaro")


def _cancel_page(event: Event, form: CancelForm, status: int = 200):
    return render_template("events/cancel.html", event=event, form=form,
                           invited=len(service.invited_addresses(event))), status


@bp.route("/dialogforum/<int:event_id>/installt", methods=["GET", "POST"])
@staff_required
def cancel(event_id: int):
    """The confirmation step (GET, or a POST without `confirmed`) says who gets a cancellation; its POST cancels."""
    event = db.get_or_404(Event, event_id)
    if event.status != PLANERAT:
        flash(_("Bara planerade dialogforum kan ställas in."), "info")
        return redirect(url_for("events.event", event_id=event.id))
    if not confirm.confirmed():
        form = CancelForm(formdata=None, version=event.version,
                          reason=request.form.get("reason", "") if request.method == "POST" else "")
        return _cancel_page(event, form)
    form = CancelForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _cancel_page(event, form, status=400)
    try:
        message = service.cancel(event, form.version.data, form.reason.data or "", current_user)
        db.session.commit()
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e)
    if message is not None:
        return _done(event, _("Dialogforumet är inställt. Ett återbud till alla inbjudna ligger i utkorgen."),
                     "utskick")
    return _done(event, _("Dialogforumet är inställt. Ingen inbjudan hade lagts i utkorgen, så inget återbud behövs."))


@bp.route("/dialogforum/<int:event_id>/narvaro", methods=["POST"])
@staff_required
def attendance(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    organisations = {i for i in map(parse_id, request.form.getlist("organisation")) if i is not None}
    people = {a.id: ATTENDED_VALUES.get(request.form.get(f"person-{a.id}", ""), None) for a in event.attendees}
    try:
        changed = service.record_attendance(event, form.version.data, organisations, people, current_user)
        db.session.commit()
    except (service.EventError, StaleDataError) as e:
        return _refused(event_id, e)
    if not changed:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
        return redirect(url_for("events.event", event_id=event.id, _anchor="narvaro"))
    return _done(event, _("Närvaron är sparad."), "narvaro")


# --------------------------------------------------------------------------- organisations

@bp.route("/dialogforum/organisationer")
@staff_required
def organisations():
    return render_template("events/organisations.html", organisations=service.organisations(),
                           usage=service.organisation_usage())


def _organisation_page(organisation: Organisation | None, form: OrganisationForm, conflict=None, status: int = 200):
    if conflict is not None:
        form.version.data = str(organisation.version)
    return render_template("events/organisation_form.html", organisation=organisation, form=form, conflict=conflict,
                           conflict_heading=ORGANISATION_CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


@bp.route("/dialogforum/organisationer/ny", methods=["GET", "POST"])
@staff_required
def new_organisation():
    if request.method == "GET":
        return _organisation_page(None, OrganisationForm(formdata=None, version="0"))
    form = OrganisationForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _organisation_page(None, form, status=400)
    try:
        organisation = service.create_organisation(form.values(), current_user)
        db.session.commit()
    except service.FieldError as e:
        db.session.rollback()
        _field_error(form, e)
        return _organisation_page(None, form, status=400)
    flash(_("Organisationen %(name)s är tillagd.", name=organisation.name), "success")
    return redirect(url_for("events.organisations", _anchor=f"organisation-{organisation.id}"))


@bp.route("/dialogforum/organisationer/<int:organisation_id>", methods=["GET", "POST"])
@staff_required
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    if request.method == "GET":
        return _organisation_page(organisation, OrganisationForm(formdata=None, obj=organisation,
                                                                 version=str(organisation.version)))
    form = OrganisationForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _organisation_page(organisation, form, status=400)
    try:
        changed = service.update_organisation(organisation, form.version.data, form.values(), current_user)
        db.session.commit()
    except service.FieldError as e:
        db.session.rollback()
        _field_error(form, e)
        return _organisation_page(db.get_or_404(Organisation, organisation_id), form, status=400)
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        organisation = db.get_or_404(Organisation, organisation_id)
        db.session.refresh(organisation)
        return _organisation_page(organisation, form, status=409, conflict=[
            (form.name.label.text, form.name.data, organisation.name),
            (form.short_name.label.text, form.short_name.data, organisation.short_name),
            (form.kind.label.text, str(ORGANISATION_KIND_LABELS.get(form.kind.data, "")),
             str(ORGANISATION_KIND_LABELS.get(organisation.kind, ""))),
            (form.email.label.text, form.email.data, organisation.email)])
    if not changed:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    else:
        flash(_("Organisationen %(name)s är sparad.", name=organisation.name), "success")
    return redirect(url_for("events.organisations", _anchor=f"organisation-{organisation.id}"))


@bp.route("/dialogforum/organisationer/<int:organisation_id>/status", methods=["POST"])
@staff_required
def organisation_status(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        service.set_organisation_active(organisation, form.version.data, active, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        flash(_("Organisationen har ändrats av någon annan sedan du öppnade sidan. Ingenting ändrades; "
                "se hur den är sparad nu och försök igen."), "error")
        return redirect(url_for("events.organisations", _anchor=f"organisation-{organisation_id}"))
    if active:
        flash(_("%(name)s är aktiv igen och kan bjudas in.", name=organisation.name), "success")
    else:
        flash(_("%(name)s är inaktiv: den erbjuds inte för nya dialogforum men finns kvar där den redan står.",
                name=organisation.name), "success")
    return redirect(url_for("events.organisations", _anchor=f"organisation-{organisation.id}"))
