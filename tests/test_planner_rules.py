"""The planner's new rules (issue 13), checked by code of this test's own that
trusts nothing the planner computes: phase-derived windows, the even pace per
month, free report weeks, and how each site is reached. Plus the helpers, the
deterministic stop under load, and a lean import. No database needed."""
from __future__ import annotations

import csv
import dataclasses
import multiprocessing
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from coordinator.scheduling import planner as P
from coordinator.scheduling.defaults import BLACKOUTS, PHASES

ROOT = Path(__file__).resolve().parents[1]
CENTROIDS = ROOT / "coordinator" / "registry" / "data" / "kommun_centroids.csv"
GOTLAND, KIRUNA = "0980", "2584"
MODES = {"bil", "tåg", "flyg", "färja"}

# The 2014-2017 rules, written out here (the checker does not take them from the planner).
WINDOWS = {1: (date(2014, 12, 12), date(2015, 12, 31)), 2: (date(2016, 4, 1), date(2016, 12, 31))}
REPORT_DUE_DAYS = 14  # Assignment.report_due_days' default


def kommuner() -> list[dict[str, str]]:
    with open(CENTROIDS, encoding="utf-8", newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: r["kommunkod"])


def random_sites(n: int, seed: int, must: tuple[str, ...] = ()) -> list[P.Site]:
    rows = kommuner()
    chosen = [r for r in rows if r["kommunkod"] in must]
    rest = [r for r in rows if r["kommunkod"] not in must]
    chosen += random.Random(seed).sample(rest, n - len(chosen))
    return sorted((P.Site(int(r["kommunkod"]), r["kommun"], float(r["lat"]), float(r["lon"]), r["kommunkod"])
                   for r in chosen), key=lambda s: s.id)


def rules_2014_2017() -> P.Rules:
    phases = {n: (s, e) for n, _name, s, e, _d in PHASES}
    windows = P.phase_windows(phases, adopted=date(2014, 11, 14), lead_days=28)
    assert windows == WINDOWS  # 2014-11-14 + 4 weeks .. end of phase 2; phase 4
    dues = P.report_dues(date(2014, 10, 1), 3, REPORT_DUE_DAYS, date(2014, 12, 12), date(2016, 12, 31))
    return P.Rules(windows=windows, blackouts=tuple(P.Blackout(s, e, name) for name, s, e in BLACKOUTS),
                   max_per_day=1, max_per_week=3, report_dues=dues)


# --------------------------------------------------------------------------
# The independent checker
# --------------------------------------------------------------------------

def red_days(years: range) -> set[date]:
    days = set(holidays.SE(years=list(years), include_sundays=False))
    for y in years:
        days |= {date(y, 12, 24), date(y, 12, 31)}
        days |= {d for d in (date(y, 6, 19) + timedelta(i) for i in range(7)) if d.weekday() == 4}
    return days


RED = red_days(range(2014, 2018))


def quarter_dues() -> list[date]:
    """Every quarter from October 2014 ends on the last day of Dec/Mar/Jun/Sep; its report is due 14 days later."""
    ends = [date(y, m, d) for y in range(2014, 2018) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]
    return [e + timedelta(days=REPORT_DUE_DAYS) for e in ends if e >= date(2014, 12, 31)]


REPORT_WEEKS = {due - timedelta(days=k) for due in quarter_dues() for k in range(1, 8)}


def working(d: date) -> bool:
    return (d.weekday() < 5 and d not in RED and d not in REPORT_WEEKS
            and not any(s <= d <= e for _n, s, e in BLACKOUTS))


def targets(round_: int, n: int) -> dict[tuple[int, int], float]:
    start, end = WINDOWS[round_]
    per_month: Counter[tuple[int, int]] = Counter()
    d = start
    while d <= end:
        per_month[(d.year, d.month)] += 0  # every month of the window has a target, zero or not
        if working(d):
            per_month[(d.year, d.month)] += 1
        d += timedelta(days=1)
    total = sum(per_month.values())
    return {m: n * c / total for m, c in per_month.items()}


def assert_plan_keeps_the_new_rules(plan: P.Plan, visits: list[P.VisitRequest], sites: list[P.Site]) -> float:
    """Returns the largest monthly deviation found."""
    by_id = {s.id: s for s in sites}
    assert set(plan.dates) == {v.key for v in visits}
    for v in visits:
        d = plan.dates[v.key]
        start, end = WINDOWS[v.round]
        assert start <= d <= end, (v, d)  # inside its phase-derived window
        assert working(d), (v, d)  # no weekend, red day, blackout, or report week
        assert d not in REPORT_WEEKS
        mode = plan.modes[v.key]
        assert mode in MODES, (v, mode)
        if by_id[v.site_id].kommunkod == GOTLAND:
            assert mode != "bil", (v, mode)  # Gotland is never reached by car alone
    assert max(Counter(plan.dates.values()).values()) <= 1
    assert max(Counter(d.isocalendar()[:2] for d in plan.dates.values()).values()) <= 3
    for s in sites:
        assert (plan.dates[(s.id, 2)] - plan.dates[(s.id, 1)]).days >= 90
    worst = 0.0
    for r in (1, 2):
        mine = [plan.dates[v.key] for v in visits if v.round == r]
        count = Counter((d.year, d.month) for d in mine)
        for month, t in targets(r, len(mine)).items():
            assert abs(count[month] - t) <= 1 + 1e-9, (r, month, count[month], t)
            worst = max(worst, abs(count[month] - t))
        assert set(count) <= set(targets(r, len(mine)))
    return worst


SITE_SETS = {
    "50 with Gotland": lambda: random_sites(50, 2014, (GOTLAND,)),
    # Not 100: round 2's window has room for only 97 visits at three a week.
    "80 with Gotland and Kiruna": lambda: random_sites(80, 2015, (GOTLAND, KIRUNA)),
    "70 without Gotland": lambda: random_sites(70, 2016),
}


@pytest.mark.parametrize("name", sorted(SITE_SETS))
def test_independent_checker_on_three_site_sets(name):
    sites = SITE_SETS[name]()
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    rules = rules_2014_2017()
    plan = P.plan(visits, sites, rules)
    worst = assert_plan_keeps_the_new_rules(plan, visits, sites)
    assert plan.stats.max_deviation == pytest.approx(worst, abs=1e-3)
    assert P.check(plan.dates, visits, sites, rules) == []
    if any(s.kommunkod == GOTLAND for s in sites):
        assert plan.modes[(int(GOTLAND), 1)] in ("färja", "flyg")
    # The figures come from the travel model.
    assert plan.stats.travel_hours > 0 and plan.stats.co2_kg > 0 and plan.stats.overnights > 0
    assert set(plan.stats.by_mode) <= MODES
    assert sum(t.overnights for t in plan.trips) == plan.stats.overnights


def test_the_checker_itself_catches_an_unlevelled_plan():
    sites = SITE_SETS["50 with Gotland"]()
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    rules = rules_2014_2017()
    greedy = P.greedy_baseline(visits, sites, rules)  # earliest free days: not levelled
    summary = P.travel_summary(greedy, sites, rules)
    fake = P.Plan(greedy, summary.trips, P.PlanStats(0, 0, 0, 0, 0, "", 0), summary.modes, summary.nights)
    with pytest.raises(AssertionError):
        assert_plan_keeps_the_new_rules(fake, visits, sites)
    assert "level" in {v.code for v in P.check(greedy, visits, sites, rules)}


# --------------------------------------------------------------------------
# The helpers
# --------------------------------------------------------------------------

def test_phase_windows_without_adoption_and_when_too_late():
    phases = {n: (s, e) for n, _name, s, e, _d in PHASES}
    assert P.phase_windows(phases, None, 28)[1] == (date(2014, 11, 29), date(2015, 12, 31))
    with pytest.raises(ValueError, match="efter att fas 2 slutar 2015-12-31"):
        P.phase_windows(phases, date(2015, 12, 20), 28)
    with pytest.raises(ValueError, match="Fas 4 saknas"):
        P.phase_windows({1: phases[1], 2: phases[2]}, None, 28)


def test_report_dues_and_report_weeks():
    assert P.report_dues(date(2014, 10, 1), 3, 14, date(2015, 1, 1), date(2015, 12, 31)) == (
        date(2015, 4, 14), date(2015, 7, 14), date(2015, 10, 14), date(2016, 1, 14))
    assert P.report_dues(date(2014, 10, 1), 6, 30, date(2015, 1, 1), date(2015, 6, 30)) == (
        date(2015, 4, 30), date(2015, 10, 30))
    rules = rules_2014_2017()
    assert rules.day_off(date(2015, 4, 7)).text == "2015-04-07 ligger i veckan före rapporten som ska lämnas 2015-04-14"
    assert rules.day_off(date(2015, 4, 14)) is None  # the due date itself is a working day
    off = dataclasses.replace(rules, free_week_before_report=False)
    assert off.day_off(date(2015, 4, 7)) is None


def test_monthly_targets_follow_the_pace_and_sum_to_n():
    rules = rules_2014_2017()
    even = P.monthly_targets(rules, 1, 50)
    assert sum(even.values()) == pytest.approx(50)
    assert even["2015-07"] == 0.0  # July is a blackout
    light = P.monthly_targets(dataclasses.replace(rules, pace={(2015, 3): 0.5}), 1, 50)
    assert sum(light.values()) == pytest.approx(50)
    assert light["2015-03"] < even["2015-03"] and light["2015-05"] > even["2015-05"]
    assert P.monthly_load({(1, 1): date(2015, 3, 2), (2, 1): date(2015, 3, 9), (1, 2): date(2016, 4, 4)}) == {
        1: {"2015-03": 2}, 2: {"2016-04": 1}}


def test_check_names_an_uneven_month_and_the_precheck_an_impossible_pace():
    sites = SITE_SETS["50 with Gotland"]()
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    rules = rules_2014_2017()
    plan = P.plan(visits, sites, rules)
    march = sorted(k for k, d in plan.dates.items() if k[1] == 1 and d.month != 3 and d.year == 2015)[:4]
    days = [d for d in (date(2015, 3, 2) + timedelta(i) for i in range(30)) if rules.is_working_day(d)]
    moved = {**plan.dates, **dict(zip(march, days[::3]))}
    level = [v for v in P.check(moved, visits, sites, rules) if v.code == "level"]
    assert any("i 2015-03, men en jämn takt ger" in v.message for v in level)
    with pytest.raises(P.PlanningError) as e:
        P.plan(visits, sites, dataclasses.replace(rules, pace={(2015, 3): 20.0}))
    assert e.value.issues[0].code == "level_capacity"
    assert e.value.problems[0].startswith("Omgång 1 behöver minst")


def test_bookings_that_break_the_pace_are_kept_and_reported():
    sites = SITE_SETS["50 with Gotland"]()
    rules = rules_2014_2017()
    days = [d for d in (date(2015, 2, 2) + timedelta(i) for i in range(28)) if rules.is_working_day(d)]
    booked = {s.id: d for s, d in zip(sites, [d for d in days if d.weekday() in (0, 2, 4)][:9])}
    visits = [P.VisitRequest(s.id, r, pinned=booked.get(s.id) if r == 1 else None) for r in (1, 2) for s in sites]
    plan = P.plan(visits, sites, rules)
    assert plan.stats.monthly_load[1]["2015-02"] == 9  # target about 4.4: the bookings win
    assert plan.stats.max_deviation > 4
    assert P.check(plan.dates, visits, sites, rules) == []


def test_a_round_booked_off_the_pace_does_not_block_the_other():
    """Round 2 booked on the greedy (unlevelled) days: round 1 is still planned at an even pace."""
    sites = SITE_SETS["50 with Gotland"]()
    rules = rules_2014_2017()
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    greedy = P.greedy_baseline(visits, sites, rules)
    booked = [dataclasses.replace(v, pinned=greedy[v.key]) if v.round == 2 else v for v in visits]
    plan = P.plan(booked, sites, rules)
    assert all(plan.dates[v.key] == greedy[v.key] for v in booked if v.round == 2)
    assert P.check(plan.dates, booked, sites, rules) == []
    mine = Counter((d.year, d.month) for (_s, r), d in plan.dates.items() if r == 1)
    for month, t in targets(1, len(sites)).items():
        assert abs(mine[month] - t) <= 1 + 1e-9
    assert plan.stats.max_deviation > 1  # round 2's bookings


def test_replanning_late_in_a_round_behind_its_pace():
    """As the demo does: bookings up to May, nothing in June, re-planned from mid-August.
    The months left take what the past left over; no month that still has open days
    is asked for more than it can hold, and July (a blackout) for nothing."""
    sites = SITE_SETS["50 with Gotland"]()
    rules = rules_2014_2017()
    visits = [P.VisitRequest(s.id, 1) for s in sites]
    first = P.plan(visits, sites, rules)
    late = dataclasses.replace(rules, earliest=date(2015, 8, 17))
    booked = [dataclasses.replace(v, pinned=first.dates[v.key] if first.dates[v.key] < date(2015, 6, 1) else None)
              for v in visits]
    plan = P.plan(booked, sites, late)
    assert P.check(plan.dates, booked, sites, late) == []
    load = plan.stats.monthly_load[1]
    assert "2015-06" not in load and "2015-07" not in load
    assert all(d >= late.earliest for v in booked if v.pinned is None for d in [plan.dates[v.key]])
    assert plan.stats.max_deviation > 4  # June's target, lost to the past


def test_travel_summary_modes_and_nights():
    rules = rules_2014_2017()
    gotland = P.Site(980, "Gotland", 57.47, 18.49, "0980")
    kiruna = P.Site(2584, "Kiruna", 67.85, 20.22, "2584")
    uppsala = P.Site(380, "Uppsala", 59.86, 17.64, "0380")
    dates = {(2584, 1): date(2015, 3, 2), (980, 1): date(2015, 3, 4), (380, 1): date(2015, 3, 5)}
    s = P.travel_summary(dates, [gotland, kiruna, uppsala], rules)
    assert s.modes == {(380, 1): "tåg", (980, 1): "flyg", (2584, 1): "flyg"}
    assert s.nights[(2584, 1)] == (True, True)  # flown up the evening before, on to Gotland after
    assert s.nights[(380, 1)] == (False, False)  # a day trip
    away = next(t for t in s.trips if not t.day_trip)
    assert away.site_ids == (2584, 980) and away.overnights >= 3 and away.hours > 5
    assert s.hours == pytest.approx(sum(t.hours for t in s.trips))
    assert P.travel_km is P.travel_summary


# --------------------------------------------------------------------------
# A deterministic stop, and a lean import
# --------------------------------------------------------------------------

def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1


def test_same_plan_on_a_loaded_machine():
    """~100 visits re-planned from unlevelled dates: stage C stops on its deterministic
    budget (not proven optimal), and gives the same plan while two processes load the CPU."""
    sites = random_sites(50, 7, (GOTLAND,))
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    rules = rules_2014_2017()
    greedy = P.greedy_baseline(visits, sites, rules)
    start = [dataclasses.replace(v, current=greedy[v.key]) for v in visits]
    settings = P.SolverSettings(dtime=0.9)
    quiet = P.plan(start, sites, rules, settings)
    assert quiet.stats.status == "FEASIBLE" and quiet.stats.objective is not None
    assert quiet.stats.objective > quiet.stats.bound  # stopped by the budget, not by a proof
    assert quiet.stats.dtime >= 0.8 * 0.9 * P.REPLAN_SHARE  # its budget used up (CP-SAT stops just short)
    ctx = multiprocessing.get_context("fork")
    busy = [ctx.Process(target=_spin, args=(60.0,), daemon=True) for _ in range(2)]
    for p in busy:
        p.start()
    try:
        time.sleep(0.5)
        loaded = P.plan(start, sites, rules, settings)
    finally:
        for p in busy:
            p.terminate()
            p.join()
    assert loaded.dates == quiet.dates
    assert loaded.stats.objective == quiet.stats.objective


def test_importing_the_planner_does_not_load_ortools():
    code = "import sys, coordinator.scheduling.planner; print('ortools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_plan_levels_every_round_by_month():
    sites = SITE_SETS["70 without Gotland"]()
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    plan = P.plan(visits, sites, rules_2014_2017())
    per_round: dict[int, Counter[str]] = defaultdict(Counter)
    for (_s, r), d in plan.dates.items():
        per_round[r][f"{d.year:04d}-{d.month:02d}"] += 1
    assert {r: dict(c) for r, c in per_round.items()} == {r: dict(m) for r, m in plan.stats.monthly_load.items()}


def test_extreme_dates_give_a_clear_answer():
    phases = {n: (s, e) for n, _name, s, e, _d in PHASES}
    with pytest.raises(ValueError, match="Omgång 1 skulle börja"):
        P.phase_windows(phases, date(9999, 12, 30), 28)
    assert P.report_dues(date(9999, 1, 1), 3, 14, date(9999, 1, 1), date.max)[-1] == date(9999, 10, 14)
    far = P.Rules(windows={1: (date(9999, 11, 1), date.max)})
    assert sum(P.monthly_targets(far, 1, 3).values()) == pytest.approx(3)
