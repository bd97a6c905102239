"""The measurement's pages: staff under /matningar/, the kommun's own link under /matning/<token>.

Thin views: the rules, locking, sending and audit are in service.py. Every change is a POST with
CSRF; staff forms carry the version they were based on and a stale one is refused (409) with
what was typed kept. The /matning/<token> page needs no login: the signed token is the only key,
and it opens its own site's questionnaire and nothing else.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import confirm, links
from ..auth import staff_required
from ..extensions import csrf, db
from ..forms import abort_if_bad_csrf
from ..invites.views import OUTBOX_STATUS_LABELS
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from . import bp, service
from .forms import (KIND_LABELS, ROUND_LABELS, AnswerForm, LastDayForm, MoveForm, QuestionForm, QuestionnaireForm,
                    RemindForm, SendForm, VersionForm, read_rules)
from .models import ONE, MeasurementRequest, Question, Questionnaire

STATE_LABELS = {
    service.NOT_SENT: _l("inte begärd"),
    service.SENT: _l("begärd, inga svar än"),
    service.SAVED: _l("delvis ifylld"),
    service.SUBMITTED: _l("inskickad"),
}
LINK_LABELS = {links.ACTIVE: _l("aktiv"), links.EXPIRED: _l("utgången"), links.REVOKED: _l("återkallad")}
CONFLICT_HEADING = _l("Någon annan har ändrat enkäten")
CONFLICT_TEXT = _l("Någon annan sparade en ändring efter att du öppnade sidan, så det du skickade har inte sparats "
                   "och ingenting har skrivits över. Det du skrev står kvar i formuläret. Spara igen om ditt ska "
                   "gälla.")
KOMMUN_ENDPOINTS = ("measurement.kommun_form",)


@bp.after_request
def link_headers(response):
    return links.private_page(response) if request.endpoint in KOMMUN_ENDPOINTS else response


# App-wide template globals (prefixed m_), registered once: the visit page (scheduling) includes
# measurement/_visit_panel.html.
for _name, _helper in {
        "m_state_label": lambda s: str(STATE_LABELS.get(s, s)),
        "m_link_label": lambda s: str(LINK_LABELS.get(s, s)),
        "m_kind_label": lambda k: str(KIND_LABELS.get(k, k)),
        "m_round_label": lambda r: str(ROUND_LABELS["" if r is None else str(r)]),
        "m_rule_groups": service.rule_text,
        "m_last_day": links.last_valid_day,
        "m_number": service.number_for_input,
        "m_panel": service.panel}.items():
    bp.add_app_template_global(_helper, _name)


# --------------------------------------------------------------------------- helpers

def _question_or_404(questionnaire: Questionnaire, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.questionnaire_id != questionnaire.id:
        abort(404)
    return question


def _round_or_404(round_: int) -> int:
    if round_ not in service.ROUNDS:
        abort(404)
    return round_


def _sample_site_or_404(site_id: int) -> Site:
    site = next((s for s in service.sites() if s.id == site_id), None)
    if site is None:
        abort(404)
    return site


def _send_form(round_: int, formdata=None, site_visit=None) -> SendForm:
    usable = service.usable_for(round_)
    if formdata is None:
        form = SendForm(formdata=None, questionnaire=usable[0].id if usable else None,
                        last_day=service.default_last_day(site_visit) if site_visit is not None else None)
    else:
        form = SendForm(formdata)
    form.questionnaire.choices = [(q.id, q.name) for q in usable]
    return form


def _report_flash(report: service.RoundReport, done: str) -> None:
    if report.done:
        flash(done, "success")
    else:
        flash(_("Ingen besöksplats behövde det."), "info")
    if report.no_contacts:
        flash(_("Utan aktiva kontakter (fick inget): %(sites)s.", sites=", ".join(s.label for s in report.no_contacts)),
              "warning")
    if report.inactive_link:
        flash(_("Länken är återkallad eller har gått ut (fick inget): %(sites)s.",
                sites=", ".join(s.label for s in report.inactive_link)), "warning")


# --------------------------------------------------------------------------- overview

def _round_arg() -> int:
    """The round shown on the overview: ?omgang=1 or 2."""
    value = request.args.get("omgang", "1")
    return _round_or_404(int(value)) if value.isdigit() else abort(404)


def _index_page(round_: int, *, send_form: SendForm | None = None, remind_form: RemindForm | None = None,
                errors: list[str] | None = None, status: int = 200):
    remind_form = remind_form or RemindForm(formdata=None)
    days = remind_form.days.data if not remind_form.errors and remind_form.days.data else service.REMIND_DAYS
    return render_template(
        "measurement/index.html", round_=round_, rounds=service.ROUNDS, sample=adopted_sample(),
        questionnaires=service.questionnaires(), overview=service.overview(round_),
        send_form=send_form or _send_form(round_), remind_form=remind_form, days=days,
        due=len(service.due_reminders(days)), errors=errors or []), status


@bp.route("/matningar/")
@staff_required
def index():
    return _index_page(_round_arg())


@bp.route("/matningar/omgang/<int:round_>/<action>", methods=["POST"])
@staff_required
def send_round(round_: int, action: str):
    """"skicka": mail the link to every site without it; "skapa": create the links to go with the invitations."""
    _round_or_404(round_)
    if action not in ("skicka", "skapa"):
        abort(404)
    form = _send_form(round_, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _index_page(round_, send_form=form, status=400)
    questionnaire = db.session.get(Questionnaire, form.questionnaire.data)
    try:
        if action == "skicka":
            report = service.send_round(round_, questionnaire, form.last_day.data, current_user)
        else:
            report = service.create_round(round_, questionnaire, form.last_day.data, current_user)
        db.session.commit()
    except service.MeasurementError as e:
        db.session.rollback()
        return _index_page(round_, send_form=form, errors=[str(e)], status=422)
    n = len(report.done)
    if action == "skicka":
        _report_flash(report, ngettext("Länken ligger i utkorgen till %(num)d besöksplats.",
                                       "Länken ligger i utkorgen till %(num)d besöksplatser.", n))
    else:
        _report_flash(report, ngettext("%(num)d länk är skapad; den följer med inbjudan till besöket.",
                                       "%(num)d länkar är skapade; de följer med inbjudningarna till besöken.", n))
    return redirect(url_for("measurement.index", omgang=round_))


@bp.route("/matningar/paminnelser", methods=["POST"])
@staff_required
def remind():
    round_ = _round_arg()
    form = RemindForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _index_page(round_, remind_form=form, status=400)
    reminded, skipped = service.remind(form.days.data, current_user)
    db.session.commit()
    if reminded:
        flash(ngettext("%(num)d påminnelse ligger i utkorgen.", "%(num)d påminnelser ligger i utkorgen.",
                       len(reminded)), "success")
    else:
        flash(_("Ingen påminnelse behövdes: alla med besök inom %(n)d dagar har svarat eller redan fått en.",
                n=form.days.data), "info")
    if skipped:
        flash(_("Utan aktiva kontakter (fick ingen påminnelse): %(sites)s.",
                sites=", ".join(r.site.label for r in skipped)), "warning")
    return redirect(url_for("measurement.index", omgang=round_))


# --------------------------------------------------------------------------- questionnaires

@bp.route("/matningar/enkater/ny", methods=["GET", "POST"])
@staff_required
def new_questionnaire():
    form = QuestionnaireForm()
    if request.method == "POST":
        if form.validate_on_submit():
            questionnaire = service.create_questionnaire(form.values(), current_user)
            db.session.commit()
            flash(_("Enkäten är skapad. Lägg nu till frågorna."), "success")
            return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id,
                                    _anchor="ny-fraga"))
        abort_if_bad_csrf(form)
    return render_template("measurement/new.html", form=form), 400 if form.errors else 200


def _new_question_form(questionnaire: Questionnaire, formdata=None) -> QuestionForm:
    if formdata is not None:
        return QuestionForm(formdata)
    return QuestionForm(formdata=None, version=questionnaire.version)


def _editor(questionnaire: Questionnaire, *, header: QuestionnaireForm | None = None,
            question_form: QuestionForm | None = None, errors: list[str] | None = None, conflict=None,
            status: int = 200):
    if header is None:
        header = QuestionnaireForm(formdata=None, version=questionnaire.version, name=questionnaire.name,
                                   intro=questionnaire.intro,
                                   round="" if questionnaire.round is None else str(questionnaire.round))
    if question_form is None:
        question_form = _new_question_form(questionnaire)
    if conflict is not None:  # after a conflict the user has seen the page as it is: saving again is deliberate
        header.version.data = str(questionnaire.version)
        question_form.version.data = str(questionnaire.version)
    counts = service.request_counts(questionnaire)
    return render_template(
        "measurement/questionnaire.html", questionnaire=questionnaire, header=header, question_form=question_form,
        action_form=VersionForm(formdata=None, version=questionnaire.version), errors=errors or [],
        problems=service.rule_messages(questionnaire.questions), conflict=conflict,
        conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT, counts=counts,
        last=len(questionnaire.questions)), status


def _refused(questionnaire: Questionnaire, e: Exception, **forms):
    """A change the service refused: conflict (409), locked (409), bad rules or input (422)."""
    db.session.rollback()
    db.session.refresh(questionnaire)
    if isinstance(e, (service.StaleError, StaleDataError)):
        return _editor(questionnaire, conflict=[], status=409, **forms)
    if isinstance(e, service.RuleError):
        return _editor(questionnaire, errors=e.problems, status=422, **forms)
    return _editor(questionnaire, errors=[str(e)], status=409 if isinstance(e, service.LockedError) else 422,
                   **forms)


@bp.route("/matningar/enkater/<int:questionnaire_id>", methods=["GET", "POST"])
@staff_required
def questionnaire(questionnaire_id: int):
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    if request.method == "GET":
        return _editor(questionnaire)
    form = QuestionnaireForm()
    if not form.validate_on_submit() or not form.version.data:
        abort_if_bad_csrf(form)
        return _editor(questionnaire, header=form, status=400)
    try:
        changed = service.update_questionnaire(questionnaire, form.version.data, form.values(), current_user)
        db.session.commit()
    except (service.MeasurementError, StaleDataError) as e:
        return _refused(questionnaire, e, header=form)
    flash(_("Enkäten är sparad.") if changed else _("Inget var ändrat; ingenting sparades."),
          "success" if changed else "info")
    return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id))


@bp.route("/matningar/enkater/<int:questionnaire_id>/fragor", methods=["POST"])
@staff_required
def add_question(questionnaire_id: int):
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    form = _new_question_form(questionnaire, request.form)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _editor(questionnaire, question_form=form, status=400)
    try:
        question = service.add_question(questionnaire, form.version.data, form.values(), current_user)
        db.session.commit()
    except (service.MeasurementError, StaleDataError) as e:
        return _refused(questionnaire, e, question_form=form)
    flash(_("Fråga %(n)d är tillagd. Hoppregler sätter du under Ändra.", n=question.position) if question.kind == ONE
          else _("Fråga %(n)d är tillagd.", n=question.position), "success")
    return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id,
                            _anchor=f"fraga-{question.id}"))


def _question_page(questionnaire: Questionnaire, question: Question, *, form: QuestionForm | None = None,
                   rules: dict[str, int] | None = None, errors: list[str] | None = None, conflict=None,
                   status: int = 200):
    if form is None:
        form = QuestionForm(formdata=None, version=questionnaire.version, text=question.text, help=question.help,
                            kind=question.kind, options="\n".join(question.options or []),
                            other_option=question.other_option, comment=question.comment, required=question.required)
    elif conflict is not None:
        form.version.data = str(questionnaire.version)
    last = len(questionnaire.questions)
    targets = [(str(p), _("Fråga %(n)d", n=p)) for p in range(question.position + 1, last + 1)]
    targets.append((str(last + 1), _("Slutet av enkäten")))
    return render_template(
        "measurement/question.html", questionnaire=questionnaire, question=question, form=form,
        rules=question.skip_rules if rules is None else rules, targets=targets, errors=errors or [],
        remove_form=VersionForm(formdata=None, version=questionnaire.version), conflict=conflict,
        conflict_heading=CONFLICT_HEADING, conflict_text=CONFLICT_TEXT), status


@bp.route("/matningar/enkater/<int:questionnaire_id>/fragor/<int:question_id>", methods=["GET", "POST"])
@staff_required
def question(questionnaire_id: int, question_id: int):
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    question = _question_or_404(questionnaire, question_id)
    if request.method == "GET":
        return _question_page(questionnaire, question)
    form = QuestionForm()
    skip_rules, dropped = read_rules(request.form, form.option_list())
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _question_page(questionnaire, question, form=form, rules=skip_rules, status=400)
    try:
        changed = service.update_question(question, form.version.data, form.values(skip_rules), current_user)
        db.session.commit()
    except (service.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(questionnaire)
        return _question_page(questionnaire, question, form=form, rules=skip_rules, conflict=[], status=409)
    except service.MeasurementError as e:
        db.session.rollback()
        db.session.refresh(question)
        problems = e.problems if isinstance(e, service.RuleError) else [str(e)]
        return _question_page(questionnaire, question, form=form, rules=skip_rules, errors=problems,
                              status=409 if isinstance(e, service.LockedError) else 422)
    if dropped:
        flash(_("Hoppregeln för %(options)s togs bort eftersom alternativet inte finns längre.",
                options=", ".join(f"”{o}”" for o in dropped)), "warning")
    flash(_("Fråga %(n)d är sparad.", n=question.position) if changed else _("Inget var ändrat; ingenting sparades."),
          "success" if changed else "info")
    return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id,
                            _anchor=f"fraga-{question.id}"))


def _remove_question_confirmation(questionnaire: Questionnaire, question: Question) -> confirm.Confirmation:
    later = len(questionnaire.questions) - question.position
    happens = [_("Fråga %(n)d, ”%(text)s”, tas bort ur enkäten ”%(name)s”.", n=question.position,
                 text=question.text, name=questionnaire.name)]
    if later:
        happens.append(ngettext("Frågan efter den får ett nytt nummer.", "De %(num)d frågorna efter den får nya nummer.",
                                later))
    happens.append(_("Hoppregler som gick till den här frågan går i stället till frågan efter."))
    errors = []
    try:
        service._editable(questionnaire)
    except service.LockedError as e:
        errors.append(str(e))
    return confirm.Confirmation(
        heading=_("Ta bort fråga %(n)d i ”%(name)s”?", n=question.position, name=questionnaire.name),
        action=url_for("measurement.question_action", questionnaire_id=questionnaire.id, question_id=question.id,
                       action="ta-bort"),
        button=_("Ta bort frågan"),
        back=url_for("measurement.question", questionnaire_id=questionnaire.id, question_id=question.id),
        happens=happens, cannot_undo=_("Frågan och dess hoppregler går inte att få tillbaka."),
        hidden={"version": questionnaire.version}, errors=errors)


@bp.route("/matningar/enkater/<int:questionnaire_id>/fragor/<int:question_id>/<action>", methods=["GET", "POST"])
@staff_required
def question_action(questionnaire_id: int, question_id: int, action: str):
    """"ta-bort" removes the question (after its confirmation step, the GET), "upp"/"ned" moves it."""
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    question = _question_or_404(questionnaire, question_id)
    if action not in ("ta-bort", "upp", "ned") or (request.method == "GET" and action != "ta-bort"):
        abort(404)
    if action == "ta-bort" and not confirm.confirmed():
        page = _remove_question_confirmation(questionnaire, question)
        return confirm.page(page, 409 if page.errors else 200)
    form = VersionForm() if action == "ta-bort" else MoveForm()
    if action != "ta-bort":
        form.direction.data = action
    if not form.validate_on_submit():
        abort(400)
    position = question.position
    try:
        if action == "ta-bort":
            service.remove_question(question, form.version.data, current_user)
            message = _("Fråga %(n)d är borttagen; frågorna efter den har fått nya nummer.", n=position)
        elif service.move_question(question, action, form.version.data, current_user):
            message = _("Frågan är flyttad till plats %(n)d.", n=question.position)
        else:
            message = _("Frågan står redan först eller sist.")
        db.session.commit()
    except (service.MeasurementError, StaleDataError) as e:
        return _refused(questionnaire, e)
    flash(message, "success")
    return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id, _anchor="fragor"))


@bp.route("/matningar/enkater/<int:questionnaire_id>/<action>", methods=["POST"])
@staff_required
def questionnaire_action(questionnaire_id: int, action: str):
    """"kopiera" copies (allowed when locked), "arkivera"/"aterstall" archives or restores."""
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    if action not in ("kopiera", "arkivera", "aterstall"):
        abort(404)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    if action == "kopiera":
        copy = service.copy_questionnaire(questionnaire, current_user)
        db.session.commit()
        flash(_("En kopia är skapad. Den är inte låst: ändra frågorna här."), "success")
        return redirect(url_for("measurement.questionnaire", questionnaire_id=copy.id))
    try:
        service.set_archived(questionnaire, form.version.data, action == "arkivera", current_user)
        db.session.commit()
    except (service.MeasurementError, StaleDataError) as e:
        return _refused(questionnaire, e)
    flash(_("Enkäten är arkiverad.") if action == "arkivera" else _("Enkäten är återställd."), "success")
    return redirect(url_for("measurement.questionnaire", questionnaire_id=questionnaire.id))


@bp.route("/matningar/enkater/<int:questionnaire_id>/forhandsvisning")
@staff_required
def preview(questionnaire_id: int):
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    return render_template("measurement/kommun.html", preview=True, questionnaire=questionnaire, site=None,
                           visit=None, req=None, token=None, form=None, sheet={}, errors={}, skip=set(),
                           last=len(questionnaire.questions), submitted=False)


# --------------------------------------------------------------------------- one site's request

def _request_page(round_: int, site: Site, *, send_form: SendForm | None = None,
                  day_form: LastDayForm | None = None, errors: list[str] | None = None, status: int = 200):
    req = service.request_for(site.id, round_)
    visit = service.visit_for(site.id, round_)
    if day_form is None:
        day_form = LastDayForm(formdata=None, last_day=links.last_valid_day(req) if req else None)
    state = links.link_state(req) if req else None
    return render_template(
        "measurement/request.html", round_=round_, site=site, req=req, visit=visit, state=service.state_of(req),
        link=state, url=service.request_url(req) if req is not None and state == links.ACTIVE else None,
        answers=service.shown_answers(req) if req is not None else [],
        send_form=send_form or _send_form(round_, site_visit=visit), day_form=day_form,
        action_form=VersionForm(formdata=None), contacts=service.contacts_of(site.id),
        messages=service.messages_of(req), statuses=OUTBOX_STATUS_LABELS, errors=errors or [],
        last=len(req.questionnaire.questions) if req else 0), status


@bp.route("/matningar/begaran/<int:request_id>")
@staff_required
def request_page(request_id: int):
    """A request by its id (the outbox links here)."""
    req = db.session.get(MeasurementRequest, request_id)
    if req is None:
        abort(404)
    return redirect(url_for("measurement.site_request", round_=req.round, site_id=req.site_id))


@bp.route("/matningar/omgang/<int:round_>/plats/<int:site_id>")
@staff_required
def site_request(round_: int, site_id: int):
    return _request_page(_round_or_404(round_), _sample_site_or_404(site_id))


def _revoke_confirmation(round_: int, site: Site, req) -> confirm.Confirmation:
    happens = [_("Adressen som %(site)s har fått till enkäten slutar fungera direkt, också om den är sparad. "
                 "Den som öppnar den får veta att länken är återkallad.", site=site.label)]
    if req.last_saved_at is not None:
        happens.append(_("Det kommunen redan har sparat finns kvar, men kan inte ändras eller skickas in."))
    happens.append(_("Ska kommunen svara ändå skapar du en ny länk här och skickar den nya adressen."))
    return confirm.Confirmation(
        heading=_("Återkalla länken till enkäten för %(site)s, omgång %(round)s?", site=site.label, round=round_),
        action=url_for("measurement.site_action", round_=round_, site_id=site.id, action="aterkalla"),
        button=_("Återkalla länken"), back=url_for("measurement.site_request", round_=round_, site_id=site.id),
        facts=[(_("Enkät"), req.questionnaire.name), (_("Sista svarsdag"), links.last_valid_day(req).isoformat())],
        happens=happens, cannot_undo=_("Den återkallade adressen kan inte öppnas igen."),
        hidden={"version": req.version})


def _renew_confirmation(round_: int, site: Site, req, last_day) -> confirm.Confirmation:
    return confirm.Confirmation(
        heading=_("Skapa en ny länk till enkäten för %(site)s, omgång %(round)s?", site=site.label, round=round_),
        action=url_for("measurement.site_action", round_=round_, site_id=site.id, action="ny-lank"),
        button=_("Skapa en ny länk"), back=url_for("measurement.site_request", round_=round_, site_id=site.id),
        facts=[(_("Enkät"), req.questionnaire.name), (_("Ny sista svarsdag"), last_day.isoformat())],
        happens=[_("Adressen som %(site)s har fått slutar fungera direkt, också om den är sparad.", site=site.label),
                 _("En ny adress skapas. Skicka den till kommunen; det som redan är sparat finns kvar.")],
        cannot_undo=_("Den gamla adressen kan inte öppnas igen."),
        hidden={"last_day": last_day.isoformat(), "version": req.version})


@bp.route("/matningar/omgang/<int:round_>/plats/<int:site_id>/<action>", methods=["GET", "POST"])
@staff_required
def site_action(round_: int, site_id: int, action: str):
    """skicka / skapa (with a SendForm); paminn / aterkalla (buttons); ny-lank / sista-dag (a LastDayForm).

    Revoking, and a new link while the old one works, go through a confirmation step first (the GET of
    "aterkalla" shows it; a POST without `confirmed` shows it too)."""
    _round_or_404(round_)
    site = _sample_site_or_404(site_id)
    req = service.request_for(site.id, round_)
    if request.method == "GET" and action != "aterkalla":
        abort(404)
    if action in ("skicka", "skapa"):
        form = _send_form(round_, request.form)
        if not form.validate_on_submit():
            abort_if_bad_csrf(form)
            return _request_page(round_, site, send_form=form, status=400)
    elif action in ("ny-lank", "sista-dag"):
        if req is None:
            abort(404)
        form = LastDayForm()
        if not form.validate_on_submit():
            abort_if_bad_csrf(form)
            return _request_page(round_, site, day_form=form, status=400)
    elif action in ("paminn", "aterkalla"):
        if req is None:
            abort(404)
        if action == "aterkalla" and req.revoked_at is not None:
            flash(_("Länken var redan återkallad."), "info")
            return redirect(url_for("measurement.site_request", round_=round_, site_id=site.id))
        if action == "aterkalla" and not confirm.confirmed():
            return confirm.page(_revoke_confirmation(round_, site, req))
        form = VersionForm()
        if not form.validate_on_submit():
            abort(400)
        if action == "aterkalla" and form.version.data != str(req.version):
            return _request_page(round_, site, errors=[_("Någon annan ändrade samtidigt. Ingenting sparades; "
                                                         "sidan visar läget nu.")], status=409)
    else:
        abort(404)
    if action == "ny-lank" and links.link_state(req) == links.ACTIVE:
        if not confirm.confirmed():
            return confirm.page(_renew_confirmation(round_, site, req, form.last_day.data))
        if request.form.get("version") != str(req.version):
            return _request_page(round_, site, errors=[_("Någon annan ändrade samtidigt. Ingenting sparades; "
                                                         "sidan visar läget nu.")], status=409)
    try:
        message = _site_action(action, round_, site, req, form)
        db.session.commit()
    except service.MeasurementError as e:
        db.session.rollback()
        return _request_page(round_, site, errors=[str(e)], status=422,
                             **({"send_form": form} if action in ("skicka", "skapa") else {}))
    except StaleDataError:
        db.session.rollback()
        return _request_page(round_, site, errors=[_("Någon annan ändrade samtidigt. Ingenting sparades; "
                                                     "sidan visar läget nu.")], status=409)
    flash(message, "success")
    return redirect(url_for("measurement.site_request", round_=round_, site_id=site.id))


def _site_action(action: str, round_: int, site: Site, req, form) -> str:
    if action in ("skicka", "skapa"):
        questionnaire = db.session.get(Questionnaire, form.questionnaire.data)
        req = service.ensure_request(site, round_, questionnaire, form.last_day.data, current_user)
        if action == "skapa":
            return _("Länken är skapad. Den följer med inbjudan till besöket, eller skicka den härifrån.")
        service.send(req, current_user)
        return _("Länken ligger i utkorgen och skickas vid nästa utskick.")
    if action == "paminn":
        if req.reminded_at is not None:
            raise service.MeasurementError(_("En påminnelse är redan skickad; fler skickas inte."))
        service.send(req, current_user, reminder=True)
        return _("Påminnelsen ligger i utkorgen.")
    if action == "aterkalla":
        service.revoke(req, current_user)
        return _("Länken är återkallad. Den som har adressen kommer inte längre åt enkäten.")
    if action == "ny-lank":
        service.renew_link(req, form.last_day.data, current_user)
        return _("En ny länk är skapad; den gamla adressen fungerar inte längre. Skicka den nya till kommunen.")
    service.set_last_day(req, form.last_day.data, current_user)
    return _("Sista svarsdagen är ändrad till %(day)s. Adressen är densamma.", day=form.last_day.data.isoformat())


# --------------------------------------------------------------------------- the kommun's link (no login)

def _link_refused(reason: str):
    """Unknown or tampered: 404; revoked: 403; expired: 410 (it existed, and is gone)."""
    status = {"invalid": 404, "revoked": 403, "expired": 410}.get(reason, 404)
    return render_template("link_refused.html", kind="measurement", reason=reason), status


def _kommun_page(req, token: str, *, sheet=None, errors=None, notice: str | None = None, conflict: bool = False,
                 status: int = 200):
    questions = list(req.questionnaire.questions)
    sheet = service.sheet_of(req) if sheet is None else sheet
    skip = service.rules.skipped(questions, {qid: e.value for qid, e in sheet.items()})
    visit = service.visit_for(req.site_id, req.round)
    form = AnswerForm(formdata=None, version=req.version)
    return render_template(
        "measurement/kommun.html", preview=False, req=req, questionnaire=req.questionnaire, site=req.site,
        visit=visit, token=token, form=form, sheet=sheet, errors=errors or {}, skip=skip, notice=notice,
        conflict=conflict, submitted=req.submitted_at is not None, answers=service.shown_answers(req),
        last=len(questions), last_day=links.last_valid_day(req)), status


# The form checks its own CSRF token (AnswerForm) instead of the app-wide check, so that a refused
# token shows the kommun its answers back instead of a bare error page. Nothing is saved without it.
@csrf.exempt
@bp.route("/matning/<token>", methods=["GET", "POST"])
def kommun_form(token: str):
    try:
        req = service.resolve_token(token)
    except links.LinkRefused as e:
        return _link_refused(e.reason)
    if request.method == "GET":
        return _kommun_page(req, token)
    form = AnswerForm()
    sheet = service.read_sheet(req.questionnaire.questions, request.form)
    if not form.validate_on_submit():
        # Typically a session cookie lost while the page stood open: show the answers back with a
        # fresh token rather than lose them; nothing is saved.
        return _kommun_page(req, token, sheet=sheet, status=400, notice=_(
            "Det ni skickade kunde inte tas emot, troligen för att sidan har stått öppen länge. Ingenting har "
            "sparats, men det ni skrev står kvar nedan. Välj Spara eller Skicka in igen."))
    submit = request.form.get("action") == "skicka"
    try:
        kept = service.save_answers(req, form.version.data, sheet, submit)
        db.session.commit()
    except service.AnswerErrors as e:
        db.session.rollback()
        return _kommun_page(req, token, sheet=sheet, errors=e.errors, status=400)
    except (service.SubmittedError, service.StaleError, StaleDataError, IntegrityError):
        db.session.rollback()
        db.session.refresh(req)
        if req.submitted_at is not None:  # a second submit, or an edit after it: nothing changes
            return _kommun_page(req, token, status=409, notice=_(
                "Svaren är redan inskickade och kan inte ändras. Det som visas nedan är det som skickades in."))
        return _kommun_page(req, token, sheet=sheet, conflict=True, status=409)
    if submit:
        flash(_("Tack! Svaren är inskickade."), "success")
    else:
        flash(ngettext("Sparat: %(num)d svar. Ni kan stänga sidan och fortsätta senare med samma länk.",
                       "Sparat: %(num)d svar. Ni kan stänga sidan och fortsätta senare med samma länk.", kept),
              "success")
    return redirect(url_for("measurement.kommun_form", token=token))
