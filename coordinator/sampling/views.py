import secrets

from blinker import Namespace
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import confirm
from ..auth import roles_required, staff_required
from ..extensions import db
from ..forms import abort_if_bad_csrf
from ..registry import service as registry
from . import bp, design, service
from .forms import AdoptForm, DeclineForm, DrawForm, ManualForm
from .models import Sample

# Receivers take an adopted sample and return more names for its page's template (see _detail_page).
detail_extras = Namespace().signal("sample-detail-extras")


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


def _protocol_page(sample: Sample) -> dict:
    """service.protocol_context() and the sites' figures as the page shows them, formatted once per kommun (and
    per kommun or district site: a district has no π of its own), not once per site: at ten times the demo a
    kommun has ten sites."""
    ctx = service.protocol_context(sample)
    num, dec = current_app.jinja_env.filters["num"], current_app.jinja_env.filters["dec"]
    figures: dict[tuple[str, bool], dict[str, str]] = {}
    for row in ctx["sites"]:
        key = (row["site"].kommunkod, not row["site"].enhet)
        if key not in figures:
            figures[key] = {"folkmangd": num(row["folkmangd"]),
                            "pi": "–" if row["pi"] is None else dec(row["pi"], 4),
                            "weight": dec(row["weight"], 2) if row["weight"] else "–"}
    ctx["figures"] = figures
    return ctx


def _detail_page(sample: Sample, decline_form: DeclineForm) -> str:
    extra = {}
    if sample.adopted:
        # What else an adopted sample's page shows from the capabilities that build on it (scheduling: what keeps
        # each decline from being undone), asked through a signal: sampling never imports them.
        for _receiver, more in detail_extras.send(sample):
            extra.update(more)
    return render_template("sampling/detail.html", **_protocol_page(sample), decline_form=decline_form, **extra)


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
    return render_template("sampling/protocol.html", **_protocol_page(sample))


def _readable(sample: Sample) -> None:
    # The ministry reads the adopted sample's protocol, not the office's drafts.
    if current_user.role == "reader" and not sample.adopted:
        abort(403)


@bp.route("/<int:sample_id>/protokoll")
@roles_required("admin", "staff", "reader")
def protocol(sample_id: int):
    sample = _get(sample_id)
    _readable(sample)
    return render_template("sampling/protocol.html", **_protocol_page(sample))


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
