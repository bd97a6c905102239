"""The visits' pages: what is due and planning, the list, the month calendar, the map, one visit.

Thin views: planning and the life cycle are service.py, the programme is programme.py, the
read-only page data is overview.py. Every change is a POST with CSRF and the visit's version.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm as confirmation  # `confirm` is the view that confirms a visit
from ..auth import staff_required
from ..contacts.service import role_label
from ..extensions import db
from ..forms import abort_if_bad_csrf, parse_id
from ..outbox.models import OutboxMessage
from ..registry.mapsvg import load_boundaries, render_svg
from ..registry.models import Kommun
from ..registry.reference import DATA_DIR
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from . import bp, overview, programme, service
from .forms import (PART_KIND_LABELS, CancelForm, MoveForm, PlanForm, ProgrammeForm, SavePlanForm,
                    VersionForm)
from .models import (BEKRAFTAD, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, INSTALLD, STATUSES, Visit)

BOUNDARIES = DATA_DIR / "kommuner.geojson"
LIST_PAGE = 100  # visits a page of the list
# A kommun with more visits in the round than this is labelled on the map by how many are in each status.
MAP_LABEL_VISITS = 3

MODE_LABELS = {
    "bil": _l("bil"),
    "tåg": _l("tåg"),
    "flyg": _l("flyg"),
    "färja": _l("färja"),
}
STATUS_LABELS = {
    FORSLAG: _l("förslag"),
    INBJUDEN: _l("inbjuden"),
    BEKRAFTAD: _l("bekräftad"),
    FLYTTAD: _l("flyttad"),
    GENOMFORD: _l("genomförd"),
    INSTALLD: _l("inställd"),
}
MAP_LABELS = {overview.UNDATED: _l("förslag utan datum"), **STATUS_LABELS}
CONFLICT = _l("Besöket har ändrats av någon annan sedan du öppnade sidan. Ingenting av det du skickade har "
              "sparats. Sidan visar nu besöket som det är sparat; gör om ändringen om den fortfarande behövs.")


@bp.context_processor
def visit_helpers():
    return {
        "status_label": lambda s: str(STATUS_LABELS.get(s, s)),
        "weekday": lambda d: format_date(d, "EEEE") if d else "",
        "hm": lambda t: t.strftime("%H.%M") if t else "",
        "part_kind_label": lambda k: str(PART_KIND_LABELS.get(k, k)),
        "role_label": role_label,
        "km": lambda x: format_decimal(round(x or 0)),
        "mode_label": lambda m: str(MODE_LABELS.get(m, m or "")),
        "one_decimal": lambda x: format_decimal(round(x or 0, 1)),
    }


# --------------------------------------------------------------------------- helpers

def _round_arg(value: str | None) -> int | None:
    return int(value) if value in ("1", "2") else None


def _time_limit() -> float | None:
    """Seconds for the solver from a page; None lets the planner choose (a few seconds for 100 visits)."""
    return current_app.config.get("PLAN_TIME_LIMIT")


def _problems(message: str) -> list[str]:
    return [p.strip() for p in message.split("; ") if p.strip()]


# --------------------------------------------------------------------------- what is due, and planning

def _index_page(plan_form: PlanForm | None = None, proposal: dict | None = None, errors: list[str] | None = None,
                save_form: SavePlanForm | None = None, status: int = 200):
    sample = adopted_sample()
    if sample is None:
        return render_template("scheduling/no_sample.html"), status
    on = overview.chosen_day()
    plan_form = plan_form or PlanForm(formdata=None, omgang=overview.first_round_to_plan())
    return render_template("scheduling/index.html", sample=sample, due=overview.due(on), on=on,
                           rounds=overview.round_summaries(),
                           plan_form=plan_form, proposal=proposal, plan_errors=errors or [],
                           save_form=save_form, round_labels=dict(plan_form.omgang.choices),
                           window_info=service.window_info()), status


@bp.route("/")
@staff_required
def index():
    return _index_page()


@bp.route("/foresla", methods=["POST"])
@staff_required
def propose():
    form = PlanForm()
    if not form.validate_on_submit():
        return _index_page(form, status=400)
    if adopted_sample() is None:
        return _index_page(status=409)
    try:
        # The visits themselves (two per site, without dates) are made at once; the dates are not saved.
        service.ensure_visits()
        db.session.commit()
        result = service.plan(_round_arg(form.omgang.data), save=False, user=current_user,
                              time_limit=_time_limit(), earliest=service.plan_from(overview.today()))
    except service.VisitError as e:
        db.session.rollback()
        return _index_page(form, errors=_problems(str(e)), status=422)
    db.session.rollback()
    proposal = overview.proposal(result)
    save_form = SavePlanForm(formdata=None, omgang=form.omgang.data, fingerprint=proposal["fingerprint"])
    return _index_page(form, proposal=proposal, save_form=save_form)


@bp.route("/spara", methods=["POST"])
@staff_required
def save_plan():
    form = SavePlanForm()
    if not form.validate_on_submit() or form.omgang.data not in ("1", "2", "alla"):
        abort(400)
    try:
        result = service.plan(_round_arg(form.omgang.data), save=True, user=current_user, time_limit=_time_limit(),
                              earliest=service.plan_from(overview.today()))
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _index_page(PlanForm(formdata=None, omgang=form.omgang.data), errors=_problems(str(e)), status=422)
    except StaleDataError:
        db.session.rollback()
        flash(_("Något besök ändrades av någon annan medan planen sparades. Ingenting sparades; föreslå datum igen."),
              "error")
        return redirect(url_for("scheduling.index"))
    n, moved = len(result["visits"]), sum(1 for v in result["visits"] if v["moved"])
    if form.fingerprint.data and form.fingerprint.data != overview.fingerprint(result):
        flash(_("Besöken hade ändrats sedan förslaget visades, så planen räknades om innan den sparades. "
                "Granska datumen nedan."), "warning")
    flash(_("Planen är sparad: %(n)d besök har datum, %(moved)d av dem flyttades. Bokade besök ändrades inte.",
            n=n, moved=moved), "success")
    return redirect(url_for("scheduling.list_visits", omgang=form.omgang.data if form.omgang.data != "alla" else None))


# --------------------------------------------------------------------------- list, calendar, map

@bp.route("/lista")
@staff_required
def list_visits():
    """The visits in date order, a page at a time (LIST_PAGE rows), filtered by round, status and län.

    Read in SQL: the län to choose from with the number of visits (one statement), the filtered count, and one
    page of visits with their site, kommun and län (joined) and who travels (one statement for the page)."""
    round_ = _round_arg(request.args.get("omgang"))
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    lan = request.args.get("lan") or None
    per_lan = overview.visit_lans()
    lans = [(code, name) for code, name, _n in per_lan]
    total = sum(n for _c, _name, n in per_lan)
    if lan not in {code for code, _name in lans}:
        lan = None
    where = [c for c in ((Visit.round == round_) if round_ is not None else None,
                         (Visit.status == status) if status is not None else None,
                         (Kommun.lanskod == lan) if lan is not None else None) if c is not None]
    page, visits = overview.visits_page(
        request.args, where, total, LIST_PAGE,
        (Visit.date.is_(None), Visit.date, Visit.start_time, Visit.round, Site.position, Visit.id),
        selectinload(Visit.staff))
    filters = {k: v for k, v in (("omgang", round_), ("status", status), ("lan", lan)) if v is not None}
    return render_template("scheduling/list.html", visits=visits, total=total, page=page, filters=filters,
                           round_=round_, status=status, lan=lan, lans=lans, statuses=STATUSES,
                           sample=adopted_sample(), **_row_words())


def _row_words() -> dict:
    """Words of the visit lists' rows, translated once per page rather than once per row."""
    return {"weekdays": [format_date(date(2024, 1, i), "EEEE") for i in range(1, 8)],  # 1 January 2024: a Monday
            "status_words": {key: str(label) for key, label in STATUS_LABELS.items()}, "undated": _("inget datum")}


@bp.route("/kalender")
@staff_required
def calendar():
    on = overview.today()
    year, month = request.args.get("ar", type=int), request.args.get("manad", type=int)
    if year is None or month is None or not (1900 <= year <= 2200 and 1 <= month <= 12):
        year, month = overview.default_month(on)
    m = overview.month(year, month, on)
    return render_template("scheduling/calendar.html", m=m, title=format_date(date(year, month, 1), "LLLL yyyy"),
                           prev_title=format_date(date(*m.prev, 1), "LLLL yyyy"),
                           next_title=format_date(date(*m.next, 1), "LLLL yyyy"),
                           day_names=[format_date(date(2024, 1, i), "EEEE") for i in range(1, 8)],
                           day_abbr=[format_date(date(2024, 1, i), "EEE") for i in range(1, 8)],
                           # Translated once, not once per visit (a month at ten times the demo has 160).
                           round_words={r: _("omg. %(n)s", n=r) for r in (1, 2)},
                           status_words={key: str(label) for key, label in STATUS_LABELS.items()})


@bp.route("/karta")
@staff_required
def karta():
    round_ = _round_arg(request.args.get("omgang")) or 1
    data = overview.round_map(round_)
    # Translated once, not once per visit: at ten times the demo a round has 500 visits.
    words = {key: str(label) for key, label in MAP_LABELS.items()}
    one, undated = _("%(site)s: %(status)s, %(date)s"), _("inget datum")
    several = _("%(kommun)s: %(n)d besök (%(statuses)s)")
    rank = {key: i for i, key in enumerate(overview.MAP_ORDER)}
    fills, labels, links = {}, {}, {}
    for kod, vs in data.by_kommun.items():
        keys = [overview.map_key(v) for v in vs]
        order = sorted(range(len(vs)), key=lambda i: rank[keys[i]])
        first = vs[order[0]]
        fills[kod] = overview.MAP_COLOURS[keys[order[0]]]
        if len(vs) <= MAP_LABEL_VISITS:
            labels[kod] = "; ".join(one % {"site": vs[i].site.label, "status": words[keys[i]],
                                           "date": vs[i].date.isoformat() if vs[i].date else undated}
                                    for i in order)
        else:  # a city with many sites: how many in each status (the table below names them)
            tally = Counter(keys)
            labels[kod] = several % {"kommun": first.site.kommun.namn, "n": len(vs), "statuses": ", ".join(
                f"{words[key]}: {tally[key]}" for key in overview.MAP_ORDER if tally[key])}
        links[kod] = url_for("scheduling.visit", visit_id=first.id)
    svg = render_svg(
        load_boundaries(BOUNDARIES), fills, labels, links=links, width=440, id_prefix="besokskarta",
        title=_("Besöken i omgång %(round)s", round=round_), default_fill="#ececec",
        desc=_("Kommuner med besök i omgången är färgade efter besökets status enligt teckenförklaringen; "
               "övriga kommuner är ljusgrå. Tabellen på sidan visar samma uppgifter."),
        css_class="karta")
    status_words = {key: str(label) for key, label in STATUS_LABELS.items()}
    return render_template("scheduling/map.html", data=data, svg=svg, round_=round_, colours=overview.MAP_COLOURS,
                           by_lan=sorted(data.visits, key=lambda v: v.site.kommun.lanskod), status_words=status_words,
                           undated=undated,
                           order=overview.MAP_ORDER, map_labels=MAP_LABELS, home=overview.home_name())


# --------------------------------------------------------------------------- one visit

def _programme_form(visit: Visit, formdata=None) -> ProgrammeForm:
    contacts = programme.site_contacts(visit)
    choices = [(c.id, f"{c.name} ({role_label(c.role)})") for c in contacts]
    if formdata is None:
        form = ProgrammeForm(formdata=None, version=visit.version)
        for part in visit.parts:
            form.parts.append_entry({"id": str(part.id), "title": part.title, "kind": part.kind,
                                     "start": part.start_time, "end": part.end_time,
                                     "contacts": [c.id for c in part.contacts], "remove": False})
    else:
        form = ProgrammeForm(formdata)
    for entry in form.parts:
        entry.form.contacts.choices = choices
    return form


def _visit_page(visit: Visit, *, move_form: MoveForm | None = None, programme_form: ProgrammeForm | None = None,
                errors: list[str] | None = None, conflict: bool = False, status: int = 200):
    if conflict:
        db.session.rollback()
        db.session.refresh(visit)
    if move_form is None:
        move_form = MoveForm(formdata=None, version=visit.version, date=visit.date, start=visit.start_time,
                             end=visit.end_time, location=visit.location)
    else:
        move_form.version.data = str(visit.version)
    if programme_form is None:
        programme_form = _programme_form(visit)
    else:
        programme_form.version.data = str(visit.version)
    return render_template(
        "scheduling/visit.html", visit=visit, move_form=move_form, programme_form=programme_form,
        action_form=VersionForm(formdata=None, version=visit.version), errors=errors or [], conflict=conflict,
        conflict_text=CONFLICT, contacts=programme.site_contacts(visit),
        contact_count=overview.active_contact_count(visit.site_id),
        pending=sum(1 for a in visit.attendees if a.partstat == "NEEDS-ACTION"),
        mail=db.session.scalars(select(OutboxMessage).where(OutboxMessage.visit_id == visit.id)).all(),
        new_part_kinds=PART_KIND_LABELS, active_staff=service.active_staff()), status


def _stale(form, visit: Visit) -> bool:
    return form.version.data != str(visit.version)


@bp.route("/<int:visit_id>")
@staff_required
def visit(visit_id: int):
    return _visit_page(db.get_or_404(Visit, visit_id))


def _act(visit_id: int, action, done: str):
    """A life-cycle button: check the version, call the service, commit, say what happened."""
    visit = db.get_or_404(Visit, visit_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    if _stale(form, visit):
        return _visit_page(visit, conflict=True, status=409)
    try:
        action(visit)
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _visit_page(visit, errors=[str(e)], status=422)
    except StaleDataError:
        return _visit_page(visit, conflict=True, status=409)
    flash(done, "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/<int:visit_id>/bjud-in", methods=["POST"])
@staff_required
def invite(visit_id: int):
    return _act(visit_id, lambda v: service.invite(v, current_user),
                _("Inbjudan ligger i utkorgen och skickas vid nästa utskick. Besöket är nu inbjudet."))


@bp.route("/<int:visit_id>/bekrafta", methods=["POST"])
@staff_required
def confirm(visit_id: int):
    return _act(visit_id, lambda v: service.confirm(v, current_user), _("Besöket är bekräftat."))


@bp.route("/<int:visit_id>/genomfort", methods=["POST"])
@staff_required
def complete(visit_id: int):
    return _act(visit_id, lambda v: service.complete(v, current_user), _("Besöket är markerat som genomfört."))


@bp.route("/<int:visit_id>/skicka-program", methods=["POST"])
@staff_required
def send_programme(visit_id: int):
    return _act(visit_id, lambda v: programme.send_update(v, current_user),
                _("En uppdaterad inbjudan med det aktuella programmet ligger i utkorgen."))


@bp.route("/<int:visit_id>/flytta", methods=["POST"])
@staff_required
def move(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        if _stale(form, visit):
            return _visit_page(visit, move_form=form, conflict=True, status=409)
        return _visit_page(visit, move_form=form, status=400)
    if _stale(form, visit):
        return _visit_page(visit, move_form=form, conflict=True, status=409)
    new = (form.date.data, form.start.data, form.end.data, (form.location.data or "").strip())
    if new == (visit.date, visit.start_time, visit.end_time, visit.location):
        flash(_("Datum, tid och plats är desamma som förut; ingenting ändrades."), "info")
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    warnings = service.warnings_for(visit, form.date.data)
    if warnings and form.confirmed.data != "1":
        return render_template("scheduling/move_confirm.html", visit=visit, form=form, warnings=warnings,
                               new=new)
    was_sent = visit.sent_sequence is not None
    try:
        service.move(visit, *new, user=current_user)
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _visit_page(visit, move_form=form, errors=[str(e)], status=422)
    except StaleDataError:
        return _visit_page(visit, move_form=form, conflict=True, status=409)
    if was_sent:
        flash(_("Besöket är flyttat. En ny inbjudan till samma kalenderhändelse ligger i utkorgen; "
                "de inbjudna ombeds svara igen."), "success")
    else:
        flash(_("Besöket har nytt datum, ny tid eller ny plats."), "success")
    if warnings:
        flash(_("Ändringen bryter mot %(n)d regler för planeringen (se varningarna).", n=len(warnings)), "warning")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/<int:visit_id>/vem-aker", methods=["POST"])
@staff_required
def change_staff(visit_id: int):
    """Who goes on the visit, by hand: checkboxes of the active staff members."""
    visit = db.get_or_404(Visit, visit_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    if _stale(form, visit):
        return _visit_page(visit, conflict=True, status=409)
    raw = request.form.getlist("staff")
    ids = [parse_id(x) for x in raw]
    if any(i is None for i in ids) or len(raw) > 1000:
        return _visit_page(visit, errors=[_("Välj medarbetare i listan.")], status=422)
    try:
        changed = service.set_staff(visit, ids, current_user)
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _visit_page(visit, errors=[str(e)], status=422)
    except StaleDataError:
        return _visit_page(visit, conflict=True, status=409)
    if changed:
        flash(_("Ändringen av vem som åker är sparad."), "success")
    else:
        flash(_("Samma medarbetare som förut; ingenting ändrades."), "info")
    return redirect(url_for("scheduling.visit", visit_id=visit.id, _anchor="vem-aker"))


@bp.route("/<int:visit_id>/stall-in", methods=["GET", "POST"])
@staff_required
def cancel(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    if visit.status in (INSTALLD, GENOMFORD):
        flash(_("Besöket är redan inställt eller genomfört."), "info")
        return redirect(url_for("scheduling.visit", visit_id=visit.id))
    will_send = visit.sent_sequence is not None and bool(visit.attendees) and visit.date is not None
    if not confirmation.confirmed():  # the confirmation step (also for a POST from elsewhere): nothing changes
        form = CancelForm(formdata=None, version=visit.version)
        return render_template("scheduling/cancel.html", visit=visit, form=form, will_send=will_send)
    form = CancelForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return render_template("scheduling/cancel.html", visit=visit, form=form, will_send=will_send), 400
    if _stale(form, visit):
        return _visit_page(visit, conflict=True, status=409)
    try:
        service.cancel(visit, current_user, reason=(form.reason.data or "").strip())
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _visit_page(visit, errors=[str(e)], status=422)
    except StaleDataError:
        return _visit_page(visit, conflict=True, status=409)
    if will_send:
        flash(_("Besöket är inställt. Ett återbud ligger i utkorgen; när det har skickats försvinner besöket "
                "ur de inbjudnas kalendrar."), "success")
    else:
        flash(_("Besöket är inställt. Ingen inbjudan hade lagts i utkorgen, så inget återbud behövs."), "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id))


@bp.route("/<int:visit_id>/program", methods=["POST"])
@staff_required
def save_programme(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    form = _programme_form(visit, request.form)
    valid = form.validate_on_submit()
    abort_if_bad_csrf(form)
    if _stale(form, visit):
        return _visit_page(visit, programme_form=form, conflict=True, status=409)
    if not valid:
        return _visit_page(visit, programme_form=form, status=400)
    changes = []
    for entry in form.parts:
        f = entry.form
        part_id = parse_id(f.id.data)
        if part_id is None:
            abort(400)
        changes.append(programme.PartChange(part_id, f.title.data or "", f.kind.data, f.start.data, f.end.data,
                                            list(f.contacts.data or []), bool(f.remove.data)))
    new = form.new.form
    if (new.title.data or "").strip():
        changes.append(programme.PartChange(None, new.title.data, new.kind.data, new.start.data, new.end.data, []))
    try:
        programme.update_programme(visit, changes, current_user)
        db.session.commit()
    except service.VisitError as e:
        db.session.rollback()
        return _visit_page(visit, programme_form=form, errors=[str(e)], status=422)
    except StaleDataError:
        return _visit_page(visit, programme_form=form, conflict=True, status=409)
    message = _("Programmet är sparat.")
    if visit.sent_sequence is not None and visit.status not in (INSTALLD, GENOMFORD):
        message += " " + _("Besöket har redan en inbjudan: skicka det uppdaterade programmet med knappen "
                           "”Skicka uppdaterat program”.")
    flash(message, "success")
    return redirect(url_for("scheduling.visit", visit_id=visit.id, _anchor="program"))
