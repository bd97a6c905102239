"""Load the shipped reference data (registry/data, provenance in SOURCES.md) into the database."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select

from ..extensions import db
from .models import Kommun, Lan, OjGroup, Population, SamplingDefaults, Stadsdel

DATA_DIR = Path(__file__).parent / "data"

# Öppna jämförelser groups and the 2014-2017 assignment's allocation (DOMAIN.md).
DEFAULT_GROUPS = (
    (1, 1, 14_999, 10, 2),
    (2, 15_000, 29_999, 10, 2),
    (3, 30_000, 69_999, 10, 2),
    (4, 70_000, 199_999, 10, 2),
    (5, 200_000, None, None, 2),
)


def read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_reference_data() -> dict[str, int]:
    """Insert whatever shipped reference rows are missing. Idempotent; never overwrites imports."""
    counts = {}
    session = db.session
    if not session.scalar(select(func.count()).select_from(Lan)):
        session.add_all(Lan(lanskod=r["lanskod"], namn=r["lan"], kort=r["lan_kort"]) for r in read_csv("lan.csv"))
        session.flush()
    if not session.scalar(select(func.count()).select_from(Kommun)):
        centroids = {r["kommunkod"]: r for r in read_csv("kommun_centroids.csv")}
        skr17 = {r["kommunkod"]: r for r in read_csv("kommungrupp_skr2017.csv")}
        skr23 = {r["kommunkod"]: r for r in read_csv("kommungrupp_skr2023.csv")}
        for r in read_csv("kommuner.csv"):
            kod = r["kommunkod"]
            session.add(Kommun(
                kommunkod=kod, namn=r["kommun"], lanskod=r["lanskod"],
                lat=float(centroids[kod]["lat"]), lon=float(centroids[kod]["lon"]),
                skr2017_kod=skr17[kod]["grupp_kod"], skr2017_namn=skr17[kod]["kommungrupp"],
                skr2023_kod=skr23[kod]["grupp_kod"], skr2023_namn=skr23[kod]["kommungrupp_2023"],
            ))
        session.flush()
    if not session.scalar(select(func.count()).select_from(Stadsdel)):
        session.add_all(Stadsdel(kommunkod=r["kommunkod"], namn=r["enhet"], typ=r["typ"])
                        for r in read_csv("stadsdelar_2015.csv"))
    if not session.scalar(select(func.count()).select_from(OjGroup)):
        reset_groups()
    if session.get(SamplingDefaults, 1) is None:
        session.add(SamplingDefaults(id=1, reference_year=2014, require_all_lan=True, balance_skr=False))
    counts["population"] = _load_population()
    session.commit()
    counts["kommuner"] = session.scalar(select(func.count()).select_from(Kommun))
    counts["lan"] = session.scalar(select(func.count()).select_from(Lan))
    return counts


def reset_groups() -> None:
    db.session.execute(delete(OjGroup))
    db.session.add_all(OjGroup(number=n, lower=lo, upper=up, allocation=a, districts_per_city=d)
                       for n, lo, up, a, d in DEFAULT_GROUPS)


@dataclass(frozen=True)
class ShippedPopulation:
    """The shipped 1950-2019 figures as (kommunkod, year, folkmängd) rows, with their kommuner and years."""
    rows: tuple[tuple[str, int, int], ...]
    kommuner: tuple[str, ...]
    first_year: int
    last_year: int
    grid: bool  # one figure for every kommun and every year from the first to the last, and nothing else


@cache
def shipped_population() -> ShippedPopulation:
    """The shipped file, read once per process: it is part of the package and does not change under it."""
    rows = tuple((r["kommunkod"], int(key), int(value))
                 for r in read_csv("population_1950_2019.csv") for key, value in r.items() if key.isdigit())
    kommuner = tuple(sorted({kod for kod, _year, _n in rows}))
    years = {year for _kod, year, _n in rows}
    first, last = min(years), max(years)
    grid = len({(kod, year) for kod, year, _n in rows}) == len(rows) == len(kommuner) * (last - first + 1)
    return ShippedPopulation(rows, kommuner, first, last, grid)


def _load_population() -> int:
    """Shipped 1950-2019 figures; rows already present (shipped or imported) are kept."""
    shipped = shipped_population()
    if shipped.grid:
        # One count answers the common case (nothing missing) without reading 20 000 keys: the shipped keys are
        # every kommun times every year of the range, so if that many rows lie in it, none is missing.
        present = db.session.scalar(select(func.count()).select_from(Population).where(
            Population.kommunkod.in_(shipped.kommuner),
            Population.year.between(shipped.first_year, shipped.last_year)))
        if present == len(shipped.rows):
            return 0
    have = set(db.session.execute(select(Population.kommunkod, Population.year)).tuples())
    rows = [{"kommunkod": kod, "year": year, "folkmangd": n}
            for kod, year, n in shipped.rows if (kod, year) not in have]
    if rows:
        db.session.execute(Population.__table__.insert(), rows)
    return len(rows)
