"""Queries over the registry: population of a year, ÖJ groups, the sampling frame."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from blinker import Namespace
from sqlalchemy import delete, func, select

from ..database import PRIVATE_DIR, make_private
from ..extensions import db
from .groups import GroupRule
from .models import Kommun, Lan, OjGroup, Population, PopulationImport, SamplingDefaults, Stadsdel


# The visit sites of a kommun in the adopted sample, for its page: the sample, which builds on the registry,
# connects a receiver that takes the kommunkod and returns them, so the registry never imports it.
kommun_sites = Namespace().signal("kommun-sites")


class RegistryError(Exception):
    """A request the registry cannot answer (e.g. a year without figures); message is user-facing."""


# --------------------------------------------------------------------------- reference data, once per version

@dataclass
class _Reference:
    """What the registry's pages compute from tables that only imports and settings change: kept per
    process for one reference data version (dataversion.REFERENCE), filled as the pages ask."""
    years: list[int] | None = None
    rules: tuple[GroupRule, ...] | None = None
    kommuner: list[tuple] | None = None  # (kod, namn, lanskod, län, skr2017_kod, skr2017_namn), by kod
    by_year: dict[int, dict[str, tuple[int, int | None]]] = field(default_factory=dict)  # kod -> (folkmängd, grupp)


_reference_lock = threading.Lock()
_reference_cache: dict[tuple[str, int], _Reference] = {}


def _reference() -> _Reference:
    """The cache of the reference data the session sees; a fresh, unkept one while it cannot be keyed (the
    transaction has changed reference data and not committed it)."""
    from ..dataversion import REFERENCE, current

    version = current(REFERENCE)
    if version is None:
        return _Reference()
    with _reference_lock:
        ref = _reference_cache.get(version)
        if ref is None:
            if len(_reference_cache) >= 4:  # older versions are never asked for again
                _reference_cache.clear()
            ref = _reference_cache[version] = _Reference()
        return ref


def available_years() -> list[int]:
    """Years with a figure for every kommun."""
    ref = _reference()
    if ref.years is None:
        n = db.session.scalar(select(func.count()).select_from(Kommun))
        rows = db.session.execute(
            select(Population.year).group_by(Population.year).having(func.count() == n).order_by(Population.year))
        ref.years = [r[0] for r in rows]
    return list(ref.years)


def population(year: int) -> dict[str, int]:
    rows = db.session.execute(select(Population.kommunkod, Population.folkmangd).where(Population.year == year))
    return {k: v for k, v in rows}


def group_rules() -> list[OjGroup]:
    return list(db.session.scalars(select(OjGroup).order_by(OjGroup.number)))


def defaults() -> SamplingDefaults:
    return db.session.get(SamplingDefaults, 1) or SamplingDefaults(id=1, reference_year=2014)


def design_rules() -> tuple[GroupRule, ...]:
    """The admin's ÖJ groups as the sampling design's rules: the one place where the stored
    inclusive upper bound (14 999, as DOMAIN.md writes it) becomes the design's exclusive one."""
    ref = _reference()
    if ref.rules is None:
        ref.rules = tuple(GroupRule(g.number, g.lower, None if g.upper is None else g.upper + 1,
                                    g.allocation, g.districts_per_city) for g in group_rules())
    return ref.rules


def group_of(folkmangd: int, rules: Sequence[GroupRule]) -> int:
    for rule in rules:
        if rule.contains(folkmangd):
            return rule.number
    raise RegistryError(f"folkmängden {folkmangd} faller utanför alla grupper")


def groups(year: int) -> dict[str, int]:
    """ÖJ group per kommunkod for the reference year."""
    pop = population(year)
    if not pop:
        from flask_babel import gettext as _
        raise RegistryError(_("Det finns inga befolkningssiffror för år %(year)s.", year=year))
    rules = design_rules()
    return {kod: group_of(n, rules) for kod, n in pop.items()}


def summary(year: int) -> dict:
    g = groups(year)
    counts = Counter(g.values())
    return {
        "year": year,
        "kommuner": db.session.scalar(select(func.count()).select_from(Kommun)),
        "lan": db.session.scalar(select(func.count()).select_from(Lan)),
        "groups": {str(r.number): counts.get(r.number, 0) for r in group_rules()},
        "population": sum(population(year).values()),
    }


def kommuner() -> list[Kommun]:
    return list(db.session.scalars(select(Kommun).order_by(Kommun.kommunkod)))


def lan_list() -> list[Lan]:
    return list(db.session.scalars(select(Lan).order_by(Lan.lanskod)))


def districts() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in db.session.scalars(select(Stadsdel).where(Stadsdel.aktiv).order_by(Stadsdel.kommunkod, Stadsdel.namn)):
        out.setdefault(s.kommunkod, []).append(s.namn)
    return out


def population_source(year: int) -> str:
    """Plain-language provenance of a year's figures (for the sample protocol)."""
    import_ids = {r[0] for r in db.session.execute(
        select(Population.import_id).where(Population.year == year).distinct())}
    parts = []
    if None in import_ids:
        parts.append(f"SCB, Folkmängden i Sveriges kommuner 1950–2019 (be0101), 31 december {year}, "
                     "indelning 1 januari 2020 (levererad referensdata, se SOURCES.md)")
    for imp in db.session.scalars(select(PopulationImport).where(
            PopulationImport.id.in_([i for i in import_ids if i is not None]))):
        parts.append(f"importerad fil {imp.filnamn} (sha256 {imp.sha256[:12]}…, {imp.imported_at:%Y-%m-%d})")
    return "; ".join(parts)


# --------------------------------------------------------------------------- pages

# ÖJ group colours for maps and legends: a sequential blue palette (light = small kommuner,
# dark = large). Lightness alone tells the groups apart, so it holds for colour-blind users
# (neighbours differ by about 9 ΔE in OKLab also under simulated deutan/protan/tritan vision),
# and every colour has at least 3:1 contrast with the white borders (WCAG non-text contrast).
GROUP_COLOURS = {1: "#5b8fc9", 2: "#3a6fb0", 3: "#30509a", 4: "#2c307a", 5: "#1c1450"}
NO_GROUP_COLOUR = "#d9d9d9"
HIGHLIGHT_COLOUR = "#b3261e"  # the kommun on its own page (7:1 against white, darker than grey)

SORTS = ("namn", "kod", "folkmangd", "-folkmangd")

_SV_ORDER = str.maketrans({"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "é": "e", "è": "e",
                           "ü": "y", "á": "a", "à": "a"})


def sort_key(name: str) -> str:
    """Swedish alphabetical order (… x y z å ä ö) without ICU."""
    return name.casefold().translate(_SV_ORDER)


def choose_year(requested: int | None) -> tuple[int | None, bool]:
    """The year to show: the requested one if every kommun has figures for it, else the
    reference year (or the latest available). Second value: the request was refused."""
    years = available_years()
    if requested is not None and requested in years:
        return requested, False
    default = defaults().reference_year
    if default not in years:
        default = years[-1] if years else None
    return default, requested is not None


@dataclass
class KommunRow:
    kod: str
    namn: str
    lanskod: str
    lan: str
    folkmangd: int | None
    grupp: int | None
    skr2017_kod: str | None
    skr2017_namn: str | None


def _safe_group(n: int | None, rules: Sequence[GroupRule]) -> int | None:
    if n is None:
        return None
    try:
        return group_of(n, rules)
    except RegistryError:
        return None


def kommun_rows(year: int | None, lanskod: str | None = None, grupp: int | None = None,
                q: str | None = None, sort: str = "namn") -> list[KommunRow]:
    """The kommun list of a year, filtered by län, ÖJ group and part of the name, sorted."""
    figures = year_groups(year) if year is not None else {}
    rows = [KommunRow(kod, namn, lan_kod, lan, *figures.get(kod, (None, None)), skr_kod, skr_namn)
            for kod, namn, lan_kod, lan, skr_kod, skr_namn in _kommun_table() if not lanskod or lan_kod == lanskod]
    if grupp is not None:
        rows = [r for r in rows if r.grupp == grupp]
    if q:
        needle = q.casefold().strip()
        rows = [r for r in rows if needle in r.namn.casefold() or r.kod.startswith(needle)]
    if sort == "kod":
        rows.sort(key=lambda r: r.kod)
    elif sort in ("folkmangd", "-folkmangd"):
        rows.sort(key=lambda r: sort_key(r.namn))
        rows.sort(key=lambda r: (r.folkmangd is None, (r.folkmangd or 0) * (-1 if sort[0] == "-" else 1)))
    else:
        rows.sort(key=lambda r: sort_key(r.namn))
    return rows


def kommun_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Kommun))


@dataclass
class GroupLanTable:
    year: int
    groups: list[int]
    rows: list[tuple[Lan, dict[int, int], int]]  # län, count per group, total
    totals: dict[int, int]
    total: int
    outside: int  # kommuner no group covers (only if the thresholds leave a gap)


def group_lan_table(year: int) -> GroupLanTable:
    """Number of kommuner per län and ÖJ group in a year."""
    g = groups_lenient(year)
    numbers = [r.number for r in group_rules()]
    counts: dict[str, Counter] = {}
    for kod, lanskod in db.session.execute(select(Kommun.kommunkod, Kommun.lanskod)):
        counts.setdefault(lanskod, Counter())[g.get(kod)] += 1
    rows = []
    for lan in lan_list():
        c = counts.get(lan.lanskod, Counter())
        rows.append((lan, {n: c.get(n, 0) for n in numbers}, sum(c.values())))
    totals = {n: sum(r[1][n] for r in rows) for n in numbers}
    outside = sum(c.get(None, 0) for c in counts.values())
    return GroupLanTable(year, numbers, rows, totals, sum(r[2] for r in rows), outside)


def groups_lenient(year: int) -> dict[str, int | None]:
    """Like groups(), but a kommun without figures or outside every group maps to None."""
    return {kod: grupp for kod, (_n, grupp) in year_groups(year).items()}


def year_groups(year: int) -> dict[str, tuple[int, int | None]]:
    """kommunkod -> (folkmängd, ÖJ group or None) of every kommun with a figure for the year; computed once
    per reference data version (a population import or a change of the groups gives a new one)."""
    ref = _reference()
    figures = ref.by_year.get(year)
    if figures is None:
        rules = design_rules()
        figures = {kod: (n, _safe_group(n, rules)) for kod, n in population(year).items()}
        ref.by_year[year] = figures
    return figures


def _kommun_table() -> list[tuple]:
    ref = _reference()
    if ref.kommuner is None:
        ref.kommuner = [tuple(r) for r in db.session.execute(
            select(Kommun.kommunkod, Kommun.namn, Kommun.lanskod, Lan.namn, Kommun.skr2017_kod, Kommun.skr2017_namn)
            .join(Lan, Kommun.lanskod == Lan.lanskod).order_by(Kommun.kommunkod))]
    return ref.kommuner


@dataclass
class YearFigure:
    year: int
    folkmangd: int
    change: int | None  # against the year before, if that year is in the series
    import_id: int | None
    source: str  # the import file name, or "" for the shipped SCB workbook
    grupp: int | None = None  # ÖJ group by the current thresholds


@dataclass
class KommunDetail:
    kommun: Kommun
    lan: Lan
    series: list[YearFigure]  # newest first
    recent_groups: list[tuple[int, int | None]]  # (year, ÖJ group), oldest first
    districts: list[Stadsdel]
    neighbours: list[Kommun]  # the kommuner of the same län, for the map


RECENT_YEARS = 10


def kommun_detail(kommunkod: str) -> KommunDetail | None:
    kommun = db.session.get(Kommun, kommunkod)
    if kommun is None:
        return None
    rows = db.session.execute(
        select(Population.year, Population.folkmangd, Population.import_id, PopulationImport.filnamn)
        .outerjoin(PopulationImport, Population.import_id == PopulationImport.id)
        .where(Population.kommunkod == kommunkod).order_by(Population.year)).all()
    series: list[YearFigure] = []
    previous: dict[int, int] = {}
    rules = design_rules()
    for year, n, import_id, filnamn in rows:
        before = previous.get(year - 1)
        series.append(YearFigure(year, n, None if before is None else n - before, import_id, filnamn or "",
                                 _safe_group(n, rules)))
        previous[year] = n
    recent = [(f.year, f.grupp) for f in series[-RECENT_YEARS:]]
    series.reverse()
    districts = sorted(db.session.scalars(
        select(Stadsdel).where(Stadsdel.kommunkod == kommunkod, Stadsdel.aktiv)), key=lambda s: sort_key(s.namn))
    neighbours = list(db.session.scalars(
        select(Kommun).where(Kommun.lanskod == kommun.lanskod).order_by(Kommun.kommunkod)))
    return KommunDetail(kommun, kommun.lan, series, recent, districts, neighbours)


# --------------------------------------------------------------------------- population import

MAX_LISTED_CHANGES = 1000  # changed figures kept in the audit record of one import


def known_kommuner() -> dict[str, str]:
    """kommunkod -> name: what an import file must cover."""
    return dict(db.session.execute(select(Kommun.kommunkod, Kommun.namn)).all())


@dataclass
class ImportPlan:
    """What importing a parsed file would do: per year new and replaced rows, changed values."""

    parsed: object  # scb.PopulationFile
    sha256: str
    per_year: dict[int, dict[str, int]]  # year -> {"rows", "new", "replaced", "changed"}
    changes: list[dict]  # {"kod", "namn", "year", "old", "new", "old_source"} for changed values
    earlier: list[PopulationImport]  # earlier imports of the very same file

    @property
    def rows(self) -> int:
        return sum(v["rows"] for v in self.per_year.values())

    @property
    def replaced(self) -> int:
        return sum(v["replaced"] for v in self.per_year.values())

    @property
    def changed(self) -> int:
        return sum(v["changed"] for v in self.per_year.values())

    @property
    def years(self) -> list[int]:
        return list(self.per_year)


def plan_import(data: bytes, year: int | None = None) -> ImportPlan:
    """Parse an SCB file (raises scb.PopulationImportError) and compare it with the database."""
    import hashlib

    from .scb import parse_population_file

    names = known_kommuner()
    parsed = parse_population_file(data, names, year=year)
    sha = hashlib.sha256(data).hexdigest()
    per_year: dict[int, dict[str, int]] = {}
    changes: list[dict] = []
    for y, figures in parsed.rows.items():
        existing = {kod: (n, filnamn) for kod, n, filnamn in db.session.execute(
            select(Population.kommunkod, Population.folkmangd, PopulationImport.filnamn)
            .outerjoin(PopulationImport, Population.import_id == PopulationImport.id)
            .where(Population.year == y))}
        replaced = changed = 0
        for kod, n in figures.items():
            if kod in existing:
                replaced += 1
                old, filnamn = existing[kod]
                if old != n:
                    changed += 1
                    changes.append({"kod": kod, "namn": names.get(kod, ""), "year": y, "old": old, "new": n,
                                    "old_source": filnamn or ""})
        per_year[y] = {"rows": len(figures), "new": len(figures) - replaced, "replaced": replaced,
                       "changed": changed}
    earlier = list(db.session.scalars(
        select(PopulationImport).where(PopulationImport.sha256 == sha).order_by(PopulationImport.id)))
    return ImportPlan(parsed, sha, per_year, changes, earlier)


def import_population(data: bytes, filename: str, year: int | None = None, *,
                      user_id: int | None = None, actor: str | None = None) -> tuple[PopulationImport, ImportPlan]:
    """Import an SCB population file, all or nothing, in one transaction.

    Raises scb.PopulationImportError (nothing written) if the file has any problem. Figures
    for the same kommun and year, shipped or imported earlier, are replaced; the import row
    records the file (name, sha256), years, counts, encoding, delimiter and who imported it.
    """
    from ..audit import record

    plan = plan_import(data, year)
    parsed = plan.parsed
    filename = clean_filename(filename)
    try:
        imp = PopulationImport(
            filnamn=filename, sha256=plan.sha256, years=",".join(str(y) for y in plan.years),
            rows=plan.rows, replaced=plan.replaced, encoding=parsed.encoding, delimiter=parsed.delimiter,
            imported_by_id=user_id)
        db.session.add(imp)
        db.session.flush()
        for y, figures in parsed.rows.items():
            codes = list(figures)
            db.session.execute(delete(Population).where(Population.year == y, Population.kommunkod.in_(codes)))
            db.session.execute(Population.__table__.insert(), [
                {"kommunkod": kod, "year": y, "folkmangd": n, "import_id": imp.id} for kod, n in figures.items()])
        record("registry.population_imported", imp, actor=actor, filename=filename, sha256=plan.sha256,
               years=plan.years, rows=plan.rows, replaced=plan.replaced, changed=plan.changed,
               per_year={str(y): v for y, v in plan.per_year.items()},
               changes=[[c["kod"], c["year"], c["old"], c["new"]] for c in plan.changes[:MAX_LISTED_CHANGES]],
               changes_truncated=len(plan.changes) > MAX_LISTED_CHANGES)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return imp, plan


def clean_filename(filename: str | None) -> str:
    """The base name of an uploaded file (browsers may send a path), at most 255 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return (name or "okänd.csv")[:255]


@dataclass
class ImportRecord:
    imp: PopulationImport
    imported_by: str | None
    current_rows: int  # rows of this import still in use (later imports may have replaced some)


def import_history(limit: int = 50) -> list[ImportRecord]:
    from ..auth.models import User

    current = dict(db.session.execute(
        select(Population.import_id, func.count()).where(Population.import_id.isnot(None))
        .group_by(Population.import_id)).all())
    rows = db.session.execute(
        select(PopulationImport, User.email).outerjoin(User, PopulationImport.imported_by_id == User.id)
        .order_by(PopulationImport.imported_at.desc(), PopulationImport.id.desc()).limit(limit))
    return [ImportRecord(imp, email, current.get(imp.id, 0)) for imp, email in rows]


def already_imported(plan: ImportPlan) -> PopulationImport | None:
    """An earlier import of the same file and years whose rows are all still in use (a double submit)."""
    years = ",".join(str(y) for y in plan.years)
    for imp in reversed(plan.earlier):
        if imp.years == years:
            current = db.session.scalar(
                select(func.count()).select_from(Population).where(Population.import_id == imp.id))
            if current == imp.rows:
                return imp
    return None


def import_record(import_id: int) -> tuple[ImportRecord, dict | None] | None:
    """One import with the details of its audit event (per year counts, changed figures)."""
    from ..audit import AuditEvent
    from ..auth.models import User

    row = db.session.execute(
        select(PopulationImport, User.email).outerjoin(User, PopulationImport.imported_by_id == User.id)
        .where(PopulationImport.id == import_id)).first()
    if row is None:
        return None
    imp, email = row
    current = db.session.scalar(select(func.count()).select_from(Population).where(Population.import_id == imp.id))
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "registry.population_imported", AuditEvent.object_type == "population_import",
        AuditEvent.object_id == str(imp.id)))
    return ImportRecord(imp, email or (event.actor if event else None), current), (event.details if event else None)


# --------------------------------------------------------------------------- settings

GROUP_FIELDS = ("lower", "upper", "allocation", "districts_per_city")
DEFAULT_FIELDS = ("reference_year", "require_all_lan", "balance_skr")


def settings_values() -> dict[str, object]:
    """The stored ÖJ groups and sampling defaults as a flat dict ("g2.allocation": 10, ...)."""
    values: dict[str, object] = {}
    for g in group_rules():
        for f in GROUP_FIELDS:
            values[f"g{g.number}.{f}"] = getattr(g, f)
    d = defaults()
    for f in DEFAULT_FIELDS:
        values[f] = getattr(d, f)
    return values


def fingerprint(values: dict[str, object] | None = None) -> str:
    """A short hash of the stored settings, to notice that someone else changed them."""
    import hashlib
    import json

    values = settings_values() if values is None else values
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class SettingsConflict(RegistryError):
    """The stored settings changed since the form was loaded."""


def save_settings(new: dict[str, object], expected_fingerprint: str | None) -> dict[str, tuple]:
    """Store validated settings; returns the changes {key: (old, new)} (empty: nothing to do).

    Raises SettingsConflict if the stored values no longer match ``expected_fingerprint``.
    """
    from ..audit import record

    old = settings_values()
    if expected_fingerprint != fingerprint(old):
        raise SettingsConflict("changed")
    changes = {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}
    if not changes:
        return {}
    rules = {g.number: g for g in group_rules()}
    d = db.session.get(SamplingDefaults, 1)
    if d is None:
        d = SamplingDefaults(id=1, reference_year=2014, require_all_lan=True, balance_skr=False)
        db.session.add(d)
    for key, (_, value) in changes.items():
        if key.startswith("g"):
            number, attr = key[1:].split(".")
            setattr(rules[int(number)], attr, value)
        else:
            setattr(d, key, value)
    record("registry.settings_changed", object_type="oj_group", object_id="1-5",
           old={k: v[0] for k, v in changes.items()}, new={k: v[1] for k, v in changes.items()})
    db.session.commit()
    return changes


def reset_group_settings() -> dict[str, tuple]:
    """Restore the shipped ÖJ groups and allocation (reference.DEFAULT_GROUPS); audited."""
    from ..audit import record
    from .reference import reset_groups

    before = settings_values()
    reset_groups()
    db.session.flush()
    after = settings_values()
    changes = {k: (before.get(k), after.get(k)) for k in after if before.get(k) != after.get(k)}
    if changes:
        record("registry.settings_reset", object_type="oj_group", object_id="1-5",
               old={k: v[0] for k, v in changes.items()}, new={k: v[1] for k, v in changes.items()})
    db.session.commit()
    return changes


# --------------------------------------------------------------------------- files of imports

PREVIEW_MAX_AGE = timedelta(hours=24)  # an upload never confirmed is removed after a day


def stash_dir(instance_path: Path) -> Path:
    """instance/population_imports: uploaded population files, named by their sha256 (owner only)."""
    path = instance_path / "population_imports"
    path.mkdir(parents=True, exist_ok=True)
    make_private(path, PRIVATE_DIR)
    return path


def imported_file_names() -> set[str]:
    """The names (sha256) of the uploaded files that were imported: their archive copies stay."""
    return set(db.session.scalars(select(PopulationImport.sha256)))


def prune_previews(folder: Path, max_age: timedelta = PREVIEW_MAX_AGE) -> int:
    """Delete the kept uploads of previews never confirmed and older than `max_age`; the number deleted.

    A preview keeps its file (named by its sha256) until it is confirmed, and a confirmed file stays
    as the import's archive copy; the rest would pile up for ever."""
    if not folder.is_dir():
        return 0
    keep = imported_file_names()
    cutoff = time.time() - max_age.total_seconds()
    deleted = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.name not in keep and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except OSError:
            pass  # gone already (another request pruned it) or not ours: nothing to do
    return deleted
