"""Registry pages: kommun list and page, groups per län, map, population import, settings."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import confirm
from ..database import write_private
from ..auth import admin_required, staff_required
from . import bp, service
from .forms import LABELS, ConfirmImportForm, ImportForm, ResetForm, SettingsForm
from .mapsvg import load_boundaries, render_svg
from .reference import DATA_DIR
from .scb import PopulationImportError, describe
from .service import stash_dir

BOUNDARIES = DATA_DIR / "kommuner.geojson"


@bp.context_processor
def registry_helpers():
    def num(value, signed: bool = False):
        if value is None:
            return "–"
        text = format_decimal(value)
        return ("+" + text) if signed and value > 0 else text.replace("-", "−")
    return {"num": num, "group_colours": service.GROUP_COLOURS}


def _year_arg() -> tuple[int | None, list[int]]:
    """The year of a page from ?ar=, falling back to the reference year with a notice."""
    requested = request.args.get("ar", type=int)
    year, refused = service.choose_year(requested)
    if refused:
        flash(_("Det finns inga befolkningssiffror för alla kommuner år %(year)s. Visar %(shown)s.",
                year=request.args.get("ar"), shown=year), "warning")
    return year, service.available_years()


# --------------------------------------------------------------------------- list, page, groups, map

@bp.route("/")
@staff_required
def kommuner():
    year, years = _year_arg()
    lanskod = request.args.get("lan") or None
    lans = service.lan_list()
    if lanskod not in {lan.lanskod for lan in lans}:
        lanskod = None
    rules = service.group_rules()
    grupp = request.args.get("grupp", type=int)
    if grupp not in {r.number for r in rules}:
        grupp = None
    sort = request.args.get("sort", "namn")
    if sort not in service.SORTS:
        sort = "namn"
    q = (request.args.get("q") or "").strip()[:60]
    rows = service.kommun_rows(year, lanskod, grupp, q, sort)
    return render_template("registry/kommuner.html", rows=rows, year=year, years=years, lans=lans, lanskod=lanskod,
                           rules=rules, grupp=grupp, sort=sort, q=q, total=service.kommun_count())


@bp.route("/kommun/<kommunkod>")
@staff_required
def kommun(kommunkod: str):
    if not re.fullmatch(r"\d{4}", kommunkod):
        abort(404)
    detail = service.kommun_detail(kommunkod)
    if detail is None:
        abort(404)
    reference_year = service.defaults().reference_year
    codes = [k.kommunkod for k in detail.neighbours]
    fills = {c: service.NO_GROUP_COLOUR for c in codes}
    fills[kommunkod] = service.HIGHLIGHT_COLOUR
    labels = {k.kommunkod: k.namn for k in detail.neighbours}
    links = {k.kommunkod: url_for("registry.kommun", kommunkod=k.kommunkod)
             for k in detail.neighbours if k.kommunkod != kommunkod}
    svg = render_svg(
        load_boundaries(BOUNDARIES), fills, labels, links=links, width=320, codes=codes, id_prefix="lanskarta",
        title=_("Karta över %(lan)s", lan=detail.lan.namn),
        desc=_("%(kommun)s är markerad i rött. Övriga kommuner i länet är grå och länkar till sina sidor.",
               kommun=detail.kommun.namn),
        css_class="karta karta-liten")
    return render_template("registry/kommun.html", d=detail, svg=svg, reference_year=reference_year,
                           sites=_sites_of(kommunkod))


def _sites_of(kommunkod: str) -> list:
    """The kommun's visit sites in the adopted sample (a city may have its administration and districts)."""
    return [site for _receiver, sites in service.kommun_sites.send(kommunkod) for site in sites]


@bp.route("/grupper")
@staff_required
def grupper():
    year, years = _year_arg()
    table = service.group_lan_table(year) if year is not None else None
    return render_template("registry/grupper.html", table=table, year=year, years=years,
                           rules=service.group_rules())


@bp.route("/karta")
@staff_required
def karta():
    year, years = _year_arg()
    rules = service.group_rules()
    rows = service.kommun_rows(year, sort="kod") if year is not None else []
    fills, labels, links = {}, {}, {}
    for r in rows:
        fills[r.kod] = service.GROUP_COLOURS.get(r.grupp, service.NO_GROUP_COLOUR)
        labels[r.kod] = _("%(kommun)s (%(lan)s): %(folkmangd)s invånare, ÖJ-grupp %(grupp)s",
                          kommun=r.namn, lan=r.lan, folkmangd=format_decimal(r.folkmangd) if r.folkmangd else "–",
                          grupp=r.grupp or "–")
        links[r.kod] = url_for("registry.kommun", kommunkod=r.kod)
    counts = {rule.number: sum(1 for r in rows if r.grupp == rule.number) for rule in rules}
    svg = render_svg(
        load_boundaries(BOUNDARIES), fills, labels, links=links, width=440, id_prefix="karta",
        title=_("Sveriges kommuner efter ÖJ-grupp %(year)s", year=year),
        desc=_("Varje kommun är färgad efter sin befolkningsgrupp i Öppna jämförelser: ju mörkare färg, "
               "desto större kommun. Teckenförklaringen och tabellen på sidan visar samma uppgifter."),
        css_class="karta")
    return render_template("registry/karta.html", svg=svg, rows=rows, rules=rules, counts=counts, year=year,
                           years=years)


# --------------------------------------------------------------------------- population import

def _stash_dir() -> Path:
    return stash_dir(Path(current_app.instance_path))


def _problems(error: PopulationImportError) -> list[str]:
    return [describe(p, _) for p in error.problems]


def _import_page(form, problems=None, status=200):
    return render_template("registry/import.html", form=form, problems=problems or [],
                           history=service.import_history()), status


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_population():
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=200 if request.method == "GET" or not form.errors else 422)
    upload = form.file.data
    data = upload.read()
    filename = service.clean_filename(upload.filename)
    try:
        plan = service.plan_import(data, form.year.data)
    except PopulationImportError as e:
        return _import_page(form, _problems(e), 422)
    # Keep the file (named by its sha256) until it is confirmed; it stays as the import's archive copy.
    service.prune_previews(_stash_dir())
    write_private(_stash_dir() / plan.sha256, data)
    confirm = ConfirmImportForm(formdata=None, token=plan.sha256, filename=filename,
                                year="" if form.year.data is None else str(form.year.data))
    return render_template("registry/import_preview.html", plan=plan, filename=filename, confirm=confirm,
                           year=form.year.data)


@bp.route("/import/bekrafta", methods=["POST"])
@staff_required
def import_confirm():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    year = form.year.data or ""
    if not re.fullmatch(r"[0-9a-f]{64}", token) or not re.fullmatch(r"(\d{4})?", year):
        abort(400)
    path = _stash_dir() / token
    if not path.is_file():
        flash(_("Filen finns inte längre kvar på servern. Ladda upp den igen."), "error")
        return redirect(url_for("registry.import_population"))
    data, year = path.read_bytes(), int(year) if year else None
    try:
        done = service.already_imported(service.plan_import(data, year))
        if done is not None:
            flash(_("Filen är redan importerad och dess siffror används; inget nytt sparades."), "info")
            return redirect(url_for("registry.import_detail", import_id=done.id))
        imp, plan = service.import_population(data, form.filename.data, year, user_id=current_user.id)
    except PopulationImportError as e:
        # The database changed between preview and confirmation so that the file no longer fits.
        return _import_page(ImportForm(formdata=None), _problems(e), 422)
    except IntegrityError:
        flash(_("Någon annan importerade befolkningssiffror samtidigt. Inget sparades; försök igen."), "error")
        return redirect(url_for("registry.import_population"))
    flash(_("Befolkningssiffrorna är importerade: %(rows)s rader för %(years)s.",
            rows=format_decimal(plan.rows), years=", ".join(str(y) for y in plan.years)), "success")
    return redirect(url_for("registry.import_detail", import_id=imp.id))


@bp.route("/import/<int:import_id>")
@staff_required
def import_detail(import_id: int):
    found = service.import_record(import_id)
    if found is None:
        abort(404)
    record, details = found
    names = service.known_kommuner()
    return render_template("registry/import_result.html", r=record, details=details or {}, names=names)


# --------------------------------------------------------------------------- settings

def _settings_form(form: SettingsForm | None = None) -> SettingsForm:
    form = form or SettingsForm(formdata=None)
    years = service.available_years()
    stored = service.defaults().reference_year
    if stored not in years:
        years = sorted(set(years) | {stored})
    form.reference_year.choices = [(y, str(y)) for y in reversed(years)]
    return form


@bp.route("/installningar", methods=["GET", "POST"])
@admin_required
def settings():
    form = _settings_form(SettingsForm())
    conflict = None
    status = 200
    if request.method == "GET":
        form.load(service.settings_values())
        form.fingerprint.data = service.fingerprint()
    elif form.validate_on_submit():
        values = form.parsed()
        if values is not None:
            try:
                changes = service.save_settings(values, form.fingerprint.data)
            except service.SettingsConflict:
                conflict = _typed(form)
            else:
                if changes:
                    flash(_("Inställningarna är sparade (%(n)s ändringar).", n=len(changes)), "success")
                else:
                    flash(_("Inga ändringar att spara."), "info")
                return redirect(url_for("registry.settings"))
    if conflict is not None:
        # Someone else saved in between: show the stored values, list what this user typed.
        form = _settings_form()
        form.load(service.settings_values())
        form.fingerprint.data = service.fingerprint()
        status = 409
    elif form.errors:
        status = 422
    reference_year = service.defaults().reference_year
    group_counts = Counter(service.groups_lenient(reference_year).values())
    return render_template("registry/settings.html", form=form, conflict=conflict, reset=ResetForm(),
                           reference_year=reference_year, group_counts=group_counts), status


def _typed(form: SettingsForm) -> list[tuple[str, str, str]]:
    """(label, typed, stored) for each field the user typed differently from the stored value."""
    stored = service.settings_values()
    out = []
    for n in (1, 2, 3, 4, 5):
        for f in service.GROUP_FIELDS:
            field = form.group_field(n, f)
            now = stored.get(f"g{n}.{f}")
            if (field.data or "").strip() != ("" if now is None else str(now)):
                out.append((str(field.label.text), field.data or "", "" if now is None else str(now)))
    for f in service.DEFAULT_FIELDS:
        field = form[f]
        now = stored.get(f)
        if field.data != now:
            yes_no = lambda v: (_("ja") if v else _("nej")) if isinstance(v, bool) else str(v)  # noqa: E731
            out.append((str(field.label.text), yes_no(field.data), yes_no(now)))
    return out


def _reset_changes() -> list[str]:
    """What resetting would change, in words: "grupp 2, antal att välja: 3 → 10"."""
    from .reference import DEFAULT_GROUPS

    stored = service.settings_values()
    out = []
    for number, *defaults in DEFAULT_GROUPS:
        for name, default in zip(service.GROUP_FIELDS, defaults):
            now = stored.get(f"g{number}.{name}")
            if now != default:
                shown = [_("inget") if v is None else format_decimal(v) for v in (now, default)]
                out.append(_("Grupp %(n)s, %(field)s: %(old)s blir %(new)s.", n=number, field=LABELS[name],
                             old=shown[0], new=shown[1]))
    return out


@bp.route("/installningar/aterstall", methods=["GET", "POST"])
@admin_required
def settings_reset():
    if not confirm.confirmed():
        changes = _reset_changes()
        return confirm.page(confirm.Confirmation(
            heading=_("Återställa ÖJ-grupperna och fördelningen till standard?"),
            action=url_for("registry.settings_reset"), button=_("Återställ standard"),
            back=url_for("registry.settings", _anchor="aterstall"),
            happens=(changes or [_("Grupperna har redan standardvärdena; ingenting ändras.")]) + [
                _("Referensår och övriga val ändras inte. Urval som redan är sparade behåller sina grupper.")],
            cannot_undo=_("De värden som gäller nu sparas bara i loggen; de måste skrivas in för hand igen om de "
                          "ska gälla.")))
    form = ResetForm()
    if not form.validate_on_submit():
        abort(400)
    changes = service.reset_group_settings()
    if changes:
        flash(_("ÖJ-grupperna och fördelningen är återställda till standard."), "success")
    else:
        flash(_("ÖJ-grupperna hade redan standardvärdena."), "info")
    return redirect(url_for("registry.settings"))
