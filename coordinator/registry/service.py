"""Queries over the registry: population of a year, ÖJ groups, the sampling frame."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from .models import Kommun, Lan, OjGroup, Population, PopulationImport, SamplingDefaults, Stadsdel


class RegistryError(Exception):
    """A request the registry cannot answer (e.g. a year without figures); message is user-facing."""


def available_years() -> list[int]:
    """Years with a figure for every kommun."""
    n = db.session.scalar(select(func.count()).select_from(Kommun))
    rows = db.session.execute(
        select(Population.year).group_by(Population.year).having(func.count() == n).order_by(Population.year))
    return [r[0] for r in rows]


def population(year: int) -> dict[str, int]:
    rows = db.session.execute(select(Population.kommunkod, Population.folkmangd).where(Population.year == year))
    return {k: v for k, v in rows}


def group_rules() -> list[OjGroup]:
    return list(db.session.scalars(select(OjGroup).order_by(OjGroup.number)))


def defaults() -> SamplingDefaults:
    return db.session.get(SamplingDefaults, 1) or SamplingDefaults(id=1, reference_year=2014)


def group_of(folkmangd: int, rules: list[OjGroup]) -> int:
    for rule in rules:
        if folkmangd >= rule.lower and (rule.upper is None or folkmangd <= rule.upper):
            return rule.number
    raise RegistryError(f"folkmängden {folkmangd} faller utanför alla grupper")


def groups(year: int) -> dict[str, int]:
    """ÖJ group per kommunkod for the reference year."""
    pop = population(year)
    if not pop:
        from flask_babel import gettext as _
        raise RegistryError(_("Det finns inga befolkningssiffror för år %(year)s.", year=year))
    rules = group_rules()
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
