"""A sample's declines: registering one (with the reserve it brings in and the visits it cancels) and undoing it.

The pages sit on the sample's blueprint (their addresses and names are the sample's), but the work is the visits'
(scheduling.declines), so they live here: scheduling builds on sampling, never the other way round.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import confirm
from ..auth import staff_required
from ..extensions import db
from ..forms import FlaskForm, abort_if_bad_csrf
from ..sampling import bp
from ..sampling import service as sampling
from ..sampling.forms import DeclineForm
from ..sampling.models import Decline, Sample
from ..sampling.views import _decline_form, _detail_page, _get, detail_extras
from . import declines


@detail_extras.connect
def _undo_blockers(sample: Sample, **_kwargs) -> dict:
    """What keeps each of the adopted sample's declines from being undone, for its page."""
    return {"undo": declines.undo_blockers(sampling.declines(sample, include_undone=False))}


def _decline_preview_page(sample: Sample, form: DeclineForm, site, errors: list[str] | None = None,
                          status: int = 200):
    try:
        preview = declines.preview(sample, site)
    except declines.DeclineError as e:
        flash(str(e), "error")
        return redirect(url_for("sampling.detail", sample_id=sample.id))
    return render_template("sampling/decline_confirm.html", sample=sample, form=form, site=site, preview=preview,
                           happens=_decline_happens(sample, site, preview), errors=errors or []), status


def _decline_happens(sample: Sample, site, p) -> list[str]:
    """What registering the decline will do, sentence by sentence, from the dry run."""
    out = [_("%(site)s tas ur urvalet och står som avböjd i urvalsprotokollet.", site=site.label)]
    if p.replacement is not None:
        sk = next(sk for sk in sample.kommuner if sk.kommunkod == p.replacement[0])
        out.append(_("Reserven %(new)s (%(lan)s, ÖJ-grupp %(group)s) ersätter %(site)s och får %(n)d besök, som "
                     "förslag utan datum.", new=p.replacement_label, lan=sk.kommun.lan.namn, group=sk.grupp,
                     site=site.label, n=p.replacement_visits))
    else:
        out.append(_("Ingen reserv uppfyller alla regler för urvalet. %(site)s står utan ersättare.", site=site.label))
    for v in p.cancelled:
        if p.mailed_to(v):
            out.append(ngettext("Besöket i omgång %(round)s den %(day)s ställs in. Ett återkallande av inbjudan "
                                "skickas till %(num)d person.", "Besöket i omgång %(round)s den %(day)s ställs in. "
                                "Ett återkallande av inbjudan skickas till %(num)d personer.", p.mailed_to(v),
                                round=v.round, day=v.date.isoformat()))
        elif v.date is not None:
            out.append(_("Besöket i omgång %(round)s den %(day)s ställs in. Ingen inbjudan har skickats, så inget "
                         "meddelande går ut.", round=v.round, day=v.date.isoformat()))
        else:
            out.append(_("Besöket i omgång %(round)s (utan datum) ställs in. Ingen inbjudan har skickats, så inget "
                         "meddelande går ut.", round=v.round))
    if len(p.mailed) > 1:
        out.append(ngettext("Sammanlagt får %(num)d person ett återkallande.",
                            "Sammanlagt får %(num)d personer ett återkallande.", p.recipients))
    return out


@bp.route("/<int:sample_id>/avboj", methods=["POST"])
@staff_required
def decline(sample_id: int):
    """The form's first POST shows what will happen (nothing saved); the confirmation's POST does it."""
    sample = _get(sample_id)
    form = _decline_form(sample)
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        return _detail_page(sample, form), 400
    site = next((s for s in sample.active_sites if s.id == form.site_id.data), None)
    if site is None:
        form.site_id.errors.append(_("Välj vilken besöksplats som avböjer."))
        return _detail_page(sample, form), 400
    if not confirm.confirmed():
        return _decline_preview_page(sample, form, site)
    try:
        # Same transaction: the declined site's visits are cancelled (CANCEL mails queued) and
        # the replacement gets its two visits.
        d = declines.register(sample, site, form.declined_on.data, form.reason.data, current_user,
                              expected_replacement=request.form.get("replacement", ""))
        db.session.commit()
    except declines.DeclineError as e:
        db.session.rollback()
        sample = _get(sample_id)
        site = next((s for s in sample.active_sites if s.id == form.site_id.data), None)
        if site is None:
            flash(str(e), "error")
            return redirect(url_for("sampling.detail", sample_id=sample_id))
        return _decline_preview_page(sample, form, site, errors=[str(e)], status=409)
    if d.replacement is not None:
        flash(_("%(old)s avböjer. Ersättare: %(new)s.", old=site.label, new=d.replacement.label), "success")
    else:
        flash(_("%(old)s avböjer. Ingen reserv uppfyller alla regler; platsen står utan ersättare.",
                old=site.label), "warning")
    return redirect(url_for("sampling.detail", sample_id=sample_id))


def _decline_or_404(sample: Sample, decline_id: int) -> Decline:
    d = db.session.get(Decline, decline_id)
    if d is None or d.sample_id != sample.id:
        abort(404)
    return d


def _undo_happens(plan) -> list[str]:
    d = plan.decline
    site, replacement = d.site, d.replacement
    out = [_("%(site)s kommer tillbaka i urvalet som besöksplats.", site=site.label)]
    if replacement is not None:
        out.append(_("%(new)s tas ur urvalet igen. I urvalsprotokollet står den kvar som ersättare vars avböjande "
                     "ångrades.", new=replacement.label))
    for visit, day in plan.restored:
        if day is not None:
            out.append(_("Besöket i %(site)s, omgång %(round)s, blir ett förslag igen den %(day)s.",
                         site=site.label, round=visit.round, day=day.isoformat()))
        elif visit.date is not None:
            out.append(_("Besöket i %(site)s, omgång %(round)s, blir ett förslag igen utan datum: %(day)s har "
                         "redan passerat.", site=site.label, round=visit.round, day=visit.date.isoformat()))
        else:
            out.append(_("Besöket i %(site)s, omgång %(round)s, blir ett förslag igen utan datum.",
                         site=site.label, round=visit.round))
    if plan.removed:
        out.append(ngettext("%(new)s:s %(num)d föreslagna besök tas bort. Inget meddelande skickas: ingen inbjudan "
                            "har gått ut.", "%(new)s:s %(num)d föreslagna besök tas bort. Inget meddelande skickas: "
                            "ingen inbjudan har gått ut.", len(plan.removed), new=replacement.label))
    if plan.withdrawn:
        out.append(ngettext("%(num)d återkallande till %(site)s som väntar i utkorgen stoppas och skickas inte.",
                            "%(num)d återkallanden till %(site)s som väntar i utkorgen stoppas och skickas inte.",
                            len(plan.withdrawn), site=site.label))
    for visit in plan.already_told:
        out.append(_("%(site)s har redan fått återkallandet av besöket i omgång %(round)s. Bjud in på nytt när "
                     "datumet är klart.", site=site.label, round=visit.round))
    if plan.contacts:
        out.append(ngettext("%(new)s:s %(num)d kontakt sparas men används inte.",
                            "%(new)s:s %(num)d kontakter sparas men används inte.", plan.contacts,
                            new=replacement.label))
    out.append(_("Avböjandet står kvar i urvalsprotokollet, markerat som ångrat."))
    return out


@bp.route("/<int:sample_id>/avboj/<int:decline_id>/angra", methods=["GET", "POST"])
@staff_required
def undo_decline(sample_id: int, decline_id: int):
    """Undo a decline registered by mistake, while its replacement has not been invited."""
    sample = _get(sample_id)
    d = _decline_or_404(sample, decline_id)
    back = url_for("sampling.detail", sample_id=sample.id, _anchor=f"avbojande-{d.id}")
    if d.undone_at is not None:
        flash(_("Avböjandet är redan ångrat."), "info")
        return redirect(back)
    plan = declines.undo_plan(d)
    if not confirm.confirmed() or not plan.possible:
        page = confirm.Confirmation(
            heading=_("Ångra att %(site)s avböjer?", site=d.site.label),
            action=url_for("sampling.undo_decline", sample_id=sample.id, decline_id=d.id),
            button=_("Ångra avböjandet"), back=back, danger=False,
            facts=[(_("Avböjde"), d.site.label), (_("Datum"), d.declined_on.isoformat()),
                   (_("Ersattes av"), d.replacement.label if d.replacement else _("ingen reserv uppfyller reglerna"))],
            happens=_undo_happens(plan),
            cannot_undo=_("Ersättarens föreslagna besök kommer inte tillbaka. Avböjer %(site)s ändå, registrera "
                          "ett nytt avböjande.", site=d.site.label),
            errors=[*plan.problems, _(declines.UNDO_RULE)] if plan.problems else [])
        return confirm.page(page, 409 if request.method == "POST" and not plan.possible else 200)
    if not FlaskForm().validate_on_submit():  # the CSRF token
        abort(400)
    try:
        declines.undo(d, current_user)
        db.session.commit()
    except declines.DeclineError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(back)
    flash(_("Avböjandet är ångrat: %(site)s är med i urvalet igen.", site=d.site.label), "success")
    return redirect(back)
