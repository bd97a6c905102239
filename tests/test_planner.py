"""The visit planner as a specification: every hard rule is checked here by the
test itself (weekday, public holiday straight from the holidays package, window,
blackout, per day, per ISO week, gap), not only by ``planner.check``; the
solver is trusted with nothing. No database needed."""
from __future__ import annotations

import csv
import dataclasses
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from coordinator.scheduling import planner as P

CENTROIDS = Path(__file__).resolve().parents[1] / "coordinator" / "registry" / "data" / "kommun_centroids.csv"
KIRUNA, GOTLAND = 2584, 980


def fifty_sites() -> list[P.Site]:
    """Every 6th kommun by code (48 of them) plus Kiruna and Gotland: 50 sites, all of Sweden."""
    with open(CENTROIDS, encoding="utf-8", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["kommunkod"])
    picked = rows[::6][:48] + [r for r in rows if int(r["kommunkod"]) in (KIRUNA, GOTLAND)]
    assert len({r["kommunkod"] for r in picked}) == 50
    return sorted((P.Site(int(r["kommunkod"]), r["kommun"], float(r["lat"]), float(r["lon"])) for r in picked),
                  key=lambda s: s.id)


SITES = fifty_sites()
BY_ID = {s.id: s for s in SITES}
RULES = P.default_rules()
VISITS = [P.VisitRequest(s.id, r) for r in (1, 2) for s in SITES]


@pytest.fixture(scope="module")
def base_plan() -> P.Plan:
    return P.plan(VISITS, SITES, RULES)


# --------------------------------------------------------------------------
# An independent statement of the rules
# --------------------------------------------------------------------------

def red_days(years: range) -> set[date]:
    days = set(holidays.SE(years=list(years), include_sundays=False))
    for y in years:  # the three eves, by their definitions
        days |= {date(y, 12, 24), date(y, 12, 31)}
        days |= {d for d in (date(y, 6, 19) + timedelta(i) for i in range(7)) if d.weekday() == 4}
    return days


RED = red_days(range(2014, 2019))


def assert_rules_hold(dates: dict, visits: list[P.VisitRequest], rules: P.Rules) -> None:
    assert set(dates) == {v.key for v in visits}
    for v in visits:
        d = dates[v.key]
        if v.pinned is not None:
            assert d == v.pinned
        start, end = rules.windows[v.round]
        assert start <= d <= end, (v, d)
        assert d.weekday() < 5, (v, d)
        assert d not in RED, (v, d)
        assert not any(b.start <= d <= b.end for b in rules.blackouts), (v, d)
        if rules.earliest and v.pinned is None:
            assert d >= rules.earliest
    assert max(Counter(dates.values()).values()) <= rules.max_per_day
    weeks = Counter(d.isocalendar()[:2] for d in dates.values())
    assert max(weeks.values()) <= rules.max_per_week
    for v in visits:
        if v.round == 2 and (v.site_id, 1) in dates:
            assert (dates[v.key] - dates[(v.site_id, 1)]).days >= rules.min_gap_days


def a_working_day(d: date) -> date:
    while d.weekday() >= 5 or d in RED or any(b.start <= d <= b.end for b in RULES.blackouts):
        d += timedelta(days=1)
    return d


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------

def test_holidays_are_swedish_red_days_and_eves_without_sundays():
    h = P.swedish_holidays(2015)
    assert h[date(2015, 6, 19)] == "Midsommarafton"
    assert h[date(2015, 12, 24)] == "Julafton" and h[date(2015, 12, 31)] == "Nyårsafton"
    assert date(2015, 4, 3) in h and date(2015, 5, 14) in h  # Good Friday, Ascension
    assert date(2015, 1, 4) not in h  # an ordinary Sunday
    assert set(h) == {d for d in RED if d.year == 2015}


def test_day_off_names_the_reason():
    assert RULES.day_off(date(2015, 6, 19)).text == "2015-06-19 är midsommarafton"
    assert RULES.day_off(date(2015, 6, 20)).text == "2015-06-20 är midsommardagen"
    assert RULES.day_off(date(2015, 3, 7)).text == "2015-03-07 är en lördag"
    assert RULES.day_off(date(2015, 7, 14)).text == "2015-07-14 ligger i en spärrperiod (juli, 2015-07-01–2015-07-31)"
    assert RULES.day_off(date(2015, 3, 4)) is None


# --------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------

def test_plan_of_100_visits_keeps_every_rule(base_plan):
    assert P.check(base_plan.dates, VISITS, SITES, RULES) == []
    assert_rules_hold(base_plan.dates, VISITS, RULES)
    assert len(base_plan.dates) == 100


def test_plan_travels_less_than_the_greedy_baseline(base_plan):
    greedy = P.greedy_baseline(VISITS, SITES, RULES)
    # The greedy baseline fills the earliest days: it keeps every rule but the even pace.
    assert {v.code for v in P.check(greedy, VISITS, SITES, RULES)} == {"level"}
    assert P.check(greedy, VISITS, SITES, dataclasses.replace(RULES, level=False)) == []
    assert_rules_hold(greedy, VISITS, RULES)
    baseline = P.travel_summary(greedy, SITES, RULES)
    assert base_plan.stats.km <= 0.85 * baseline.km
    assert base_plan.stats.travel_days < baseline.travel_days
    assert base_plan.stats.travel_hours < baseline.hours and base_plan.stats.overnights < baseline.overnights


def test_trips_and_stats_follow_the_trip_definition(base_plan):
    again = P.travel_km(base_plan.dates, SITES, RULES)
    assert again.trips == base_plan.trips
    assert base_plan.stats.km == pytest.approx(sum(t.km for t in base_plan.trips), abs=0.1)
    assert base_plan.stats.travel_days == 2 * base_plan.stats.trips
    for t in base_plan.trips:
        assert len({d.isocalendar()[:2] for d in t.dates}) == 1  # one ISO week
        assert list(t.dates) == sorted(t.dates)
        if t.day_trip:
            assert P.haversine_km(RULES.home, (BY_ID[t.site_ids[0]].lat, BY_ID[t.site_ids[0]].lon)) <= 100
    assert sum(len(t.site_ids) for t in base_plan.trips) == 100


def test_travel_km_by_hand():
    kiruna, gallivare, lund, uppsala = (P.Site(1, "Kiruna", 67.85, 20.22), P.Site(2, "Gällivare", 67.13, 20.66),
                                        P.Site(3, "Lund", 55.70, 13.19), P.Site(4, "Uppsala", 59.86, 17.64))
    sites = [kiruna, gallivare, lund, uppsala]
    home = RULES.home
    km = P.haversine_km
    pos = {s.id: (s.lat, s.lon) for s in sites}
    dates = {(1, 1): date(2015, 3, 2), (2, 1): date(2015, 3, 3), (4, 1): date(2015, 3, 4), (3, 1): date(2015, 3, 10)}
    s = P.travel_km(dates, sites, RULES)
    north = km(home, pos[1]) + km(pos[1], pos[2]) + km(pos[2], home)
    assert [t.site_ids for t in s.trips] == [(1, 2), (4,), (3,)]
    assert s.trips[0].km == pytest.approx(north)
    assert s.trips[1].day_trip and s.trips[1].km == pytest.approx(2 * km(home, pos[4]))
    assert s.km == pytest.approx(north + 2 * km(home, pos[4]) + 2 * km(home, pos[3]))
    assert s.travel_days == 4 and s.day_trips == 1


def test_same_input_same_plan(base_plan):
    shuffled = list(VISITS)
    random.Random(7).shuffle(shuffled)
    assert P.plan(shuffled, list(reversed(SITES)), RULES).dates == base_plan.dates


def test_rules_are_data():
    rules = dataclasses.replace(RULES, max_per_day=2, max_per_week=5, min_gap_days=120,
                                windows={1: (date(2015, 2, 2), date(2015, 6, 30)), 2: (date(2015, 9, 1), date(2016, 3, 31))})
    p = P.plan(VISITS, SITES, rules)
    assert P.check(p.dates, VISITS, SITES, rules) == []
    assert_rules_hold(p.dates, VISITS, rules)
    assert max(Counter(p.dates.values()).values()) == 2  # the room was used


# --------------------------------------------------------------------------
# Booked visits and re-planning
# --------------------------------------------------------------------------

def test_pinned_visits_keep_their_dates():
    pins = {(KIRUNA, 1): date(2015, 9, 8), (GOTLAND, 1): date(2015, 2, 17), (GOTLAND, 2): date(2016, 11, 22),
            (114, 2): date(2016, 4, 4)}
    visits = [P.VisitRequest(v.site_id, v.round, pinned=pins.get(v.key)) for v in VISITS]
    p = P.plan(visits, SITES, RULES)
    for k, d in pins.items():
        assert p.dates[k] == d
    assert P.check(p.dates, visits, SITES, RULES) == []
    assert_rules_hold(p.dates, visits, RULES)


def test_unchanged_replan_moves_nothing(base_plan):
    visits = [P.VisitRequest(v.site_id, v.round, current=base_plan.dates[v.key]) for v in VISITS]
    again = P.plan(visits, SITES, RULES)
    assert again.dates == base_plan.dates
    assert again.stats.moved == 0 and again.stats.status == "UNCHANGED"
    # Booking visits on their proposed dates is no change either.
    booked = [dataclasses.replace(v, pinned=v.current) if v.round == 1 else v for v in visits]
    assert P.plan(booked, SITES, RULES).dates == base_plan.dates


@pytest.mark.parametrize("key, shift", [((KIRUNA, 1), 35), ((GOTLAND, 2), -35), ((1485, 1), 21), ((2161, 2), 14)])
def test_replan_after_a_booking_moves_few_others(base_plan, key, shift):
    new = a_working_day(base_plan.dates[key] + timedelta(days=shift))
    visits = [P.VisitRequest(v.site_id, v.round, current=base_plan.dates[v.key],
                             pinned=new if v.key == key else None) for v in VISITS]
    p = P.plan(visits, SITES, RULES)
    assert p.dates[key] == new
    assert P.check(p.dates, visits, SITES, RULES) == []
    assert_rules_hold(p.dates, visits, RULES)
    moved = [k for k in p.dates if k != key and p.dates[k] != base_plan.dates[k]]
    assert len(moved) == p.stats.moved <= 4


def test_replan_with_earliest_moves_only_what_must_move(base_plan):
    today = date(2015, 3, 2)
    rules = dataclasses.replace(RULES, earliest=today)
    # Visits before today took place (booked); one planned visit's date became impossible.
    lost = min((k for k, d in base_plan.dates.items() if d >= today), key=lambda k: base_plan.dates[k])
    visits = [
        P.VisitRequest(v.site_id, v.round,
                       pinned=base_plan.dates[v.key] if base_plan.dates[v.key] < today else None,
                       current=base_plan.dates[v.key])
        for v in VISITS
    ]
    assert P.plan(visits, SITES, rules).stats.status == "UNCHANGED"
    blocked = dataclasses.replace(rules, blackouts=rules.blackouts + (P.Blackout(base_plan.dates[lost],
                                                                                 base_plan.dates[lost], "kurs"),))
    p = P.plan(visits, SITES, blocked)
    assert p.dates[lost] != base_plan.dates[lost]
    assert_rules_hold(p.dates, visits, blocked)
    assert P.check(p.dates, visits, SITES, blocked) == []
    assert 1 <= p.stats.moved <= 4


# --------------------------------------------------------------------------
# No plan: the reason is named
# --------------------------------------------------------------------------

def problems(visits, rules, sites=SITES, **settings) -> list[str]:
    with pytest.raises(P.PlanningError) as e:
        P.plan(visits, sites, rules, P.SolverSettings(**settings))
    assert e.value.problems and all(isinstance(p, str) for p in e.value.problems)
    return e.value.problems


def test_too_few_visit_days():
    rules = dataclasses.replace(RULES, windows={1: (date(2015, 9, 1), date(2015, 10, 31)), 2: RULES.windows[2]})
    assert problems(VISITS, rules) == [
        "Omgång 1 har 50 besök men bara 27 möjliga besöksdagar i fönstret 2015-09-01–2015-10-31 "
        "(högst 1 per dag, 3 per vecka)"
    ]


def test_pinned_date_in_blackout_or_on_an_eve():
    for day, reason in [(date(2015, 7, 14), "ligger i en spärrperiod (juli, 2015-07-01–2015-07-31)"),
                        (date(2015, 6, 19), "är midsommarafton"), (date(2015, 12, 24), "är julafton")]:
        visits = [dataclasses.replace(v, pinned=day) if v.key == (KIRUNA, 1) else v for v in VISITS]
        assert problems(visits, RULES) == [f"Det fasta besöket i Kiruna {day} {reason}"]


def test_gap_impossible():
    rules = dataclasses.replace(RULES, windows={1: RULES.windows[1], 2: (date(2016, 1, 11), date(2016, 2, 1))},
                                blackouts=())
    visits = [dataclasses.replace(v, pinned=date(2015, 12, 10)) if v.key == (KIRUNA, 1) else v for v in VISITS]
    assert ("Minsta avstånd 90 dagar mellan besöken i Kiruna går inte att hålla: omgång 1 är bokad 2015-12-10 "
            "och omgång 2:s fönster slutar 2016-02-01") in problems(visits, rules)


def squeeze():
    """Ten sites; with 100 days between the rounds, round 1 only fits 2-22 March: 9 slots."""
    sites = SITES[:10]
    visits = [P.VisitRequest(s.id, r) for r in (1, 2) for s in sites]
    rules = P.Rules(windows={1: (date(2015, 3, 2), date(2015, 3, 31)), 2: (date(2015, 6, 1), date(2015, 6, 30))},
                    min_gap_days=100)
    return sites, visits, rules


def test_windows_narrowed_by_the_gap_are_counted():
    sites, visits, rules = squeeze()
    assert problems(visits, rules, sites) == [
        "Omgång 1 har 10 besök men bara 9 möjliga besöksdagar i fönstret 2015-03-02–2015-03-22 "
        "(högst 1 per dag, 3 per vecka, minst 100 dagar mellan omgångarna)"
    ]
    assert P.plan(visits, sites, dataclasses.replace(rules, min_gap_days=90)).dates  # one rule less: it fits


def test_solver_names_the_conflicting_rules():
    # Without the counting checks, CP-SAT's core names the rules that clash.
    sites, visits, rules = squeeze()
    [text] = problems(visits, rules, sites, prechecks=False)
    assert text.startswith("Ingen plan håller alla regler samtidigt.")
    for part in ("omgång 1:s fönster 2015-03-02–2015-03-31", "högst 3 besök per vecka",
                 "minst 100 dagar mellan besöken i"):
        assert part in text
    assert "per dag" not in text  # not part of this conflict


def test_pinned_overload_is_named():
    visits = [dataclasses.replace(v, pinned=date(2015, 3, 4)) if v.round == 1 and v.site_id in (114, 980) else v
              for v in VISITS]
    assert problems(visits, RULES) == ["De fasta besöken ger 2 besök 2015-03-04 (högst 1 per dag)"]


# --------------------------------------------------------------------------
# check() on hand-made bad plans
# --------------------------------------------------------------------------

def codes(dates: dict, visits=VISITS, rules=RULES) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in P.check(dates, visits, SITES, rules):
        out.setdefault(v.code, []).append(v.message)
    return out


@pytest.fixture()
def valid(base_plan) -> dict:
    return dict(base_plan.dates)


def test_check_flags_each_rule(valid):
    assert codes(valid) == {}
    cases = [
        ((KIRUNA, 1), date(2015, 6, 19), "holiday", "2015-06-19 är midsommarafton"),
        ((KIRUNA, 1), date(2015, 12, 24), "holiday", "2015-12-24 är julafton"),
        ((KIRUNA, 1), date(2015, 3, 7), "weekend", "2015-03-07 är en lördag"),
        ((KIRUNA, 1), date(2015, 7, 14), "blackout", "2015-07-14 ligger i en spärrperiod (juli, 2015-07-01–2015-07-31)"),
        ((KIRUNA, 2), date(2016, 3, 1), "window",
         "Besöket i Kiruna 2016-03-01 ligger utanför omgång 2:s fönster (2016-04-01–2016-12-15)"),
    ]
    for key, day, code, message in cases:
        bad = {**valid, key: day}
        assert message in codes(bad).get(code, []), (code, codes(bad))


def test_check_flags_gap_order_day_and_week(valid):
    first = valid[(KIRUNA, 1)]
    bad = {**valid, (KIRUNA, 2): first + timedelta(days=45)}
    assert codes(bad)["gap"] == ["Bara 45 dagar mellan besöken i Kiruna (minst 90)"]
    bad = {**valid, (KIRUNA, 2): date(2015, 1, 13), (KIRUNA, 1): date(2015, 1, 14)}
    assert "order" in codes(bad)

    # Four round-2 visits moved into an empty week, two of them on one day.
    used = {d.isocalendar()[:2] for d in valid.values()}
    monday = next(d for d in (date(2016, 8, 1) + timedelta(weeks=i) for i in range(18))
                  if d.isocalendar()[:2] not in used and all(RULES.is_working_day(d + timedelta(j)) for j in range(3)))
    week = [monday, monday + timedelta(1), monday + timedelta(2), monday + timedelta(2)]
    movers = [k for k in sorted(valid) if k[1] == 2][:4]
    found = codes({**valid, **dict(zip(movers, week))})
    assert found["per_week"] == [f"4 besök vecka {monday.isocalendar()[1]} 2016 (högst 3)"]
    assert found["per_day"] == [f"2 besök {week[2]} (högst 1 per dag)"]


def test_check_flags_missing_pinned_and_earliest(valid):
    missing = {k: d for k, d in valid.items() if k != (GOTLAND, 2)}
    assert codes(missing)["missing"] == ["Besöket i Gotland (omgång 2) saknar datum"]
    booked = [dataclasses.replace(v, pinned=date(2015, 3, 3)) if v.key == (GOTLAND, 1) else v for v in VISITS]
    assert valid[(GOTLAND, 1)] != date(2015, 3, 3)
    assert "pinned_moved" in codes(valid, booked)
    late = dataclasses.replace(RULES, earliest=date(2015, 3, 1))
    early = [k for k, d in valid.items() if d < late.earliest]
    assert early and len(codes(valid, rules=late)["earliest"]) == len(early)
    # A booked visit in the past is fine.
    past = [dataclasses.replace(v, pinned=valid[v.key]) if v.key in early else v for v in VISITS]
    assert "earliest" not in codes(valid, past, late)


def test_bad_input_is_named():
    with pytest.raises(P.PlanningError) as e:
        P.plan([P.VisitRequest(999999, 1), P.VisitRequest(114, 3)], SITES, RULES)
    assert e.value.problems == ["Okänd besöksplats 999999", "Omgång 3 har inget fönster"]
