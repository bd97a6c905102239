"""Benchmark of the visit planner (coordinator/scheduling/planner.py).

Run from the project root:  python benchmarks/bench_scheduling.py [--repeats 2]
(or every benchmark: python benchmarks/run.py)

Prints
- 100 visits (50 sites x 2 rounds; the 2014-2017 rules: windows from the
  phases, blackouts, report weeks, three a week): the plan's travel hours,
  nights away and CO2 beside two baselines: (a) each visit as its own return
  journey by the best mode, (b) the greedy earliest-free-day plan in the
  sample's order, priced the same way; km too; the levelling figure (largest
  monthly deviation from the even pace, target <= 1); wall time (first call
  and median), and whether every run gives the same dates;
- re-planning 100 visits after one visit is booked on another date (as a
  kommun's pick would): wall time (target <= 5 s) and visits moved;
- scaling: 600 visits (300 sites x 2 rounds, all 290 kommuner + 10 city
  districts), wider windows, 2 visits a day and 8 a week (target <= 60 s).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coordinator.scheduling import planner, travel  # noqa: E402
from coordinator.scheduling.defaults import BLACKOUTS, PHASES  # noqa: E402

DATA_DIR = ROOT / "coordinator" / "registry" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _site(r: dict[str, str], site_id: int | None = None, label: str | None = None) -> planner.Site:
    return planner.Site(site_id or int(r["kommunkod"]), label or r["kommun"], float(r["lat"]), float(r["lon"]),
                        r["kommunkod"])


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
    sites += [_site(centroid[d["kommunkod"]], 100_000 + i, f"{d['kommun']}, {d['enhet']}")
              for i, d in enumerate(districts)]
    return sites


def visits_for(sites: list[planner.Site]) -> list[planner.VisitRequest]:
    return [planner.VisitRequest(s.id, r) for r in (1, 2) for s in sites]


def rules_2014_2017() -> planner.Rules:
    phases = {n: (s, e) for n, _name, s, e, _d in PHASES}
    windows = planner.phase_windows(phases, adopted=date(2014, 11, 14), lead_days=28)
    dues = planner.report_dues(date(2014, 10, 1), 3, 14, date(2014, 11, 1), date(2017, 4, 30))
    return planner.Rules(windows=windows, blackouts=tuple(planner.Blackout(s, e, n) for n, s, e in BLACKOUTS),
                         max_per_week=3, report_dues=dues)


def own_journeys(sites: list[planner.Site], visits, rules: planner.Rules) -> tuple[float, int, float]:
    """Baseline (a): each visit its own return journey home -> site -> home by the best mode."""
    by_id = {s.id: s for s in sites}
    home = planner.home_place(rules)
    js = [travel.journey(home, [by_id[v.site_id].place()], rules.travel) for v in visits]
    return sum(j.hours for j in js), sum(j.overnights for j in js), sum(j.co2_kg for j in js)


def replan(p, visits, sites, rules, key, shift_days):
    start, end = rules.windows[key[1]]
    for shift in (shift_days, -shift_days):  # the other way if the window ends first
        new = p.dates[key] + timedelta(days=shift)
        while not rules.is_working_day(new) and new <= end:
            new += timedelta(days=1)
        if start <= new <= end:
            break
    changed = [planner.VisitRequest(v.site_id, v.round, current=p.dates[v.key], pinned=new if v.key == key else None)
               for v in visits]
    t0 = time.perf_counter()
    q = planner.plan(changed, sites, rules)
    wall = time.perf_counter() - t0
    assert not planner.check(q.dates, changed, sites, rules)
    return wall, q, new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args, _ = parser.parse_known_args()  # benchmarks/run.py passes its arguments to every benchmark

    # 100 visits ---------------------------------------------------------------
    sites = fifty_sites()
    visits = visits_for(sites)
    rules = rules_2014_2017()
    t0 = time.perf_counter()
    first = planner.plan(visits, sites, rules)
    cold = time.perf_counter() - t0
    walls, same = [], True
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        again = planner.plan(visits, sites, rules)
        walls.append(time.perf_counter() - t0)
        same &= again.dates == first.dates
    greedy_dates = planner.greedy_baseline(visits, sites, rules)
    greedy = planner.travel_summary(greedy_dates, sites, rules)
    own_h, own_n, own_co2 = own_journeys(sites, visits, rules)
    s = first.stats
    w1, w2 = rules.windows[1], rules.windows[2]
    print(f"100 visits (50 sites x 2 rounds), windows {w1[0]}..{w1[1]} and {w2[0]}..{w2[1]}, "
          f"{len(rules.report_dues)} report weeks, 3 a week")
    print(f"  wall time, first call / median of {args.repeats:d} : {cold:6.2f} s / {statistics.median(walls):6.2f} s"
          f"   status {s.status}, same dates on every run: {same}, check(): "
          f"{len(planner.check(first.dates, visits, sites, rules))} violations")
    print(f"  {'':28} {'travel h':>9} {'nights':>7} {'CO2 kg':>8} {'km':>8}")
    print(f"  {'planner':28} {s.travel_hours:9.1f} {s.overnights:7d} {s.co2_kg:8.0f} {s.km:8.0f}")
    print(f"  {'(a) each visit its own trip':28} {own_h:9.1f} {own_n:7d} {own_co2:8.0f} {'':>8}")
    print(f"  {'(b) greedy earliest free day':28} {greedy.hours:9.1f} {greedy.overnights:7d} {greedy.co2_kg:8.0f} "
          f"{greedy.km:8.0f}")
    print(f"  by mode (planner): " + ", ".join(f"{m} {v['hours']:.0f} h / {v['co2_kg']:.0f} kg"
                                               for m, v in s.by_mode.items()))
    print(f"  levelling: largest monthly deviation from the even pace {s.max_deviation:.2f} (target <= 1); "
          f"greedy {planner.max_deviation(greedy_dates, rules):.2f}")
    for r in (1, 2):
        print(f"    round {r}: " + " ".join(f"{k[2:]}:{n}" for k, n in s.monthly_load[r].items()))

    # Re-planning ----------------------------------------------------------------
    print("\nRe-planning 100 visits after one kommun's pick (current = the plan above)")
    unchanged = [planner.VisitRequest(v.site_id, v.round, current=first.dates[v.key]) for v in visits]
    t0 = time.perf_counter()
    u = planner.plan(unchanged, sites, rules)
    print(f"  nothing changed                  : {time.perf_counter() - t0:6.2f} s, moved {u.stats.moved}, "
          f"status {u.stats.status}")
    for key, shift in [((2584, 1), 35), ((980, 2), -35), ((1485, 1), 21)]:
        wall, q, new = replan(first, visits, sites, rules, key, shift)
        label = next(x.label for x in sites if x.id == key[0])
        print(f"  {label:<9} omg {key[1]} {first.dates[key]} -> {new}: {wall:6.2f} s (target <= 5 s), "
              f"moved {q.stats.moved}, travel h {q.stats.travel_hours:.0f}, deviation {q.stats.max_deviation:.2f}, "
              f"status {q.stats.status}")

    # Scaling ----------------------------------------------------------------------
    sites = three_hundred_sites()
    visits = visits_for(sites)
    base = rules_2014_2017()
    rules = dataclasses.replace(
        base, max_per_day=2, max_per_week=8,
        windows={1: (date(2015, 1, 12), date(2015, 12, 18)), 2: (date(2016, 1, 11), date(2017, 3, 31))},
        blackouts=base.blackouts + (planner.Blackout(date(2017, 7, 1), date(2017, 7, 31), "juli"),),
    )
    t0 = time.perf_counter()
    big = planner.plan(visits, sites, rules)
    wall = time.perf_counter() - t0
    greedy = planner.travel_summary(planner.greedy_baseline(visits, sites, rules), sites, rules)
    print(f"\nScaling: {len(visits)} visits ({len(sites)} sites x 2 rounds), 2 a day, 8 a week")
    print(f"  wall time {wall:6.2f} s (target <= 60 s), status {big.stats.status}, check(): "
          f"{len(planner.check(big.dates, visits, sites, rules))} violations, "
          f"deviation {big.stats.max_deviation:.2f}")
    print(f"  travel h planner {big.stats.travel_hours:8.0f}   greedy {greedy.hours:8.0f}   "
          f"nights {big.stats.overnights} / {greedy.overnights}   CO2 kg {big.stats.co2_kg:.0f} / {greedy.co2_kg:.0f}")
    wall, q, new = replan(big, visits, sites, rules, (2584, 1), 35)
    print(f"  re-plan after Kiruna's pick: {wall:6.2f} s, moved {q.stats.moved}, status {q.stats.status}")


if __name__ == "__main__":
    main()
