import secrets

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required, staff_required
from ..extensions import db
from ..registry import service as registry
from . import bp, design, service
from .forms import AdoptForm, DeclineForm, DrawForm, ManualForm
from .models import Sample


def _get(sample_id: int) -> Sample:
    sample = db.session.get(Sample, sample_id)
    if sample is None:
        abort(404)
    return sample


def _site_choices(sample: Sample) -> list[tuple[int, str]]:
    # No preselected site: registering the wrong kommun's refusal is easy to do and costly to undo.
    return [(0, _("Välj besöksplats"))] + [(s.id, s.label) for s in sample.active_sites]


def _decline_form(sample: Sample) -> DeclineForm:
    form = DeclineForm()
    form.site_id.choices = _site_choices(sample)
    return form


def _detail_page(sample: Sample, decline_form: DeclineForm) -> str:
    return render_template("sampling/detail.html", **service.protocol_context(sample),
                           adopt_form=AdoptForm(version=sample.version), decline_form=decline_form)


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


@bp.route("/<int:sample_id>/anta", methods=["POST"])
@staff_required
def adopt(sample_id: int):
    sample = _get(sample_id)
    form = AdoptForm()
    if form.validate_on_submit():
        try:
            service.adopt(sample, current_user, expected_version=int(form.version.data))
            db.session.commit()
        except service.SampleError as e:
            db.session.rollback()
            flash(str(e), "error")
        else:
            flash(_("Urvalet är antaget. Dess besöksplatser är nu de som planeras och besöks."), "success")
    return redirect(url_for("sampling.detail", sample_id=sample_id))


@bp.route("/<int:sample_id>/ta-bort", methods=["POST"])
@staff_required
def delete(sample_id: int):
    sample = _get(sample_id)
    try:
        service.delete_draft(sample)
        db.session.commit()
    except service.SampleError as e:
        flash(str(e), "error")
        return redirect(url_for("sampling.detail", sample_id=sample_id))
    flash(_("Utkastet är borttaget."), "success")
    return redirect(url_for("sampling.index"))


@bp.route("/<int:sample_id>/avboj", methods=["POST"])
@staff_required
def decline(sample_id: int):
    sample = _get(sample_id)
    form = _decline_form(sample)
    if form.validate_on_submit():
        # Local import: scheduling builds on sampling, not the other way round.
        from ..scheduling.service import VisitError, ensure_visits

        site = next((s for s in sample.active_sites if s.id == form.site_id.data), None)
        if site is None:
            form.site_id.errors.append(_("Välj vilken besöksplats som avböjer."))
            return _detail_page(sample, form), 400
        try:
            d = service.record_decline(sample, site, form.declined_on.data, form.reason.data, current_user)
            # Same transaction: the declined site's visits are cancelled (CANCEL mails queued) and
            # the replacement gets its two visits.
            ensure_visits()
            db.session.commit()
        except (service.SampleError, VisitError) as e:
            db.session.rollback()
            flash(str(e), "error")
        else:
            if d.replacement is not None:
                flash(_("%(old)s avböjer. Ersättare: %(new)s.", old=site.label, new=d.replacement.label), "success")
            else:
                flash(_("%(old)s avböjer. Ingen reserv uppfyller alla regler; platsen står utan ersättare.",
                        old=site.label), "warning")
            return redirect(url_for("sampling.detail", sample_id=sample_id))
    return _detail_page(sample, form), 400


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
