"""The action plans' pages: staff under /handlingsplaner, the kommun's own link under /plan/<token>.

Thin views: the rules, locking and audit are in service.py, the PDF in pdf.py. Every change is
a POST with CSRF and the version it was based on; a stale form is refused (409) with what the
user typed kept and shown beside what is stored now.

The /plan/<token> pages need no login: the signed token is the only key, and it opens the
plan of its own link and nothing else.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm, links
from ..auth import staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf, parse_id
from ..paging import page_of
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..versions import CONFLICT_TEXT
from . import bp, service
from .forms import (STATUS_LABELS, ActivityForm, FollowupForm, GoalForm, KommunReportForm, LinkForm, MoveForm,
                    PlanForm, RemoveForm, VersionForm)
from .models import ActionPlan, PlanActivity, PlanGoal, PlanLink

INDEX_PAGE = 100  # sites a page of the list of plans
CONFLICT_HEADING = _l("Någon annan har ändrat planen")
ACTIVITY_CONFLICT_HEADING = _l("Någon annan har ändrat aktiviteten")
LINK_ENDPOINTS = ("plans.kommun_plan", "plans.kommun_report", "plans.kommun_pdf")


@bp.app_template_filter("plan_pct")
def pct(share) -> str:
    return "–" if share is None else format_percent(share)


@bp.context_processor
def plan_helpers():
    return {
        "activity_status_label": lambda s: str(STATUS_LABELS.get(s, s)),
        "status_tone": lambda s: service.STATUS_TONE.get(s, "grey"),
        "yes_no": lambda b: _("Ja") if b else _("Nej"),
    }


@bp.after_request
def link_headers(response):
    """Link pages: the token must not leak through Referer, nor stay in a shared computer's cache."""
    return links.private_page(response) if request.endpoint in LINK_ENDPOINTS else response


# --------------------------------------------------------------------------- helpers

def _site_or_404(site_id: int):
    site = service.site_or_none(site_id)
    if site is None:
        abort(404)
    return site


def _plan_or_404(site) -> ActionPlan:
    plan = service.plan_for(site)
    if plan is None:
        abort(404)
    return plan


def _goal_or_404(site, goal_id: int) -> PlanGoal:
    goal = db.session.get(PlanGoal, goal_id)
    if goal is None or goal.plan.site_id != site.id:
        abort(404)
    return goal


def _activity_or_404(site, activity_id: int) -> PlanActivity:
    activity = db.session.get(PlanActivity, activity_id)
    if activity is None or activity.goal.plan.site_id != site.id:
        abort(404)
    return activity


def _theme_name(theme_id) -> str:
    from ..dialogue.models import Theme
    theme = db.session.get(Theme, theme_id) if theme_id else None
    return theme.name if theme else ""


def _goal_form(goal: PlanGoal | None, plan: ActionPlan | None, formdata=None) -> GoalForm:
    version = plan.version if plan else 0
    if formdata is None:
        form = GoalForm(formdata=None, version=version, title=goal.title if goal else "",
                        description=goal.description if goal else "", theme=goal.theme_id if goal else None)
    else:
        form = GoalForm(formdata)
    form.theme.groups = service.theme_groups(goal.theme_id if goal else None)
    return form


def _activity_form(activity: PlanActivity | None, formdata=None) -> ActivityForm:
    if formdata is not None:
        return ActivityForm(formdata)
    if activity is None:
        return ActivityForm(formdata=None)
    return ActivityForm(formdata=None, version=activity.version, **{k: getattr(activity, k)
                                                                    for k in service.ACTIVITY_FIELDS})


def _links(plan: ActionPlan | None) -> list[dict]:
    if plan is None:
        return []
    now = service.utcnow()
    out = []
    for link in sorted(plan.links, key=lambda ln: ln.id, reverse=True):
        state = service.link_state(link, now)
        out.append({"link": link, "state": state, "last_day": service.last_valid_day(link),
                    "url": url_for("plans.kommun_plan", token=service.token_for(link), _external=True)
                    if state == service.ACTIVE else None})
    return out


def _editor(site, *, plan_form: PlanForm | None = None, goal_form: GoalForm | None = None,
            link_form: LinkForm | None = None, conflict=None, errors: list[str] | None = None, status: int = 200):
    plan = service.plan_for(site)
    if plan_form is None:
        plan_form = PlanForm(formdata=None, version=plan.version if plan else 0,
                             challenges=plan.challenges if plan else "")
    elif conflict is not None:  # after a conflict the user has seen both: saving again is deliberate
        plan_form.version.data = str(plan.version if plan else 0)
    if goal_form is None:
        goal_form = _goal_form(None, plan)
    else:
        if conflict is not None:
            goal_form.version.data = str(plan.version if plan else 0)
        goal_form.theme.groups = service.theme_groups()
    if link_form is None:
        link_form = LinkForm(formdata=None, valid_through=service.today() + timedelta(days=service.LINK_DAYS))
    return render_template(
        "plans/editor.html", site=site, plan=plan, plan_form=plan_form, goal_form=goal_form, link_form=link_form,
        figures=service.followup(plan) if plan else None, links=_links(plan), conflict=conflict,
        errors=errors or [], conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT,
        theme_name=_theme_name, link_days=service.LINK_DAYS), status


def _saved(site, message: str, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for("plans.editor", site_id=site.id, _anchor=anchor))


# --------------------------------------------------------------------------- overview and editor

@bp.route("/handlingsplaner")
@staff_required
def index():
    """The sites of the adopted sample with their plans' figures, a page (INDEX_PAGE sites) at a time."""
    sample = adopted_sample()
    if sample is None:
        return render_template("plans/index.html", rows=[], sample=None)
    total, with_plan = service.plan_counts(sample.id)
    page = page_of(request.args, total, INDEX_PAGE)
    site_list = list(db.session.scalars(select(Site).where(Site.sample_id == sample.id, Site.active)
                                        .order_by(Site.position, Site.id).offset(page.offset).limit(page.per_page)))
    return render_template("plans/index.html", rows=service.overview(site_list), sample=sample, page=page,
                           total=total, with_plan=with_plan)


@bp.route("/handlingsplaner/plats/<int:site_id>")
@staff_required
def editor(site_id: int):
    return _editor(_site_or_404(site_id))


@bp.route("/handlingsplaner/plats/<int:site_id>/utmaningar", methods=["POST"])
@staff_required
def save_challenges(site_id: int):
    site = _site_or_404(site_id)
    form = PlanForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _editor(site, plan_form=form, status=400)
    try:
        service.save_challenges(site, form.version.data, form.challenges.data or "", current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        plan = service.plan_for(site)
        return _editor(site, plan_form=form, status=409, conflict=[
            (form.challenges.label.text, form.challenges.data, plan.challenges if plan else "")])
    return _saved(site, _("Utmaningarna är sparade."), "utmaningar")


@bp.route("/handlingsplaner/plats/<int:site_id>/mal", methods=["POST"])
@staff_required
def add_goal(site_id: int):
    site = _site_or_404(site_id)
    form = _goal_form(None, service.plan_for(site), request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _editor(site, goal_form=form, status=400)
    try:
        goal = service.add_goal(site, form.version.data, {"title": form.title.data,
                                                          "description": form.description.data or "",
                                                          "theme_id": form.theme.data}, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        return _editor(site, goal_form=form, status=409, conflict=[])
    return _saved(site, _("Målet är tillagt. Lägg nu till aktiviteter för att nå det."), f"mal-{goal.id}")


@bp.route("/handlingsplaner/plats/<int:site_id>/mal/<int:goal_id>", methods=["GET", "POST"])
@staff_required
def edit_goal(site_id: int, goal_id: int):
    site = _site_or_404(site_id)
    goal = _goal_or_404(site, goal_id)
    if request.method == "GET":
        return _goal_page(site, goal)
    form = _goal_form(goal, goal.plan, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _goal_page(site, goal, form=form, status=400)
    try:
        changed = service.update_goal(goal, form.version.data, {"title": form.title.data,
                                                                "description": form.description.data or "",
                                                                "theme_id": form.theme.data}, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(goal)
        return _goal_page(site, goal, form=form, status=409, conflict=[
            (form.title.label.text, form.title.data, goal.title),
            (form.description.label.text, form.description.data, goal.description),
            (form.theme.label.text, _theme_name(form.theme.data), _theme_name(goal.theme_id))])
    if not changed:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
        return redirect(url_for("plans.editor", site_id=site.id, _anchor=f"mal-{goal.id}"))
    return _saved(site, _("Målet är sparat."), f"mal-{goal.id}")


def _goal_page(site, goal: PlanGoal, *, form: GoalForm | None = None, conflict=None, status: int = 200):
    if form is None:
        form = _goal_form(goal, goal.plan)
    elif conflict is not None:
        form.version.data = str(goal.plan.version)
    return render_template("plans/goal.html", site=site, goal=goal, form=form,
                           conflict=conflict, conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


def _remove_goal_confirmation(site, goal: PlanGoal) -> confirm.Confirmation:
    n = len(goal.activities)
    happens = [_("Mål %(n)d, ”%(title)s”, tas bort ur handlingsplanen för %(site)s.", n=goal.position,
                 title=goal.title, site=site.label)]
    if n:
        happens.append(ngettext("Dess %(num)d aktivitet tas bort med det: %(list)s.",
                                "Dess %(num)d aktiviteter tas bort med det: %(list)s.", n,
                                list="; ".join(a.description.splitlines()[0] for a in goal.activities)))
        reported = sum(1 for a in goal.activities if a.kommun_updated_at)
        if reported:
            happens.append(ngettext("Det kommunen har rapporterat om %(num)d av dem försvinner också.",
                                    "Det kommunen har rapporterat om %(num)d av dem försvinner också.", reported))
    if goal.position < len(goal.plan.goals):
        happens.append(_("Målen efter det får nya nummer."))
    return confirm.Confirmation(
        heading=_("Ta bort mål %(n)d i handlingsplanen för %(site)s?", n=goal.position, site=site.label),
        action=url_for("plans.remove_goal", site_id=site.id, goal_id=goal.id), button=_("Ta bort målet"),
        back=url_for("plans.edit_goal", site_id=site.id, goal_id=goal.id), happens=happens,
        cannot_undo=_("Målet och dess aktiviteter går inte att få tillbaka."),
        hidden={"ta-bort-version": goal.plan.version})


@bp.route("/handlingsplaner/plats/<int:site_id>/mal/<int:goal_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def remove_goal(site_id: int, goal_id: int):
    site = _site_or_404(site_id)
    goal = _goal_or_404(site, goal_id)
    if not confirm.confirmed():
        return confirm.page(_remove_goal_confirmation(site, goal))
    form = RemoveForm(prefix="ta-bort")
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    try:
        service.remove_goal(goal, form.version.data, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(goal)
        return _goal_page(site, goal, status=409, conflict=[])
    return _saved(site, _("Målet och dess aktiviteter är borttagna."), "mal")


@bp.route("/handlingsplaner/plats/<int:site_id>/mal/<int:goal_id>/flytta", methods=["POST"])
@staff_required
def move_goal(site_id: int, goal_id: int):
    site = _site_or_404(site_id)
    goal = _goal_or_404(site, goal_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moved = service.move_goal(goal, form.direction.data, form.version.data, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        return _editor(site, status=409, conflict=[],
                       errors=[_("Ordningen ändrades inte. Sidan visar nu planen som den är sparad.")])
    if not moved:
        flash(_("Målet står redan först eller sist."), "info")
        return redirect(url_for("plans.editor", site_id=site.id, _anchor=f"mal-{goal.id}"))
    return _saved(site, _("Målet %(title)s är flyttat till plats %(n)d.", title=goal.title, n=goal.position),
                  f"mal-{goal.id}")


# --------------------------------------------------------------------------- activities

def _activity_page(site, goal: PlanGoal, activity: PlanActivity | None, *, form: ActivityForm | None = None,
                   conflict=None, status: int = 200):
    if form is None:
        form = _activity_form(activity)
    elif activity is not None and conflict is not None:
        form.version.data = str(activity.version)
    return render_template("plans/activity.html", site=site, goal=goal, activity=activity, form=form,
                           conflict=conflict, conflict_heading=ACTIVITY_CONFLICT_HEADING,
                           conflict_text=CONFLICT_TEXT), status


@bp.route("/handlingsplaner/plats/<int:site_id>/mal/<int:goal_id>/ny-aktivitet", methods=["GET", "POST"])
@staff_required
def new_activity(site_id: int, goal_id: int):
    site = _site_or_404(site_id)
    goal = _goal_or_404(site, goal_id)
    if request.method == "GET":
        return _activity_page(site, goal, None)
    form = ActivityForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _activity_page(site, goal, None, form=form, status=400)
    try:
        activity = service.add_activity(goal, form.values(), current_user)
        db.session.commit()
    except service.PlanError as e:
        db.session.rollback()
        form.status.errors.append(str(e))
        return _activity_page(site, goal, None, form=form, status=400)
    return _saved(site, _("Aktiviteten är tillagd."), f"aktivitet-{activity.id}")


@bp.route("/handlingsplaner/plats/<int:site_id>/aktivitet/<int:activity_id>", methods=["GET", "POST"])
@staff_required
def edit_activity(site_id: int, activity_id: int):
    site = _site_or_404(site_id)
    activity = _activity_or_404(site, activity_id)
    if request.method == "GET":
        return _activity_page(site, activity.goal, activity)
    form = ActivityForm()
    if not form.validate_on_submit() or not form.version.data:
        abort_if_bad_csrf(form)
        if not form.version.data:
            abort(400)
        return _activity_page(site, activity.goal, activity, form=form, status=400)
    try:
        changed = service.update_activity(activity, form.version.data, form.values(), current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(activity)
        return _activity_page(site, activity.goal, activity, form=form, status=409,
                              conflict=_activity_conflict(form, activity))
    except service.PlanError as e:
        db.session.rollback()
        form.status.errors.append(str(e))
        return _activity_page(site, activity.goal, activity, form=form, status=400)
    if not changed:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
        return redirect(url_for("plans.editor", site_id=site.id, _anchor=f"aktivitet-{activity.id}"))
    return _saved(site, _("Aktiviteten är sparad."), f"aktivitet-{activity.id}")


def _show(value) -> str:
    if isinstance(value, bool):
        return _("Ja") if value else _("Nej")
    if value in STATUS_LABELS:
        return str(STATUS_LABELS[value])
    return "" if value is None else str(value)


def _activity_conflict(form: ActivityForm, activity: PlanActivity) -> list[tuple[str, str, str]]:
    typed = form.values()
    return [(form[name].label.text, _show(typed[name]), _show(getattr(activity, name)))
            for name in service.ACTIVITY_FIELDS]


def _remove_activity_confirmation(site, activity: PlanActivity) -> confirm.Confirmation:
    goal = activity.goal
    nr = f"{goal.position}.{activity.position}"
    happens = [_("Aktivitet %(nr)s, ”%(text)s”, tas bort ur mål %(n)d i handlingsplanen för %(site)s.", nr=nr,
                 text=activity.description.splitlines()[0], n=goal.position, site=site.label)]
    if activity.kommun_updated_at:
        happens.append(_("Det kommunen har rapporterat om aktiviteten försvinner också."))
    happens.append(_("Uppföljningens siffror räknas utan aktiviteten."))
    return confirm.Confirmation(
        heading=_("Ta bort aktivitet %(nr)s i handlingsplanen för %(site)s?", nr=nr, site=site.label),
        action=url_for("plans.remove_activity", site_id=site.id, activity_id=activity.id),
        button=_("Ta bort aktiviteten"), back=url_for("plans.edit_activity", site_id=site.id, activity_id=activity.id),
        happens=happens, cannot_undo=_("Aktiviteten går inte att få tillbaka."),
        hidden={"ta-bort-version": activity.version})


@bp.route("/handlingsplaner/plats/<int:site_id>/aktivitet/<int:activity_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def remove_activity(site_id: int, activity_id: int):
    site = _site_or_404(site_id)
    activity = _activity_or_404(site, activity_id)
    if not confirm.confirmed():
        return confirm.page(_remove_activity_confirmation(site, activity))
    form = RemoveForm(prefix="ta-bort")
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    goal_id = activity.goal_id
    try:
        service.remove_activity(activity, form.version.data, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(activity)
        return _activity_page(site, activity.goal, activity, status=409, conflict=[])
    return _saved(site, _("Aktiviteten är borttagen."), f"mal-{goal_id}")


# --------------------------------------------------------------------------- PDF and links

def _pdf_response(plan: ActionPlan, download: bool = False):
    from .pdf import filename, render_plan_pdf
    response = make_response(render_plan_pdf(plan))
    response.headers["Content-Type"] = "application/pdf"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename(plan)}"'
    return response


@bp.route("/handlingsplaner/plats/<int:site_id>/plan.pdf")
@staff_required
def plan_pdf(site_id: int):
    return _pdf_response(_plan_or_404(_site_or_404(site_id)))


@bp.route("/handlingsplaner/plats/<int:site_id>/lankar", methods=["POST"])
@staff_required
def create_link(site_id: int):
    site = _site_or_404(site_id)
    plan = _plan_or_404(site)
    form = LinkForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _editor(site, link_form=form, status=400)
    try:
        link = service.create_link(plan, form.valid_through.data, current_user)
        db.session.commit()
    except service.PlanError as e:
        db.session.rollback()
        form.valid_through.errors.append(str(e))
        return _editor(site, link_form=form, status=400)
    return _saved(site, _("En ny länk är skapad (giltig till och med %(day)s). Kopiera adressen i listan och "
                          "skicka den till kommunen.", day=form.valid_through.data.isoformat()), f"lank-{link.id}")


def _revoke_link_confirmation(site, link: PlanLink) -> confirm.Confirmation:
    return confirm.Confirmation(
        heading=_("Återkalla länk %(id)d till handlingsplanen för %(site)s?", id=link.id, site=site.label),
        action=url_for("plans.revoke_link", site_id=site.id, link_id=link.id), button=_("Återkalla länken"),
        back=url_for("plans.editor", site_id=site.id, _anchor="lankar"),
        facts=[(_("Länk"), _("Länk %(id)d", id=link.id)),
               (_("Giltig till och med"), service.last_valid_day(link).isoformat()),
               (_("Senast använd"), format_datetime(link.last_used_at, "yyyy-MM-dd HH:mm") if link.last_used_at
                else _("aldrig"))],
        happens=[_("Adressen som kommunen har fått slutar fungera direkt, också om den är sparad eller "
                   "bokmärkt. Den som öppnar den får veta att länken är återkallad."),
                 _("Det kommunen redan har rapporterat finns kvar i planen."),
                 _("Behöver kommunen komma åt planen igen skapar du en ny länk och skickar den nya adressen.")],
        cannot_undo=_("En återkallad länk kan inte öppnas igen."))


@bp.route("/handlingsplaner/plats/<int:site_id>/lankar/<int:link_id>/aterkalla", methods=["GET", "POST"])
@staff_required
def revoke_link(site_id: int, link_id: int):
    site = _site_or_404(site_id)
    link = db.session.get(PlanLink, link_id)
    if link is None or link.plan.site_id != site.id:
        abort(404)
    if link.revoked_at is not None:
        flash(_("Länken var redan återkallad."), "info")
        return redirect(url_for("plans.editor", site_id=site.id, _anchor="lankar"))
    if not confirm.confirmed():
        return confirm.page(_revoke_link_confirmation(site, link))
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    if service.revoke_link(link, current_user):
        db.session.commit()
        flash(_("Länken är återkallad. Den som har adressen kommer inte längre åt planen."), "success")
    else:
        flash(_("Länken var redan återkallad."), "info")
    return redirect(url_for("plans.editor", site_id=site.id, _anchor="lankar"))


# --------------------------------------------------------------------------- follow-up at visit 2

def _followup_form(plan: ActionPlan, formdata=None) -> FollowupForm:
    if formdata is None:
        form = FollowupForm(formdata=None, version=plan.version, followup_summary=plan.followup_summary,
                            most_urgent=plan.most_urgent)
        for goal in plan.goals:
            form.situations.append_entry({"goal_id": str(goal.id), "situation": goal.situation})
    else:
        form = FollowupForm(formdata)
    titles = {str(g.id): g for g in plan.goals}
    for entry in form.situations:
        goal = titles.get(entry.form.goal_id.data)
        if goal is not None:
            entry.form.situation.label.text = _("Läget för mål %(n)d: %(title)s", n=goal.position, title=goal.title)
    return form


def _followup_page(site, plan: ActionPlan, *, form: FollowupForm | None = None, conflict=None, status: int = 200):
    if form is None:
        form = _followup_form(plan)
    elif conflict is not None:
        form.version.data = str(plan.version)
    note = service.round1_note(site)
    return render_template(
        "plans/followup.html", site=site, plan=plan, figures=service.followup(plan), form=form,
        note=note, note_sections=service.note_sections(note), visit1=service.visit_of(site, 1),
        visit2=service.visit_of(site, 2), conflict=conflict, conflict_heading=CONFLICT_HEADING,
        conflict_text=CONFLICT_TEXT, theme_name=_theme_name), status


@bp.route("/handlingsplaner/plats/<int:site_id>/uppfoljning", methods=["GET", "POST"])
@staff_required
def followup(site_id: int):
    site = _site_or_404(site_id)
    plan = _plan_or_404(site)
    if request.method == "GET":
        return _followup_page(site, plan)
    form = _followup_form(plan, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _followup_page(site, plan, form=form, status=400)
    situations = {}
    for entry in form.situations:
        goal_id = parse_id(entry.form.goal_id.data)
        if goal_id is None:
            abort(400)
        situations[goal_id] = entry.form.situation.data or ""
    try:
        changed = service.save_followup(plan, form.version.data, form.followup_summary.data or "",
                                        form.most_urgent.data or "", situations, current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(plan)
        by_id = {g.id: g for g in plan.goals}
        rows = [(entry.form.situation.label.text, entry.form.situation.data,
                 by_id[int(entry.form.goal_id.data)].situation if int(entry.form.goal_id.data) in by_id else "")
                for entry in form.situations]
        rows += [(form.followup_summary.label.text, form.followup_summary.data, plan.followup_summary),
                 (form.most_urgent.label.text, form.most_urgent.data, plan.most_urgent)]
        return _followup_page(site, plan, form=form, status=409, conflict=rows)
    except service.PlanError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("plans.followup", site_id=site.id))
    if changed:
        flash(_("Uppföljningen är sparad."), "success")
    else:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    return redirect(url_for("plans.followup", site_id=site.id))


# --------------------------------------------------------------------------- the kommun's link (no login)

def _refused(reason: str, status: int, back: str | None = None):
    return render_template("link_refused.html", kind="plan", reason=reason, back=back), status


def _resolve(token: str):
    """(link, None) for a valid token, else (None, the refusal page)."""
    try:
        return service.resolve_token(token), None
    except service.LinkRefused as e:
        return None, _refused(e.reason, e.status)


def _kommun_page(link: PlanLink, token: str, *, forms: dict | None = None, conflict_id: int | None = None,
                 conflict=None, status: int = 200):
    plan = link.plan
    forms = dict(forms or {})
    for activity in service.activities(plan):
        if activity.id not in forms:
            forms[activity.id] = KommunReportForm(formdata=None, prefix=f"a{activity.id}", version=activity.version,
                                                  status=activity.status, kommun_comment=activity.kommun_comment)
        elif conflict is not None:
            forms[activity.id].version.data = str(activity.version)
    return render_template("plans/kommun.html", link=link, plan=plan, site=plan.site, token=token, forms=forms,
                           last_day=service.last_valid_day(link), conflict_id=conflict_id, conflict=conflict,
                           conflict_heading=ACTIVITY_CONFLICT_HEADING, theme_name=_theme_name,
                           conflict_text=_("Någon annan sparade en ändring av den här aktiviteten efter att du "
                                           "öppnade sidan, så det du skickade har inte sparats. Det du skrev står "
                                           "kvar i formuläret; spara igen om ditt ska gälla.")), status


@bp.route("/plan/<token>")
def kommun_plan(token: str):
    link, refused = _resolve(token)
    if refused:
        return refused
    service.touch_link(link)
    db.session.commit()
    return _kommun_page(link, token)


@bp.route("/plan/<token>/plan.pdf")
def kommun_pdf(token: str):
    link, refused = _resolve(token)
    if refused:
        return refused
    service.touch_link(link)
    db.session.commit()
    return _pdf_response(link.plan)


@bp.route("/plan/<token>/aktivitet/<int:activity_id>", methods=["POST"])
def kommun_report(token: str, activity_id: int):
    link, refused = _resolve(token)
    if refused:
        return refused
    activity = db.session.get(PlanActivity, activity_id)
    # A link opens its own plan only: an activity of any other plan does not exist here.
    if activity is None or activity.goal.plan_id != link.plan_id:
        return _refused("activity", 404, back=url_for("plans.kommun_plan", token=token))
    form = KommunReportForm(prefix=f"a{activity.id}")
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _kommun_page(link, token, forms={activity.id: form}, conflict_id=activity.id, status=400)
    try:
        changed = service.kommun_report(link, activity, form.version.data, form.status.data,
                                        form.kommun_comment.data or "")
        service.touch_link(link)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(activity)
        rows = [(form.status.label.text, _show(form.status.data), _show(activity.status)),
                (form.kommun_comment.label.text, form.kommun_comment.data, activity.kommun_comment)]
        return _kommun_page(link, token, forms={activity.id: form}, conflict_id=activity.id, conflict=rows,
                            status=409)
    if changed:
        flash(_("Tack! Det du rapporterade om aktiviteten är sparat."), "success")
    else:
        flash(_("Inget var ändrat; ingenting sparades."), "info")
    return redirect(url_for("plans.kommun_plan", token=token, _anchor=f"aktivitet-{activity.id}"))
