"""Benchmark of the visit planner (coordinator/scheduling/planner.py).

Run from the project root:  python benchmarks/bench_scheduling.py [--repeats 3]

Prints
- 100 visits (50 sites x 2 rounds, the 2014-2017 rules): wall time of a plan
  (target <= 10 s), travel km against the greedy earliest-free-day baseline
  (target ratio <= 0.8), travel days, whether check() finds nothing, whether a
  second run gives the same dates, and a lower bound on the km of *any* plan
  under these rules (so the ratio can be read against what is possible);
- re-planning: wall time and visits moved after one booking changes;
- scaling: 300 sites x 2 rounds (all 290 kommuner + 10 city districts), wider
  windows, 2 visits a day and 8 a week (target <= 60 s).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib.util
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# planner.py is plain Python + OR-Tools + holidays: load it straight from its file
# so the benchmark runs without Flask or the rest of the app being importable.
_spec = importlib.util.spec_from_file_location("planner", ROOT / "coordinator" / "scheduling" / "planner.py")
planner = importlib.util.module_from_spec(_spec)
sys.modules["planner"] = planner  # dataclasses look the module up by name
_spec.loader.exec_module(planner)

_APP_DATA = ROOT / "coordinator" / "registry" / "data"
DATA_DIR = _APP_DATA if (_APP_DATA / "kommun_centroids.csv").exists() else Path("/work/shared/data")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _site(r: dict[str, str], site_id: int | None = None, label: str | None = None) -> planner.Site:
    return planner.Site(site_id or int(r["kommunkod"]), label or r["kommun"], float(r["lat"]), float(r["lon"]))


def fifty_sites() -> list[planner.Site]:
    """As in tests/test_planner.py: every 6th kommun by code (48) plus Kiruna and Gotland."""
    rows = sorted(_rows("kommun_centroids.csv"), key=lambda r: r["kommunkod"])
    picked = rows[::6][:48] + [r for r in rows if r["kommunkod"] in ("0980", "2584")]
    return sorted((_site(r) for r in picked), key=lambda s: s.id)


def three_hundred_sites() -> list[planner.Site]:
    """All 290 kommuner plus 10 districts of Stockholm, Göteborg and Malmö (at the city's centroid)."""
    rows = sorted(_rows("kommun_centroids.csv"), key=lambda r: r["kommunkod"])
    centroid = {r["kommunkod"]: r for r in rows}
    districts = sorted(_rows("stadsdelar_2015.csv"), key=lambda r: (r["kommunkod"], r["enhet"]))[::3][:10]
    sites = [_site(r) for r in rows]
    sites += [_site(centroid[d["kommunkod"]], 100_000 + i, f"{d['kommun']}, {d['enhet']}") for i, d in enumerate(districts)]
    return sites


def visits_for(sites: list[planner.Site]) -> list[planner.VisitRequest]:
    return [planner.VisitRequest(s.id, r) for r in (1, 2) for s in sites]


def km_lower_bound(visits, sites, rules) -> float:
    """No plan under ``rules`` travels less: the trips of each week are at most
    max_per_week visits, so any plan's km is at least the best partition of the
    far-away visits into groups of that size (all groups are candidates when
    ``near`` covers every site and max_per_week <= 3), plus the fixed day trips."""
    p = planner.plan(visits, sites, rules, planner.SolverSettings(travel_day_km=0, near=len(sites), time_limit_s=200))
    assert p.stats.status == "OPTIMAL"
    return p.stats.km


def replan(p, visits, sites, rules, key, shift_days):
    new = p.dates[key] + timedelta(days=shift_days)
    while not rules.is_working_day(new):
        new += timedelta(days=1)
    changed = [planner.VisitRequest(v.site_id, v.round, current=p.dates[v.key], pinned=new if v.key == key else None)
               for v in visits]
    t0 = time.perf_counter()
    q = planner.plan(changed, sites, rules)
    wall = time.perf_counter() - t0
    assert not planner.check(q.dates, changed, sites, rules)
    return wall, q, new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args, _ = parser.parse_known_args()  # benchmarks/run.py passes its arguments to every benchmark

    # 100 visits ---------------------------------------------------------------
    sites = fifty_sites()
    visits = visits_for(sites)
    rules = planner.default_rules()
    t0 = time.perf_counter()
    first = planner.plan(visits, sites, rules)
    cold = time.perf_counter() - t0
    walls, same = [], True
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        again = planner.plan(visits, sites, rules)
        walls.append(time.perf_counter() - t0)
        same &= again.dates == first.dates
    greedy = planner.travel_km(planner.greedy_baseline(visits, sites, rules), sites, rules)
    by_name = sorted(sites, key=lambda s: s.label)
    greedy_abc = planner.travel_km(planner.greedy_baseline(visits, by_name, rules), by_name, rules)
    bound = km_lower_bound(visits, sites, rules)
    s = first.stats
    print(f"100 visits (50 sites x 2 rounds, 2014-2017 rules), data {DATA_DIR}")
    print(f"  wall time, first call / median of {args.repeats:d} : {cold:6.2f} s / {statistics.median(walls):6.2f} s"
          "   (target <= 10 s)")
    print(f"  status {s.status}, same dates on every run: {same}; check(): "
          f"{len(planner.check(first.dates, visits, sites, rules))} violations")
    print(f"  travel km   planner {s.km:9.0f}   greedy (code order) {greedy.km:9.0f}   ratio {s.km / greedy.km:.3f}"
          "   (target <= 0.8)")
    print(f"              greedy (name order) {greedy_abc.km:9.0f}   ratio {s.km / greedy_abc.km:.3f}")
    print(f"              lower bound for any plan {bound:9.0f}   -> best possible ratio vs code order "
          f"{bound / greedy.km:.3f}")
    print(f"  travel days planner {s.travel_days:5d}   greedy (code order) {greedy.travel_days:5d}   "
          f"(trips {s.trips}, day trips {s.day_trips})")

    # Re-planning ----------------------------------------------------------------
    print("\nRe-planning 100 visits after one booking moves (current = the plan above)")
    unchanged = [planner.VisitRequest(v.site_id, v.round, current=first.dates[v.key]) for v in visits]
    t0 = time.perf_counter()
    u = planner.plan(unchanged, sites, rules)
    print(f"  nothing changed                  : {time.perf_counter() - t0:6.2f} s, moved {u.stats.moved}, "
          f"status {u.stats.status}")
    for key, shift in [((2584, 1), 35), ((980, 2), -35), ((1485, 1), 21)]:
        wall, q, new = replan(first, visits, sites, rules, key, shift)
        label = next(x.label for x in sites if x.id == key[0])
        print(f"  {label:<9} omg {key[1]} {first.dates[key]} -> {new}: {wall:6.2f} s, moved {q.stats.moved}, "
              f"km {q.stats.km:.0f}, status {q.stats.status}")

    # Scaling ----------------------------------------------------------------------
    sites = three_hundred_sites()
    visits = visits_for(sites)
    base = planner.default_rules()
    rules = dataclasses.replace(
        base, max_per_day=2, max_per_week=8,
        windows={1: (date(2015, 1, 12), date(2015, 12, 18)), 2: (date(2016, 1, 11), date(2017, 3, 31))},
        blackouts=base.blackouts + (planner.Blackout(date(2017, 7, 1), date(2017, 7, 31), "juli"),),
    )
    t0 = time.perf_counter()
    big = planner.plan(visits, sites, rules)
    wall = time.perf_counter() - t0
    greedy = planner.travel_km(planner.greedy_baseline(visits, sites, rules), sites, rules)
    print(f"\nScaling: {len(visits)} visits ({len(sites)} sites x 2 rounds), 2 a day, 8 a week")
    print(f"  wall time {wall:6.2f} s (target <= 60 s), status {big.stats.status}, check(): "
          f"{len(planner.check(big.dates, visits, sites, rules))} violations")
    print(f"  travel km planner {big.stats.km:9.0f}   greedy (code order) {greedy.km:9.0f}   "
          f"ratio {big.stats.km / greedy.km:.3f}")
    print(f"  travel days planner {big.stats.travel_days:5d}   greedy {greedy.travel_days:5d}")
    wall, q, new = replan(big, visits, sites, rules, (2584, 1), 35)
    print(f"  re-plan after Kiruna's booking moves: {wall:6.2f} s, moved {q.stats.moved}, status {q.stats.status}")


if __name__ == "__main__":
    main()
