import secrets

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from ..forms import FlaskForm

from .. import confirm
from ..auth import roles_required, staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf
from ..registry import service as registry
from . import bp, design, service
from .forms import AdoptForm, DeclineForm, DrawForm, ManualForm
from .models import Decline, Sample


def _get(sample_id: int) -> Sample:
    sample = db.session.get(Sample, sample_id)
    if sample is None:
        abort(404)
    return sample


def _site_choices(sample: Sample) -> list[tuple[int, str]]:
    # No preselected site: registering the wrong kommun's refusal is easy to do and costly to undo.
    service.load_kommuner(sample)
    return [(0, _("Välj besöksplats"))] + [(s.id, s.label) for s in sample.active_sites]


def _decline_form(sample: Sample) -> DeclineForm:
    form = DeclineForm()
    form.site_id.choices = _site_choices(sample)
    return form


def _detail_page(sample: Sample, decline_form: DeclineForm) -> str:
    extra = {}
    if sample.adopted:
        # Local import: scheduling builds on sampling, not the other way round.
        from ..scheduling import declines
        extra["undo"] = declines.undo_blockers(service.declines(sample, include_undone=False))
    return render_template("sampling/detail.html", **service.protocol_context(sample), decline_form=decline_form,
                           **extra)


def _year_choices(form) -> None:
    form.year.choices = [(y, str(y)) for y in reversed(registry.available_years())]
    if form.year.data is None:
        form.year.data = registry.defaults().reference_year


@bp.route("/")
@staff_required
def index():
    form = DrawForm()
    _year_choices(form)
    form.balance_skr.data = registry.defaults().balance_skr
    return render_template("sampling/index.html", form=form, samples=service.samples(),
                           districts=registry.districts(), adopted=service.adopted_sample())


@bp.route("/dra", methods=["POST"])
@staff_required
def draw():
    form = DrawForm()
    _year_choices(form)
    districts = registry.districts()
    district_choice, errors = {}, []
    for kod, names in districts.items():
        chosen = [n for n in request.form.getlist(f"stadsdel-{kod}") if n in names]
        if chosen:
            district_choice[kod] = chosen
    if form.validate_on_submit():
        seed = form.seed.data if form.seed.data is not None else secrets.randbelow(1_000_000)
        try:
            frame, result = service.draw(form.year.data, seed, form.balance_skr.data, district_choice or None)
            sample = service.save_draw(frame, result, current_user, form.name.data or "")
            db.session.commit()
        except service.SampleError as e:
            db.session.rollback()
            errors.append(str(e))
        else:
            flash(_("Urvalet är draget och sparat som utkast. Granska det och anta det när det är klart."), "success")
            return redirect(url_for("sampling.detail", sample_id=sample.id))
    return render_template("sampling/index.html", form=form, samples=service.samples(), districts=districts,
                           adopted=service.adopted_sample(), draw_errors=errors,
                           district_choice=district_choice), 400 if errors or form.errors else 200


@bp.route("/<int:sample_id>")
@staff_required
def detail(sample_id: int):
    sample = _get(sample_id)
    return _detail_page(sample, _decline_form(sample))


def _adopt_confirmation(sample: Sample) -> confirm.Confirmation:
    n = len(sample.active_sites)
    errors = []
    current = service.adopted_sample()
    if current is not None and current.id != sample.id:
        errors.append(_("Ett annat urval (%(name)s) är redan antaget. Ett antaget urval är fryst; ändringar görs "
                        "genom avböjanden och ersättare.", name=current.name))
    problems = service.protocol_context(sample)["problems"]
    errors += [design.describe(p, _) for p in problems]
    return confirm.Confirmation(
        heading=_("Anta urvalet ”%(name)s”?", name=sample.name),
        action=url_for("sampling.adopt", sample_id=sample.id), button=_("Anta urvalet"),
        back=url_for("sampling.detail", sample_id=sample.id), danger=False,
        facts=[(_("Besöksplatser"), str(n)), (_("Referensår"), str(sample.reference_year))],
        happens=[ngettext("Urvalet med %(num)d besöksplats blir det antagna: det är den som planeras och besöks.",
                          "Urvalet med %(num)d besöksplatser blir det antagna: det är de som planeras och besöks.", n),
                 _("Urvalsprotokollet blir läsbart för departementet.")],
        cannot_undo=_("Det antagna urvalet kan inte ändras, tas bort eller bytas mot ett annat efteråt. Avböjanden "
                      "registreras på det antagna urvalet, och en reserv ersätter den som avböjer."),
        hidden={"version": sample.version}, errors=errors)


@bp.route("/<int:sample_id>/anta", methods=["GET", "POST"])
@staff_required
def adopt(sample_id: int):
    sample = _get(sample_id)
    if sample.adopted:
        flash(_("Urvalet är redan antaget."), "info")
        return redirect(url_for("sampling.detail", sample_id=sample_id))
    page = _adopt_confirmation(sample)
    if not confirm.confirmed() or page.errors:
        return confirm.page(page, 409 if confirm.confirmed() else 200)
    form = AdoptForm()
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    try:
        service.adopt(sample, current_user, expected_version=int(form.version.data)
                      if form.version.data.isdigit() else -1)
        db.session.commit()
    except service.SampleError as e:
        db.session.rollback()
        flash(str(e), "error")
    else:
        flash(_("Urvalet är antaget. Dess besöksplatser är nu de som planeras och besöks."), "success")
    return redirect(url_for("sampling.detail", sample_id=sample_id))


@bp.route("/<int:sample_id>/ta-bort", methods=["GET", "POST"])
@staff_required
def delete(sample_id: int):
    sample = _get(sample_id)
    if sample.adopted:
        flash(_("Ett antaget urval kan inte tas bort."), "error")
        return redirect(url_for("sampling.detail", sample_id=sample_id))
    if not confirm.confirmed():
        n = len(sample.active_sites)
        happens = [ngettext("Utkastet ”%(name)s” med %(num)d besöksplats och dess protokoll tas bort.",
                            "Utkastet ”%(name)s” med %(num)d besöksplatser och dess protokoll tas bort.", n,
                            name=sample.name)]
        if sample.method == service.DRAWN:
            happens.append(_("Samma urval kan dras igen med referensår %(year)s och slumpfrö %(seed)s, så länge "
                             "befolkningssiffrorna och inställningarna är desamma.", year=sample.reference_year,
                             seed=sample.seed))
        return confirm.page(confirm.Confirmation(
            heading=_("Ta bort utkastet ”%(name)s”?", name=sample.name),
            action=url_for("sampling.delete", sample_id=sample.id), button=_("Ta bort utkastet"),
            back=url_for("sampling.detail", sample_id=sample.id), happens=happens,
            cannot_undo=_("Utkastet och dess protokoll går inte att få tillbaka."),
            hidden={"version": sample.version}))
    form = AdoptForm()  # the CSRF token and the version
    if not form.validate_on_submit():
        abort_if_bad_csrf(form)
        abort(400)
    if form.version.data != str(sample.version):
        flash(_("Urvalet har ändrats av någon annan sedan du öppnade sidan. Ingenting togs bort."), "error")
        return redirect(url_for("sampling.detail", sample_id=sample_id))
    try:
        service.delete_draft(sample)
        db.session.commit()
    except service.SampleError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("sampling.detail", sample_id=sample_id))
    flash(_("Utkastet är borttaget."), "success")
    return redirect(url_for("sampling.index"))


def _decline_preview_page(sample: Sample, form: DeclineForm, site, errors: list[str] | None = None,
                          status: int = 200):
    from ..scheduling import declines
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
    from ..scheduling import declines

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
    from ..scheduling import declines

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


@bp.route("/handplockat", methods=["GET", "POST"])
@staff_required
def manual():
    form = ManualForm()
    _year_choices(form)
    problems, selection = [], []
    if form.validate_on_submit():
        text = form.text.data or ""
        upload = form.file.data
        if upload and upload.filename:
            raw = upload.read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")
            form.text.data = text  # show what was read, so the user can correct it in place
        selection, problems = service.parse_selection(text)
        if not problems:
            try:
                problems = [design.describe(p, _) for p in service.validate_selection(form.year.data, selection)]
            except service.SampleError as e:
                problems = [str(e)]
        if not problems and request.form.get("action") == "save":
            sample = service.save_manual(form.year.data, selection, current_user, form.name.data or "")
            db.session.commit()
            flash(_("Det handplockade urvalet följer reglerna och är sparat som utkast."), "success")
            return redirect(url_for("sampling.detail", sample_id=sample.id))
    checked = request.method == "POST" and not form.errors
    return render_template("sampling/manual.html", form=form, problems=problems, checked=checked,
                           selection=selection), 400 if problems else 200


@bp.route("/protokoll")
@roles_required("admin", "staff", "reader")
def protocol_current():
    sample = service.adopted_sample()
    if sample is None:
        return render_template("sampling/no_sample.html")
    return render_template("sampling/protocol.html", **service.protocol_context(sample))


def _readable(sample: Sample) -> None:
    # The ministry reads the adopted sample's protocol, not the office's drafts.
    if current_user.role == "reader" and not sample.adopted:
        abort(403)


@bp.route("/<int:sample_id>/protokoll")
@roles_required("admin", "staff", "reader")
def protocol(sample_id: int):
    sample = _get(sample_id)
    _readable(sample)
    return render_template("sampling/protocol.html", **service.protocol_context(sample))


@bp.route("/<int:sample_id>/protokoll.pdf")
@roles_required("admin", "staff", "reader")
def protocol_pdf(sample_id: int):
    from .protocol import render_pdf

    sample = _get(sample_id)
    _readable(sample)
    response = make_response(render_pdf(service.protocol_context(sample)))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="urvalsprotokoll-{sample.id}.pdf"'
    return response
