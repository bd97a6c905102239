"""Does the weighted estimator hit the national truth? A simulation over the real 2014 frame.

Plain words
-----------
We take every kommun of the country in 2014 (the shipped SCB figures) and two things known for
every one of them: whether its population grew from 2004 to 2014 (a share of kommuner), and its
population in 2004 (a number, whose mean over the kommuner is the truth to hit). Then we draw the
sample of the real design many times (each draw with its own seed, exactly as the app draws it),
and for each draw compute, from the drawn kommuner only,
- the weighted national figure (Hájek, weights 1/π) and its 95 % interval (estimate.py), and
- the plain, unweighted figure of the visited kommuner.
Over all draws: the mean of the weighted figures should equal the truth (relative bias near 0),
the interval should contain the truth in about 95 of 100 draws (coverage), and the unweighted
figure shows how far off one would be without weights (the take-all cities and the small län
count too much).

The districts of the big cities are left out, as in the app: the city answers for the kommun.
Plain Python + numpy, no Flask or database.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..sampling import design
from . import estimate

DATA_DIR = Path(__file__).resolve().parents[1] / "registry" / "data"


def _rows(name: str, data_dir: Path) -> list[dict[str, str]]:
    with open(data_dir / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Population:
    frame: design.Frame
    variables: dict[str, dict[str, float]]  # name -> {kommunkod: value}
    kinds: dict[str, str]                   # name -> "share" | "mean"


def load(year: int = 2014, base_year: int = 2004, data_dir: Path = DATA_DIR) -> Population:
    """The frame of ``year`` and the variables "grew base_year–year" (0/1) and "population base_year"."""
    series = {r["kommunkod"]: r for r in _rows("population_1950_2019.csv", data_dir)}
    centroid = {r["kommunkod"]: r for r in _rows("kommun_centroids.csv", data_dir)}
    districts: dict[str, list[str]] = {}
    for r in _rows("stadsdelar_2015.csv", data_dir):
        districts.setdefault(r["kommunkod"], []).append(r["enhet"])
    kommuner = _rows("kommuner.csv", data_dir)
    units = tuple(design.Unit(kommunkod=r["kommunkod"], kommun=r["kommun"], lanskod=r["lanskod"],
                              population=int(series[r["kommunkod"]][str(year)]),
                              lat=float(centroid[r["kommunkod"]]["lat"]), lon=float(centroid[r["kommunkod"]]["lon"]))
                  for r in kommuner)
    frame = design.Frame(units=units, lan_names={r["lanskod"]: r["lan"] for r in _rows("lan.csv", data_dir)},
                         districts={k: tuple(v) for k, v in districts.items()}, reference_year=year)
    grew = {k: float(int(series[k][str(year)]) > int(series[k][str(base_year)])) for k in series
            if k in {u.kommunkod for u in units}}
    pop = {k: float(series[k][str(base_year)]) for k in grew}
    return Population(frame, {f"grew {base_year}-{year}": grew, f"population {base_year}": pop},
                      {f"grew {base_year}-{year}": "share", f"population {base_year}": "mean"})


@dataclass(frozen=True)
class Result:
    variable: str
    kind: str
    truth: float
    draws: int
    mean_weighted: float
    relative_bias: float           # (mean of weighted estimates − truth) / truth
    mc_se_relative: float          # Monte Carlo standard error of that relative bias
    coverage: float                # share of draws whose 95 % interval contains the truth
    mean_unweighted: float
    unweighted_relative_bias: float
    sd_weighted: float             # spread of the weighted estimates over the draws
    mean_se: float                 # mean estimated standard error (sqrt of the variance estimate)


def simulate(pop: Population, draws: int = 1000, first_seed: int = 1,
             settings: design.Settings = design.Settings(),
             progress: Callable[[int], None] | None = None) -> tuple[list[Result], float]:
    """Run ``draws`` draws of the design (seeds first_seed, first_seed+1, ...). Returns results and seconds."""
    t0 = time.perf_counter()
    names = list(pop.variables)
    codes = [u.kommunkod for u in pop.frame.units]
    truth = {v: float(np.mean([pop.variables[v][k] for k in codes])) for v in names}
    xy = {u.kommunkod: (u.lon * design.KM_PER_DEG_LON, u.lat * design.KM_PER_DEG_LAT) for u in pop.frame.units}
    est: dict[str, list[estimate.Estimate]] = {v: [] for v in names}
    unw: dict[str, list[float]] = {v: [] for v in names}
    for r in range(draws):
        d = design.draw(pop.frame, settings, first_seed + r)
        kommun_sites = [s for s in d.sites if s.enhet is None]
        units = [estimate.Unit(pi=s.pi, group=s.group, x=xy[s.kommunkod][0], y=xy[s.kommunkod][1])
                 for s in kommun_sites]
        for v in names:
            ys = [pop.variables[v][s.kommunkod] for s in kommun_sites]
            est[v].append(estimate.hajek(ys, units, share=pop.kinds[v] == "share", min_base=1))
            unw[v].append(float(np.mean(ys)))
        if progress:
            progress(r + 1)
    out = []
    for v in names:
        values = np.array([e.value for e in est[v]])
        covered = np.mean([e.lo <= truth[v] <= e.hi for e in est[v]])
        se = np.array([(e.hi - e.lo) / (2 * estimate.Z95) for e in est[v]])
        out.append(Result(
            variable=v, kind=pop.kinds[v], truth=truth[v], draws=draws, mean_weighted=float(values.mean()),
            relative_bias=float(values.mean() / truth[v] - 1),
            mc_se_relative=float(values.std(ddof=1) / np.sqrt(draws) / truth[v]),
            coverage=float(covered), mean_unweighted=float(np.mean(unw[v])),
            unweighted_relative_bias=float(np.mean(unw[v]) / truth[v] - 1),
            sd_weighted=float(values.std(ddof=1)), mean_se=float(se.mean())))
    return out, time.perf_counter() - t0


def report(results: Sequence[Result], seconds: float) -> str:
    lines = []
    for r in results:
        fmt = (lambda x: f"{100 * x:.2f} %") if r.kind == "share" else (lambda x: f"{x:,.0f}".replace(",", " "))
        lines += [
            f"{r.variable} ({r.kind}), {r.draws} draws",
            f"  true value                     : {fmt(r.truth)}",
            f"  mean of weighted estimates     : {fmt(r.mean_weighted)}",
            f"  relative bias, weighted        : {100 * r.relative_bias:+.2f} %  (Monte Carlo s.e. "
            f"{100 * r.mc_se_relative:.2f} %)",
            f"  95 % CI coverage               : {100 * r.coverage:.1f} %",
            f"  sd of estimates / mean est. se : {fmt(r.sd_weighted)} / {fmt(r.mean_se)}",
            f"  mean of unweighted figures     : {fmt(r.mean_unweighted)}",
            f"  relative bias, unweighted      : {100 * r.unweighted_relative_bias:+.2f} %",
        ]
    lines.append(f"time: {seconds:.1f} s ({1000 * seconds / max(1, results[0].draws):.1f} ms per draw)")
    return "\n".join(lines)
