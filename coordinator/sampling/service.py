"""Glue between the database and the pure design (design.py): frames, saving, adoption, declines."""
from __future__ import annotations

import platform
import statistics
from datetime import date
from types import SimpleNamespace
from importlib.metadata import version as pkg_version
from typing import Sequence

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..audit import record
from ..extensions import db
from ..i18n import _
from ..registry import service as registry
from ..registry.models import Kommun
from ..timeutil import utcnow
from . import design
from .models import ADOPTED, DRAFT, Decline, Sample, SampleKommun, Site

DRAWN, MANUAL = "kontrollerat", "manuellt"
SRS_COMPARISON_SEEDS = 200


class SampleError(Exception):
    """A request that breaks a rule of the sample's life cycle; the message is for the user."""


def adopted_sample() -> Sample | None:
    return db.session.scalar(select(Sample).where(Sample.status == ADOPTED))


@registry.kommun_sites.connect
def _sites_of_kommun(kommunkod: str, **_kwargs) -> list[Site]:
    """The kommun's visit sites in the adopted sample (a city may have its administration and districts)."""
    sample = adopted_sample()
    if sample is None:
        return []
    return list(db.session.scalars(select(Site).where(Site.sample_id == sample.id, Site.kommunkod == kommunkod)
                                   .order_by(Site.active.desc(), Site.enhet)))


def samples() -> list[Sample]:
    return list(db.session.scalars(select(Sample).order_by(Sample.created_at.desc(), Sample.id.desc())))


# --- frame and settings ----------------------------------------------------------------------

def current_settings(balance_skr: bool | None = None) -> design.Settings:
    """The admin's ÖJ groups and options as a design.Settings."""
    defaults = registry.defaults()
    rules = registry.design_rules()
    return design.Settings(groups=rules, require_all_lan=defaults.require_all_lan,
                           balance_skr=defaults.balance_skr if balance_skr is None else balance_skr)


def build_frame(year: int) -> design.Frame:
    pop = registry.population(year)
    if len(pop) == 0:
        raise SampleError(_("Det finns inga befolkningssiffror för år %(year)s.", year=year))
    kommuner = registry.kommuner()
    missing = [k.namn for k in kommuner if k.kommunkod not in pop]
    if missing:
        raise SampleError(_("Befolkningssiffror för år %(year)s saknas för %(n)d kommuner.", year=year, n=len(missing)))
    units = tuple(design.Unit(k.kommunkod, k.namn, k.lanskod, pop[k.kommunkod], k.lat, k.lon, k.skr2017_kod)
                  for k in kommuner)
    return design.Frame(units=units, lan_names={lan.lanskod: lan.namn for lan in registry.lan_list()},
                        districts={k: tuple(v) for k, v in registry.districts().items()}, reference_year=year)


def load_kommuner(sample: Sample) -> None:
    """Read the sample's kommuner with their län and districts in a few queries, instead of one query
    per kommun when each of the 290 rows is first read."""
    # The collection holds the rows, so what is loaded below stays in the session; read once per request.
    # The kommun and its län come joined with each row (the relationships' default); the districts do not.
    state = inspect(sample)
    if "kommuner" in state.unloaded and state.persistent:  # not read yet: read it once, districts and all
        set_committed_value(sample, "kommuner", list(db.session.scalars(
            select(SampleKommun).where(SampleKommun.sample_id == sample.id)
            .options(joinedload(SampleKommun.kommun).selectinload(Kommun.stadsdelar))
            .order_by(SampleKommun.kommunkod))))
        return
    if not sample.kommuner or "stadsdelar" not in inspect(sample.kommuner[0].kommun).unloaded:
        return
    db.session.scalars(select(SampleKommun).where(SampleKommun.sample_id == sample.id).options(
        joinedload(SampleKommun.kommun).selectinload(Kommun.stadsdelar))).all()


def frame_from_sample(sample: Sample) -> design.Frame:
    """The frame exactly as it was when the sample was made (figures may have been re-imported since)."""
    load_kommuner(sample)
    units = tuple(design.Unit(sk.kommunkod, sk.kommun.namn, sk.kommun.lanskod, sk.folkmangd,
                              sk.kommun.lat, sk.kommun.lon, sk.kommun.skr2017_kod) for sk in sample.kommuner)
    districts = {k: tuple(v) for k, v in (sample.settings.get("districts") or {}).items()}
    return design.Frame(units=units, lan_names={lan.lanskod: lan.namn for lan in registry.lan_list()},
                        districts=districts, reference_year=sample.reference_year)


def sample_settings(sample: Sample) -> design.Settings:
    return design.settings_from_dict(sample.settings)


def software_versions() -> dict[str, str]:
    from .. import __version__
    return {"coordinator": __version__, "python": platform.python_version(), "numpy": pkg_version("numpy"),
            "design": f"{design.METHOD_NAME} v{design.METHOD_VERSION}"}


# --- drawing ---------------------------------------------------------------------------------

def draw(year: int, seed: int, balance_skr: bool | None = None,
         district_choice: dict[str, list[str]] | None = None) -> tuple[design.Frame, design.Draw]:
    frame = build_frame(year)
    settings = current_settings(balance_skr)
    try:
        result = design.draw(frame, settings, seed, district_choice=district_choice)
    except design.DesignError as e:
        raise SampleError(str(e)) from e
    return frame, result


def srs_comparison(frame: design.Frame, settings: design.Settings, n: int = SRS_COMPARISON_SEEDS) -> dict:
    values = design.srs_sb(frame, settings, range(n))
    return {"seeds": n, "median": statistics.median(values), "quartiles": statistics.quantiles(values, n=4)}


def draw_json(frame: design.Frame, result: design.Draw) -> dict:
    """The CLI contract: sites, reserves, diagnostics (with sb), pi."""
    d = result.diagnostics
    return {
        "year": result.reference_year,
        "seed": result.seed,
        "method": dict(result.method),
        "settings": design.settings_to_dict(result.settings),
        "sites": [{"kommunkod": s.kommunkod, "kommun": s.kommun, "enhet": s.enhet or "", "group": s.group,
                   "lanskod": s.lanskod, "pi": s.pi} for s in result.sites],
        "reserves": {str(g): list(codes) for g, codes in result.reserves.items()},
        "district_reserves": {k: list(v) for k, v in result.district_reserves.items()},
        "diagnostics": {
            "sb": d.sb,
            "sb_per_group": {str(g): v for g, v in d.sb_per_group.items()},
            "kommuner_per_group": {str(g): v for g, v in d.kommuner_per_group.items()},
            "sites_per_group": {str(g): v for g, v in d.sites_per_group.items()},
            "kommuner_per_lan": dict(d.kommuner_per_lan),
        },
    }


def save_draw(frame: design.Frame, result: design.Draw, user=None, name: str = "",
              with_srs_comparison: bool = True) -> Sample:
    data = draw_json(frame, result)
    diagnostics = data["diagnostics"]
    if with_srs_comparison:
        diagnostics["srs"] = srs_comparison(frame, result.settings)
    settings = data["settings"] | {"districts": {k: list(v) for k, v in frame.districts.items()}}
    sample = Sample(
        name=name or _("Dragning år %(year)s, frö %(seed)s", year=result.reference_year, seed=result.seed),
        method=DRAWN, reference_year=result.reference_year, seed=result.seed, settings=settings,
        frame_source=registry.population_source(result.reference_year), software=software_versions(),
        diagnostics=diagnostics, district_reserves=data["district_reserves"], status=DRAFT,
        created_by_id=getattr(user, "id", None))
    selected = set(result.kommuner)
    rank = {code: i + 1 for codes in result.reserves.values() for i, code in enumerate(codes)}
    for u in frame.units:
        sample.kommuner.append(SampleKommun(
            kommunkod=u.kommunkod, grupp=result.groups[u.kommunkod], folkmangd=u.population,
            pi=result.pi[u.kommunkod], selected=u.kommunkod in selected, reserve_rank=rank.get(u.kommunkod)))
    for i, s in enumerate(result.sites, start=1):
        sample.sites.append(Site(position=i, kommunkod=s.kommunkod, enhet=s.enhet or "", grupp=s.group))
    db.session.add(sample)
    db.session.flush()
    record("sample.drawn", sample, year=result.reference_year, seed=result.seed, sb=round(diagnostics["sb"], 4))
    return sample


def validate_selection(year: int, selection: Sequence[tuple[str, str | None]]) -> list[design.Problem]:
    frame = build_frame(year)
    return design.validate(frame, current_settings(), list(selection))


def save_manual(year: int, selection: Sequence[tuple[str, str | None]], user=None, name: str = "") -> Sample:
    frame = build_frame(year)
    settings = current_settings()
    problems = design.validate(frame, settings, list(selection))
    if problems:
        raise SampleError("; ".join(design.describe(p, _) for p in problems))
    groups = design.assign_groups(frame, settings)
    codes = {k for k, _e in selection}
    counts: dict[str, int] = {}
    for k in codes:
        counts[str(groups[k])] = counts.get(str(groups[k]), 0) + 1
    sites = [(k, e or "") for k, e in selection]
    chosen = sorted(range(len(sites)), key=lambda i: (groups[sites[i][0]], sites[i][0], sites[i][1]))
    sample = Sample(
        name=name or _("Handplockat urval år %(year)s", year=year), method=MANUAL, reference_year=year, seed=None,
        settings=design.settings_to_dict(settings) | {"districts": {k: list(v) for k, v in frame.districts.items()}},
        frame_source=registry.population_source(year), software=software_versions(),
        diagnostics={"kommuner_per_group": counts}, district_reserves={}, status=DRAFT,
        created_by_id=getattr(user, "id", None))
    for u in frame.units:
        sample.kommuner.append(SampleKommun(kommunkod=u.kommunkod, grupp=groups[u.kommunkod],
                                            folkmangd=u.population, pi=None, selected=u.kommunkod in codes))
    for pos, i in enumerate(chosen, start=1):
        k, e = sites[i]
        sample.sites.append(Site(position=pos, kommunkod=k, enhet=e, grupp=groups[k]))
    db.session.add(sample)
    db.session.flush()
    record("sample.manual_saved", sample, year=year, sites=len(sites))
    return sample


# --- life cycle ------------------------------------------------------------------------------

def adopt(sample: Sample, user=None, expected_version: int | None = None) -> Sample:
    if expected_version is not None and sample.version != expected_version:
        raise SampleError(_("Urvalet har ändrats av någon annan sedan du öppnade sidan. Läs igenom det igen."))
    if sample.status == ADOPTED:
        raise SampleError(_("Urvalet är redan antaget."))
    current = adopted_sample()
    if current is not None:
        raise SampleError(_("Ett annat urval (%(name)s) är redan antaget. Ett antaget urval är fryst; "
                            "ändringar görs genom avböjanden och ersättare.", name=current.name))
    sample.status = ADOPTED
    sample.adopted_at = utcnow()
    sample.adopted_by_id = getattr(user, "id", None)
    db.session.flush()
    record("sample.adopted", sample, sites=len(sample.active_sites))
    return sample


def delete_draft(sample: Sample) -> None:
    if sample.status != DRAFT:
        raise SampleError(_("Ett antaget urval kan inte tas bort."))
    record("sample.deleted", sample, name=sample.name)
    db.session.delete(sample)


def _reserves(sample: Sample) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[SampleKommun]] = {}
    for sk in sample.kommuner:
        if sk.reserve_rank is not None:
            out.setdefault(sk.grupp, []).append(sk)
    return {g: tuple(sk.kommunkod for sk in sorted(v, key=lambda s: s.reserve_rank)) for g, v in out.items()}


def declines(sample: Sample, include_undone: bool = True) -> list[Decline]:
    """The sample's declines in the order they were registered (undone ones too, unless asked not to)."""
    query = select(Decline).where(Decline.sample_id == sample.id).options(
        joinedload(Decline.recorded_by), joinedload(Decline.undone_by))
    if not include_undone:
        query = query.where(Decline.undone_at.is_(None))
    return list(db.session.scalars(query.order_by(Decline.recorded_at, Decline.id)))


def declined_sites(sample: Sample) -> list[Site]:
    """Sites that declined and stay declined. An undone replacement is not among them: it never refused."""
    return [d.site for d in declines(sample, include_undone=False)]


def _check_decline(sample: Sample, site: Site) -> None:
    if sample.status != ADOPTED:
        raise SampleError(_("Avböjanden registreras på det antagna urvalet."))
    if site.sample_id != sample.id or not site.active:
        raise SampleError(_("Besöksplatsen är inte aktiv i urvalet."))


def replacement_for(sample: Sample, site: Site) -> tuple[str, str | None] | None:
    """The reserve that would replace `site` if it declined now, or None if none keeps every rule.

    A dry run of what record_decline does: nothing is written. The same call, so a preview and the
    decline itself name the same reserve as long as the sample has not changed in between."""
    _check_decline(sample, site)
    frame = frame_from_sample(sample)
    current = [(s.kommunkod, s.enhet or None) for s in sample.active_sites]
    declined_before = [(s.kommunkod, s.enhet or None) for s in declined_sites(sample)]
    # What replacement() needs of the original draw, as stored with the sample.
    stored = SimpleNamespace(
        groups={sk.kommunkod: sk.grupp for sk in sample.kommuner}, reserves=_reserves(sample),
        district_reserves={k: tuple(v) for k, v in (sample.district_reserves or {}).items()},
        settings=sample_settings(sample))
    return design.replacement(frame, stored, current, (site.kommunkod, site.enhet or None), excluded=declined_before)


def site_label(sample: Sample, key: tuple[str, str | None]) -> str:
    """How a (kommunkod, enhet) of the sample's frame is named on the pages."""
    sk = next(sk for sk in sample.kommuner if sk.kommunkod == key[0])
    return f"{sk.kommun.namn}, {key[1]}" if key[1] else sk.kommun.namn


def record_decline(sample: Sample, site: Site, declined_on: date, reason: str, user=None) -> Decline:
    """A site declines: log it and bring in the next reserve that keeps every rule."""
    _check_decline(sample, site)
    if not reason.strip():
        raise SampleError(_("Ange skälet till att kommunen avböjer."))
    new = replacement_for(sample, site)
    site.active = False
    replacement_site = None
    if new is not None:
        groups = {sk.kommunkod: sk.grupp for sk in sample.kommuner}
        # A reserve brought in before by a decline that was undone keeps its row (the old decline
        # still names it); it comes back in the declining site's place.
        replacement_site = next((s for s in sample.sites if (s.kommunkod, s.enhet or None) == new), None)
        if replacement_site is None:
            replacement_site = Site(position=site.position, kommunkod=new[0], enhet=new[1] or "",
                                    grupp=groups[new[0]], replaces_id=site.id)
            sample.sites.append(replacement_site)
        else:
            replacement_site.active, replacement_site.position = True, site.position
            replacement_site.replaces_id = site.id
    decline = Decline(sample_id=sample.id, site=site, declined_on=declined_on, reason=reason.strip(),
                      replacement=replacement_site, recorded_by_id=getattr(user, "id", None))
    db.session.add(decline)
    db.session.flush()
    record("sample.site_declined", sample, site=site.label, site_id=site.id,
           replacement=replacement_site.label if replacement_site else None,
           replacement_site_id=replacement_site.id if replacement_site else None)
    return decline


def problem_keys(sample: Sample, frame: design.Frame | None = None) -> set:
    """The keys of the rules the sample's active sites break now (what undoing a decline may leave broken)."""
    frame = frame or frame_from_sample(sample)
    current = [(s.kommunkod, s.enhet or None) for s in sample.active_sites]
    return {p.key for p in design.validate(frame, sample_settings(sample), current)}


def undo_problems(decline: Decline, frame: design.Frame | None = None, allowed: set | None = None) -> list[str]:
    """Why the sample itself does not let `decline` be undone now (empty: it does).

    The visits and mail of the replacement are checked by scheduling.declines, which does the undo.
    `frame` and `allowed`: the sample's frame_from_sample() and problem_keys(), when the caller checks several
    declines (each is the same for all of them)."""
    sample = decline.site.sample
    if decline.undone_at is not None:
        return [_("Avböjandet är redan ångrat.")]
    if sample.status != ADOPTED:
        return [_("Avböjanden ångras på det antagna urvalet.")]
    replacement = decline.replacement
    if replacement is not None and not replacement.active:
        return [_("Ersättaren %(site)s har själv avböjt. Ångra det avböjandet först.", site=replacement.label)]
    if decline.site.active:
        return [_("%(site)s är redan med i urvalet.", site=decline.site.label)]
    # The declining site back and the replacement out must break no rule that the sample keeps
    # now (a later decline may have counted on the replacement, e.g. for its län).
    frame = frame or frame_from_sample(sample)
    settings = sample_settings(sample)
    current = [(s.kommunkod, s.enhet or None) for s in sample.active_sites]
    restored = [key for key in current if replacement is None or key != (replacement.kommunkod,
                                                                          replacement.enhet or None)]
    restored.append((decline.site.kommunkod, decline.site.enhet or None))
    if allowed is None:
        allowed = problem_keys(sample, frame)
    return [_("Om %(site)s kommer tillbaka bryts en regel för urvalet: %(rule)s",
              site=decline.site.label, rule=design.describe(p, _))
            for p in design.validate(frame, settings, restored) if p.key not in allowed]


def restore_declined_site(decline: Decline, user=None) -> None:
    """The sample's half of undoing a decline: the site is back, the replacement out, the row kept.

    Call it through scheduling.declines.undo, which also puts the visits right and logs the undo."""
    problems = undo_problems(decline)
    if problems:
        raise SampleError(" ".join(problems))
    decline.site.active = True
    if decline.replacement is not None:
        decline.replacement.active = False
    decline.undone_at = utcnow()
    decline.undone_by_id = getattr(user, "id", None)
    db.session.flush()


def kommun_names() -> dict[str, str]:
    return {k: n for k, n in db.session.execute(select(Kommun.kommunkod, Kommun.namn))}


def parse_selection(text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """`kommunkod,enhet` lines (header optional; `;` also accepted; a kommun name works as well as its code).

    Returns the selection and the problems with line numbers; the caller refuses to go on if any.
    """
    import csv
    import io

    names = {n.casefold(): k for k, n in kommun_names().items()}
    codes = set(names.values())
    selection: list[tuple[str, str | None]] = []
    problems: list[str] = []
    text = text.lstrip("\ufeff")
    dialect = ";" if text.count(";") > text.count(",") else ","
    for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=dialect), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        first = cells[0]
        if line_no == 1 and first.casefold() in ("kommunkod", "kommun", "kod"):
            continue
        enhet = cells[1] if len(cells) > 1 and cells[1] else None
        if first.isdigit() and len(first) <= 4:
            kod = first.zfill(4)
        else:
            kod = names.get(first.casefold(), "")
        if kod not in codes:
            problems.append(_("Rad %(line)d: %(value)s är ingen känd kommunkod eller kommun", line=line_no, value=first))
            continue
        selection.append((kod, enhet))
    if not selection and not problems:
        problems.append(_("Urvalet är tomt"))
    return selection, problems


MED, ERSATTARE, AVBOJT, TILLBAKA = "med", "ersattare", "avbojt", "tillbaka"


def site_state(site: Site, declined_ids: set[int]) -> str:
    """A site's place in the sample: in it (as drawn, or as a replacement), declined, or a replacement
    taken out again because the decline that brought it in was undone."""
    if site.active:
        return ERSATTARE if site.replaces_id else MED
    return AVBOJT if site.id in declined_ids else TILLBAKA


def protocol_context(sample: Sample) -> dict:
    """Everything the sample page, the protocol page and the PDF show, computed once."""
    load_kommuner(sample)
    settings = sample_settings(sample)
    lan = {l.lanskod: l.namn for l in registry.lan_list()}
    by_code = {sk.kommunkod: sk for sk in sample.kommuner}
    group_sizes: dict[int, int] = {}
    for sk in sample.kommuner:
        group_sizes[sk.grupp] = group_sizes.get(sk.grupp, 0) + 1
    active = sample.active_sites
    # Counted in one pass each, not per group, län or reserve: at ten times the demo a sample has 500 sites.
    group_codes: dict[int, set[str]] = {}
    group_sites: dict[int, int] = {}
    for s in active:
        group_codes.setdefault(s.grupp, set()).add(s.kommunkod)
        group_sites[s.grupp] = group_sites.get(s.grupp, 0) + 1
    groups = []
    for rule in settings.groups:
        groups.append({
            "number": rule.number, "lower": rule.lower,
            "upper": None if rule.upper is None else rule.upper - 1,
            "size": group_sizes.get(rule.number, 0),
            "allocation": rule.allocation, "take_all": rule.take_all,
            "kommuner": len(group_codes.get(rule.number, ())),
            "sites": group_sites.get(rule.number, 0),
        })
    declines_ = declines(sample)
    declined_ids = {d.site_id for d in declines_ if d.undone_at is None}
    sites = []
    for s in sample.sites:
        sk = by_code[s.kommunkod]
        pi = sk.pi if not s.enhet else None
        sites.append({"site": s, "kommun": sk.kommun, "lan": lan[sk.kommun.lanskod], "folkmangd": sk.folkmangd,
                      "pi": pi, "weight": (1 / pi) if pi else None, "state": site_state(s, declined_ids)})
    lan_kommuner: dict[str, int] = {}
    for code in {s.kommunkod for s in active}:
        lanskod = by_code[code].kommun.lanskod
        lan_kommuner[lanskod] = lan_kommuner.get(lanskod, 0) + 1
    per_lan = [{"lanskod": code, "lan": name, "kommuner": lan_kommuner.get(code, 0)}
               for code, name in sorted(lan.items())]
    used_codes = {s.kommunkod for s in sample.sites if s.active or s.id in declined_ids}
    reserves: dict[int, list] = {}
    for sk in sorted((sk for sk in sample.kommuner if sk.reserve_rank), key=lambda s: (s.grupp, s.reserve_rank)):
        used = sk.kommunkod in used_codes
        reserves.setdefault(sk.grupp, []).append({"rank": sk.reserve_rank, "sk": sk, "lan": lan[sk.kommun.lanskod],
                                                  "used": used})
    all_pi = [{"sk": sk, "lan": lan[sk.kommun.lanskod]} for sk in sample.kommuner] if sample.method == DRAWN else []
    problems = []
    if sample.status == DRAFT:
        frame = frame_from_sample(sample)
        problems = design.validate(frame, settings, [(s.kommunkod, s.enhet or None) for s in active])
    return {
        "sample": sample, "drawn": sample.method == DRAWN, "settings": settings,
        "method_text": design.method_description(settings, _) if sample.method == DRAWN else None,
        "references": design.REFERENCES,
        "groups": groups, "sites": sites, "active_count": len(active), "per_lan": per_lan,
        "reserves": reserves, "district_reserves": sample.district_reserves or {},
        "declines": declines_, "diagnostics": sample.diagnostics or {}, "all_pi": all_pi,
        "frame_size": len(sample.kommuner), "lan_count": len(lan), "problems": problems,
        "boundaries_selected": sorted({s.kommunkod for s in active}),
    }
