"""Date offers' pages: the office offers dates on the visit page; the kommun answers on /besok/datum/<token>.

Thin views: the rules, the ranking, the mail and the audit are in offers.py. The office's actions are
POSTs with CSRF and a confirmation step; the kommun's page needs no login (the signed token is the only
key and opens its own offer), sends no Referer and is not cached, and refuses expired or withdrawn links
with the same friendly page as the action plans' links.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField, StringField, TextAreaField

from .. import confirm, links
from ..auth import staff_required
from ..extensions import db
from ..forms import FlaskForm, abort_if_bad_csrf
from . import bp, offers
from .models import OFFER_CHOSEN, OFFER_NONE_FITS, OFFER_OPEN, DateOffer, Visit

LINK_ENDPOINTS = ("scheduling.kommun_offer", "scheduling.kommun_none_fits")
MAIL_STATE_LABELS = {"pending": _l("väntar i utkorgen"), "sending": _l("väntar i utkorgen"),
                     "sent": _l("skickat"), "failed": _l("kunde inte skickas")}
SHOWN_EXTRA = 2  # the office sees this many ranked dates beyond those pre-checked


class OfferForm(FlaskForm):
    version = HiddenField()
    datum = HiddenField()  # the checked dates, comma-separated (from the confirmation page)


class ChooseForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Ert namn"))


class NoneFitsForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Ert namn"))
    comment = TextAreaField(_l("Kommentar"))


def long_date(d) -> str:
    """'tisdag 17 mars 2015' (in the page's language)."""
    return format_date(d, "EEEE d MMMM y") if d else ""


@bp.after_request
def offer_link_headers(response):
    return links.private_page(response) if request.endpoint in LINK_ENDPOINTS else response


@bp.app_context_processor
def offer_helpers():
    return {"offer_panel": _panel, "long_date": long_date}


def _panel(visit: Visit) -> dict:
    """What the visit page's offer section shows (templates/scheduling/_offer.html)."""
    from .defaults import assignment
    count = assignment().offer_count
    current = offers.latest_offer(visit)
    problems = offers.offer_problems(visit)
    ranked = [] if problems or (current is not None and current.status == OFFER_OPEN) else \
        offers.candidate_days(visit)[:max(count + SHOWN_EXTRA, 0)]
    best = set(offers.spread(ranked, count)) if ranked else set()
    state = offers.mail_state(current) if current is not None else None
    return {"offer": current, "problems": problems, "ranked": ranked, "best": best, "count": count,
            "contacts": len(offers.contacts_of(visit.site_id)),
            "mail_label": str(MAIL_STATE_LABELS.get(state, "")) if state else "",
            "dates": offers.offer_dates(current) if current is not None else [],
            "suggested": offers.suggested(current) if current is not None else [],
            "url": offers.offer_url(current) if current is not None and current.status == OFFER_OPEN else None}


def _back(visit: Visit) -> str:
    return url_for("scheduling.visit", visit_id=visit.id, _anchor="datumerbjudande")


# --------------------------------------------------------------------------- the office

def _checked_dates(values: list[str]) -> list:
    out = []
    for raw in values:
        for part in raw.split(","):
            if part.strip():
                d = offers.parse_day(part)
                if d is None:
                    return []
                out.append(d)
    return out


@bp.route("/<int:visit_id>/erbjud-datum", methods=["POST"])
@staff_required
def offer_dates(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    form = OfferForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    chosen = _checked_dates(request.form.getlist("datum"))
    if not confirm.confirmed():
        contacts = offers.contacts_of(visit.site_id)
        errors = list(offers.offer_problems(visit))
        if not chosen and not errors:
            errors.append(_("Kryssa för minst ett datum att erbjuda."))
        if len(chosen) > offers.MAX_DATES and not errors:
            errors.append(_("Välj mellan 1 och %(n)d datum att erbjuda.", n=offers.MAX_DATES))
        previous = offers.open_offer(visit)
        happens = [
            _("Ett e-brev med datumen och kommunens egen länk läggs i utkorgen till %(n)d aktiva kontakter för "
              "%(site)s och skickas därifrån.", n=len(contacts), site=visit.site.label),
            _("Kommunen väljer ett av datumen, eller svarar att inget passar och föreslår egna dagar. Ett valt "
              "datum blir besökets datum och behålls när besöken planeras om."),
        ]
        if previous is not None:
            happens.append(_("Det tidigare erbjudandet återkallas: dess länk slutar fungera."))
        return confirm.page(confirm.Confirmation(
            heading=_("Erbjuda %(site)s datum för besöket?", site=visit.site.label),
            action=url_for("scheduling.offer_dates", visit_id=visit.id), button=_("Skicka datumen till kommunen"),
            back=_back(visit),
            facts=[(_("Datum"), ", ".join(long_date(d) for d in chosen) or "–"),
                   (_("Till"), ", ".join(f"{c.name} <{c.email}>" for c in contacts) or _("ingen")),
                   (_("Omgång"), str(visit.round))],
            happens=happens, cannot_undo=_("Ett skickat e-brev kan inte tas tillbaka."),
            hidden={"version": form.version.data or "", "datum": ",".join(d.isoformat() for d in chosen)},
            danger=False, errors=errors))
    try:
        offers.offer(visit, dates=chosen, user=current_user, expected_version=form.version.data)
        db.session.commit()
    except (offers.StaleError, StaleDataError):
        db.session.rollback()
        flash(_("Besöket har ändrats av någon annan sedan du öppnade sidan. Inga datum skickades; välj datum igen."),
              "error")
        return redirect(_back(visit))
    except offers.OfferError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(_back(visit))
    flash(_("Datumen väntar i utkorgen och skickas till kommunen därifrån."), "success")
    return redirect(_back(visit))


@bp.route("/erbjudande/<int:offer_id>/aterkalla", methods=["GET", "POST"])
@staff_required
def withdraw_offer(offer_id: int):
    row = db.get_or_404(DateOffer, offer_id)
    visit = row.visit
    if not confirm.confirmed():
        errors = [] if row.status == OFFER_OPEN else [_("Erbjudandet är inte öppet längre.")]
        return confirm.page(confirm.Confirmation(
            heading=_("Återkalla datumen till %(site)s?", site=visit.site.label),
            action=url_for("scheduling.withdraw_offer", offer_id=row.id), button=_("Återkalla erbjudandet"),
            back=_back(visit), facts=[(_("Datum"), ", ".join(long_date(d) for d in offers.offer_dates(row)))],
            happens=[_("Kommunens länk slutar fungera, och inget av datumen kan väljas längre."),
                     _("Kommunen får inget e-brev om det.")],
            cannot_undo=_("Ett återkallat erbjudande kan inte öppnas igen; erbjud nya datum i stället."),
            hidden={"version": row.version}, errors=errors))
    form = OfferForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    try:
        done = offers.withdraw(row, current_user, expected_version=form.version.data)
        db.session.commit()
    except (offers.StaleError, StaleDataError):
        db.session.rollback()
        flash(_("Kommunen eller någon annan har svarat eller ändrat erbjudandet sedan du öppnade sidan. Ingenting "
                "återkallades."), "error")
        return redirect(_back(visit))
    flash(_("Erbjudandet är återkallat.") if done else _("Erbjudandet var inte öppet längre."),
          "success" if done else "info")
    return redirect(_back(visit))


@bp.route("/<int:visit_id>/datumval")
@staff_required
def pick_effect(visit_id: int):
    from flask import current_app
    visit = db.get_or_404(Visit, visit_id)
    if not visit.agreed:  # nothing was picked: no re-plan to compute (the solver takes seconds)
        return render_template("scheduling/offer_effect.html", visit=visit, moved=[], error=None, offer=None,
                               not_picked=True)
    try:
        moved = offers.pick_effect(visit, time_limit=current_app.config.get("PLAN_TIME_LIMIT"))
        error = None
    except Exception as e:  # a plan that cannot be made is said in words (service.VisitError)
        from .service import VisitError
        if not isinstance(e, VisitError):
            raise
        moved, error = [], str(e)
    db.session.rollback()  # planning may have flushed new visits: nothing is saved from this page
    return render_template("scheduling/offer_effect.html", visit=visit, moved=moved, error=error,
                           offer=offers.latest_offer(visit))


# --------------------------------------------------------------------------- the kommun (no login)

def _refused(reason: str, status: int):
    return render_template("link_refused.html", kind="offer", reason=reason), status


def _resolve(token: str):
    try:
        return offers.resolve_token(token), None
    except links.LinkRefused as e:
        return None, _refused(e.reason, e.status)


def _form_errors(form) -> list[str]:
    return [f"{form[name].label.text}: {e}" for name, errs in form.errors.items() if name in form
            for e in errs] or [_("Kontrollera det du fyllde i.")]


def _kommun_page(row: DateOffer, token: str, *, choose_form=None, none_form=None, errors=(), chosen=None,
                 suggested=None, status: int = 200):
    choose_form = choose_form or ChooseForm(formdata=None, version=row.version)
    none_form = none_form or NoneFitsForm(formdata=None, version=row.version)
    choose_form.version.data = none_form.version.data = str(row.version)
    visit = row.visit
    return render_template("scheduling/kommun_offer.html", offer=row, visit=visit, site=visit.site, token=token,
                           dates=offers.offer_dates(row), choose_form=choose_form, none_form=none_form,
                           errors=list(errors), chosen=chosen,
                           suggested_values=suggested or [""] * offers.MAX_SUGGESTED,
                           suggested=offers.suggested(row), last_day=links.last_valid_day(row),
                           max_suggested=offers.MAX_SUGGESTED, answered=row.status in (OFFER_CHOSEN, OFFER_NONE_FITS),
                           OFFER_CHOSEN=OFFER_CHOSEN), status


@bp.route("/datum/<token>", methods=["GET", "POST"])
def kommun_offer(token: str):
    row, refused = _resolve(token)
    if refused:
        return refused
    if request.method == "GET":
        offers.touch_link(row)
        db.session.commit()
        return _kommun_page(row, token)
    form = ChooseForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _kommun_page(row, token, choose_form=form, errors=_form_errors(form), status=400)
    chosen = request.form.get("datum", "")
    try:
        offers.choose(row, chosen, form.name.data, expected_version=form.version.data)
        db.session.commit()
    except (offers.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(row)
        return _kommun_page(row, token, choose_form=form, chosen=chosen, status=409, errors=[
            _("Någon annan har svarat på erbjudandet sedan ni öppnade sidan. Se svaret nedan.")])
    except offers.OfferError as e:
        db.session.rollback()
        db.session.refresh(row)
        return _kommun_page(row, token, choose_form=form, chosen=chosen, errors=[str(e)], status=422)
    return redirect(url_for("scheduling.kommun_offer", token=token, _anchor="svar"))


@bp.route("/datum/<token>/inget-passar", methods=["POST"])
def kommun_none_fits(token: str):
    row, refused = _resolve(token)
    if refused:
        return refused
    form = NoneFitsForm()
    days = [request.form.get(f"dag{i}", "") for i in range(1, offers.MAX_SUGGESTED + 1)]
    extra = [v for k, v in request.form.items(multi=True) if k.startswith("dag") and
             k not in {f"dag{i}" for i in range(1, offers.MAX_SUGGESTED + 1)} and v.strip()]
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _kommun_page(row, token, none_form=form, suggested=days, errors=_form_errors(form), status=400)
    try:
        offers.none_fits(row, days + extra, form.comment.data or "", form.name.data,
                         expected_version=form.version.data)
        db.session.commit()
    except (offers.StaleError, StaleDataError):
        db.session.rollback()
        db.session.refresh(row)
        return _kommun_page(row, token, none_form=form, suggested=days, status=409, errors=[
            _("Någon annan har svarat på erbjudandet sedan ni öppnade sidan. Se svaret nedan.")])
    except offers.OfferError as e:
        db.session.rollback()
        db.session.refresh(row)
        return _kommun_page(row, token, none_form=form, suggested=days, errors=[str(e)], status=422)
    return redirect(url_for("scheduling.kommun_offer", token=token, _anchor="svar"))
