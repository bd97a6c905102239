"""Who travels (coordinator.scheduling.staffing) as a specification.

The hard rules are checked here by the test's own checker (``independent_problems``),
not only by ``staffing.check``; small random cases are solved by brute force to know
whether an assignment exists and how even the workload can be. No database needed.
"""
from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from coordinator.scheduling import staffing as S
from coordinator.scheduling.staffing import Assignment, StaffingError, StaffMember, StaffVisit

MON = date(2015, 3, 2)  # a Monday
COORD = StaffMember(1, "Samordnaren", coordinator=True)


def day(n: int) -> date:
    return MON + timedelta(days=n)


def team(*others: StaffMember) -> list[StaffMember]:
    return [COORD, *others]


def independent_problems(visits, staff, need, a: Assignment) -> list[str]:
    """The hard rules, written from the brief and nothing else."""
    out = []
    by_id = {s.id: s for s in staff}
    coord = [s.id for s in staff if s.coordinator and s.active]
    assert len(coord) == 1
    booked: dict[int, list[tuple[StaffVisit, set[date]]]] = {}
    for v in visits:
        people = a.staff[v.key]
        if coord[0] not in people:
            out.append(f"{v.key}: no coordinator")
        others = [p for p in people if p != coord[0]]
        if len(others) != need or len(set(others)) != need:
            out.append(f"{v.key}: {len(others)} others")
        days = {v.date}
        if v.overnight_before and v.date != date.min:
            days.add(v.date - timedelta(days=1))
        if v.overnight_after and v.date != date.max:
            days.add(v.date + timedelta(days=1))
        for p in people:
            m = by_id[p]
            if not m.active:
                out.append(f"{v.key}: {p} inactive")
            for d in days:
                if any(s <= d <= e for s, e in m.absences):
                    out.append(f"{v.key}: {p} absent {d}")
            for w, wdays in booked.get(p, []):
                same_trip = v.trip is not None and v.trip == w.trip
                if v.date == w.date or (not same_trip and days & wdays):
                    out.append(f"{p} on {v.key} and {w.key}")
            booked.setdefault(p, []).append((v, days))
    count = Counter(p for v in visits for p in a.staff[v.key])
    for p, n in a.load.items():
        if count[p] != n:
            out.append(f"load of {p}: {n} != {count[p]}")
    return out


def assert_valid(visits, staff, need, a):
    assert independent_problems(visits, staff, need, a) == []
    assert S.check(visits, staff, need, a) == []


# --------------------------------------------------------------------------
# Double booking
# --------------------------------------------------------------------------


def test_two_visits_on_one_day_need_the_coordinator_twice_and_are_refused_with_the_reason():
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"))
    visits = [StaffVisit((10, 1), day(1), label="Kiruna"), StaffVisit((11, 1), day(1), label="Gällivare")]
    with pytest.raises(StaffingError) as err:
        S.assign(visits, staff, 1)
    (problem,) = err.value.problems
    assert "2015-03-03" in problem and "Kiruna" in problem and "Gällivare" in problem
    assert "Samordnaren kan bara vara med på ett besök om dagen" in problem


def test_check_finds_a_staff_member_on_two_visits_the_same_day():
    """Hand-made assignments: the same companion twice on one day is caught; different ones are not."""
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"))
    visits = [StaffVisit((10, 1), day(1), label="Kiruna"), StaffVisit((11, 1), day(1), label="Gällivare")]
    same = Assignment({(10, 1): (1, 2), (11, 1): (1, 2)}, {1: 2, 2: 2, 3: 0})
    problems = S.check(visits, staff, 1, same)
    assert any("Anna är bokad på både Kiruna och Gällivare" in p for p in problems)
    assert any("Samordnaren är bokad på både" in p for p in problems)  # and the coordinator twice
    apart = Assignment({(10, 1): (1, 2), (11, 1): (1, 3)}, {1: 2, 2: 1, 3: 1})
    problems = S.check(visits, staff, 1, apart)
    assert not any("Anna" in p or "Bo" in p for p in problems)
    assert len(problems) == 1 and "Samordnaren" in problems[0]


def test_travel_days_count_outside_a_trip_but_not_within_one():
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"))
    # Monday's visit stays overnight, the team travels home on Tuesday: a Tuesday visit elsewhere clashes
    clash = [StaffVisit((10, 1), day(0), overnight_after=True, label="Kiruna"),
             StaffVisit((11, 1), day(1), label="Uppsala")]
    with pytest.raises(StaffingError) as err:
        S.assign(clash, staff, 1)
    assert "resdagarna krockar" in err.value.problems[0] and "2015-03-03" in err.value.problems[0]
    # the same two visits as one trip: the travel day is the way from one site to the next
    trip = [StaffVisit((10, 1), day(0), trip=7, overnight_before=True, overnight_after=True),
            StaffVisit((11, 1), day(1), trip=7, overnight_before=True, overnight_after=True)]
    a = S.assign(trip, staff, 1)
    assert_valid(trip, staff, 1, a)
    assert a.staff[(10, 1)] == a.staff[(11, 1)] == (1, 2)


def test_check_catches_a_travel_day_clash_of_a_companion():
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"))
    visits = [StaffVisit((10, 1), day(1), overnight_before=True, label="Kiruna"),
              StaffVisit((11, 1), day(0), label="Uppsala")]
    bad = Assignment({(10, 1): (1, 2), (11, 1): (1, 2)}, {1: 2, 2: 2, 3: 0})
    assert any("2015-03-02: Anna är bokad på både Uppsala och Kiruna" in p for p in S.check(visits, staff, 1, bad))


# --------------------------------------------------------------------------
# Absences
# --------------------------------------------------------------------------


def test_absences_are_respected_including_travel_days():
    anna = StaffMember(2, "Anna", absences=((day(0), day(1)),))  # away Monday and Tuesday
    bo = StaffMember(3, "Bo", absences=((day(3), day(10)),))
    staff = team(anna, bo)
    visits = [
        StaffVisit((10, 1), day(0)),  # Monday: only Bo
        StaffVisit((11, 1), day(2), overnight_before=True),  # Wednesday, travels Tuesday: only Bo
        StaffVisit((12, 1), day(3)),  # Thursday: only Anna
    ]
    a = S.assign(visits, staff, 1)
    assert_valid(visits, staff, 1, a)
    assert a.staff == {(10, 1): (1, 3), (11, 1): (1, 3), (12, 1): (1, 2)}
    assert a.load == {1: 3, 2: 1, 3: 2}


def test_too_few_present_or_the_coordinator_away_is_refused_naming_the_day():
    anna = StaffMember(2, "Anna", absences=((day(1), day(1)),))
    bo = StaffMember(3, "Bo", absences=((day(1), day(2)),))
    coord = StaffMember(1, "Samordnaren", coordinator=True, absences=((day(4), day(4)),))
    staff = [coord, anna, bo]
    visits = [StaffVisit((10, 1), day(1), label="Kiruna"), StaffVisit((11, 1), day(4), label="Visby"),
              StaffVisit((12, 1), day(3), overnight_before=True, label="Umeå")]
    with pytest.raises(StaffingError) as err:
        S.assign(visits, staff, 1)
    text = "\n".join(err.value.problems)
    assert "2015-03-06: samordnaren är ledig, men ska vara med på besöket Visby" in text
    assert "2015-03-03: besöket Kiruna behöver 1 medarbetare utöver samordnaren, men bara 0 är på plats" in text
    assert "Umeå" not in text  # Anna is back for Umeå's travel day
    # two companions are needed for Umeå: Bo is away on its travel day
    with pytest.raises(StaffingError) as err:
        S.assign(visits[2:], staff, 2)
    assert err.value.problems == [
        "2015-03-05: besöket Umeå behöver 2 medarbetare utöver samordnaren, men bara 1 är på plats"]


def test_inactive_staff_are_never_booked_and_a_coordinator_is_required():
    gone = StaffMember(2, "Anna", active=False)
    staff = team(gone, StaffMember(3, "Bo"))
    visits = [StaffVisit((i, 1), day(i)) for i in range(4)]
    a = S.assign(visits, staff, 1)
    assert all(a.staff[v.key] == (1, 3) for v in visits)
    assert 2 not in a.load
    with pytest.raises(StaffingError) as err:
        S.assign(visits, [StaffMember(1, "Samordnaren", coordinator=True, active=False), StaffMember(3, "Bo")], 1)
    assert err.value.problems == ["Ingen aktiv medarbetare är angiven som samordnare"]


# --------------------------------------------------------------------------
# Balance and trips
# --------------------------------------------------------------------------


def test_thirty_visits_three_staff_ten_each():
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"), StaffMember(4, "Cecilia"))
    visits = [StaffVisit((i, 1), day(i)) for i in range(30)]
    a = S.assign(visits, staff, 1)
    assert_valid(visits, staff, 1, a)
    assert a.load == {1: 30, 2: 10, 3: 10, 4: 10}


def test_balance_with_two_companions_per_visit():
    staff = team(*(StaffMember(i, f"P{i}") for i in range(2, 6)))
    visits = [StaffVisit((i, 1), day(i)) for i in range(10)]
    a = S.assign(visits, staff, 2)
    assert_valid(visits, staff, 2, a)
    assert sorted(a.load[p] for p in range(2, 6)) == [5, 5, 5, 5]


def test_a_whole_trip_keeps_the_same_companion_where_possible():
    anna, bo, cilla = StaffMember(2, "Anna"), StaffMember(3, "Bo"), StaffMember(4, "Cecilia")
    # Bo is away on the trip's Wednesday: the companion for the whole trip is one who can do it all
    bo = StaffMember(3, "Bo", absences=((day(9), day(9)),))
    staff = team(anna, bo, cilla)
    visits = [StaffVisit((1, 1), day(0)), StaffVisit((2, 1), day(2))]  # two lone visits first
    visits += [StaffVisit((10 + k, 1), day(7 + k), trip=11, overnight_before=k == 0, overnight_after=k == 2)
               for k in range(3)]
    a = S.assign(visits, staff, 1)
    assert_valid(visits, staff, 1, a)
    companions = {a.staff[(10 + k, 1)] for k in range(3)}
    assert len(companions) == 1, a.staff
    (only,) = companions
    assert only[1] != 3
    # where nobody can do the whole trip, the one who can do most does most of it
    anna = StaffMember(2, "Anna", absences=((day(7), day(7)),))
    bo = StaffMember(3, "Bo", absences=((day(8), day(9)),))
    a = S.assign(visits[2:], team(anna, bo), 1)
    assert_valid(visits[2:], team(anna, bo), 1, a)
    assert [a.staff[(10 + k, 1)][1] for k in range(3)] == [3, 2, 2]


def test_levelling_keeps_trips_whole():
    """Ten trips of three visits between three companions: whole trips, loads 12/9/9 in some order."""
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"), StaffMember(4, "Cecilia"))
    visits = [StaffVisit((w * 10 + k, 1), day(7 * w + k), trip=w) for w in range(10) for k in range(3)]
    a = S.assign(visits, staff, 1)
    assert_valid(visits, staff, 1, a)
    for w in range(10):
        assert len({a.staff[(w * 10 + k, 1)] for k in range(3)}) == 1
    assert sorted(a.load[p] for p in (2, 3, 4)) == [9, 9, 12]


# --------------------------------------------------------------------------
# keep=
# --------------------------------------------------------------------------


def test_keep_is_honoured_and_an_invalid_keep_is_replaced():
    staff = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"), StaffMember(4, "Cecilia"))
    visits = [StaffVisit((i, 1), day(i)) for i in range(6)]
    first = S.assign(visits, staff, 1)
    assert [first.staff[v.key][1] for v in visits] == [2, 3, 4, 2, 3, 4]
    # the office booked Cecilia on the first three: a re-plan keeps that
    keep = {(0, 1): (1, 4), (1, 1): (4,), (2, 1): (1, 4)}
    a = S.assign(visits, staff, 1, keep=keep)
    assert_valid(visits, staff, 1, a)
    assert [a.staff[(i, 1)][1] for i in range(3)] == [4, 4, 4]
    assert a.load[2] + a.load[3] == 3  # the rest go to the others
    # Cecilia is now away on day 1: only that visit gets somebody else
    away = StaffMember(4, "Cecilia", absences=((day(1), day(1)),))
    staff2 = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"), away)
    a = S.assign(visits, staff2, 1, keep=keep)
    assert_valid(visits, staff2, 1, a)
    assert a.staff[(0, 1)] == (1, 4) and a.staff[(2, 1)] == (1, 4)
    assert a.staff[(1, 1)][1] in (2, 3)
    # an inactive or unknown kept member is replaced, keep for a visit no longer planned is ignored
    staff3 = team(StaffMember(2, "Anna"), StaffMember(3, "Bo"), StaffMember(4, "Cecilia", active=False))
    a = S.assign(visits, staff3, 1, keep={**keep, (3, 1): (99,), (77, 2): (2,)})
    assert_valid(visits, staff3, 1, a)
    assert set(a.load) == {1, 2, 3} and a.load[2] == a.load[3] == 3


def test_keep_never_gives_more_companions_than_needed_and_fills_a_raised_need():
    staff = team(*(StaffMember(i, f"P{i}") for i in range(2, 6)))
    visits = [StaffVisit((0, 1), day(0)), StaffVisit((1, 1), day(1))]
    a = S.assign(visits, staff, 1, keep={(0, 1): (5, 4, 3)})
    assert a.staff[(0, 1)] == (1, 5)
    a = S.assign(visits, staff, 3, keep={(0, 1): (5,)})
    assert_valid(visits, staff, 3, a)
    assert 5 in a.staff[(0, 1)] and len(a.staff[(0, 1)]) == 4


# --------------------------------------------------------------------------
# unavailable_days
# --------------------------------------------------------------------------


def test_unavailable_days_gives_the_days_and_the_reasons():
    coord = StaffMember(1, "Samordnaren", coordinator=True, absences=((day(2), day(3)),))
    anna = StaffMember(2, "Anna", absences=((day(0), day(4)),))
    bo = StaffMember(3, "Bo", absences=((day(3), day(5)),))
    cilla = StaffMember(4, "Cecilia", absences=((day(5), day(5)),))
    gone = StaffMember(5, "Dan", active=False)
    staff = [coord, anna, bo, cilla, gone]
    got = S.unavailable_days(staff, 2, day(0), day(7))
    assert got == [
        (day(2), "Samordnaren är ledig"),
        (day(3), "Samordnaren är ledig"),  # the coordinator's absence is named first
        (day(4), "För få medarbetare på plats (2 av 3 lediga)"),
        (day(5), "För få medarbetare på plats (2 av 3 lediga)"),
    ]
    assert S.unavailable_days(staff, 3, day(0), day(1)) == [
        (day(0), "För få medarbetare på plats (1 av 3 lediga)"),
        (day(1), "För få medarbetare på plats (1 av 3 lediga)"),
    ]
    assert S.unavailable_days(staff, 1, day(0), day(7)) == [
        (day(2), "Samordnaren är ledig"), (day(3), "Samordnaren är ledig")]
    assert S.unavailable_days(staff, 4, day(6), day(6)) == [
        (day(6), "För få medarbetare: 3 finns, 4 behövs på varje besök")]
    # English through the catalogue's translation
    en = {"Samordnaren är ledig": "The coordinator is away"}
    assert S.unavailable_days(staff, 1, day(2), day(2), gettext=lambda s: en.get(s, s)) == [
        (day(2), "The coordinator is away")]


def test_a_plan_on_the_other_days_can_always_be_staffed():
    rng = random.Random(5)
    for _ in range(30):
        staff = random_staff(rng, 4, day(0), day(40))
        need = rng.randint(1, 3)
        off = {d for d, _ in S.unavailable_days(staff, need, day(0), day(40))}
        days = [d for d in (day(i) for i in range(41)) if d not in off]
        visits = [StaffVisit((i, 1), d) for i, d in enumerate(days)]  # one a day, no travel days
        a = S.assign(visits, staff, need)
        assert_valid(visits, staff, need, a)


# --------------------------------------------------------------------------
# Properties over random cases
# --------------------------------------------------------------------------


def random_staff(rng: random.Random, n: int, first: date, last: date) -> list[StaffMember]:
    span = (last - first).days
    out = []
    for i in range(1, n + 1):
        absences = []
        for _ in range(rng.randint(0, 3)):
            s = first + timedelta(days=rng.randint(0, span))
            absences.append((s, s + timedelta(days=rng.randint(0, 4))))
        out.append(StaffMember(i, f"P{i}", coordinator=i == 1, absences=tuple(absences),
                               active=i == 1 or rng.random() > 0.1))
    return out


def random_visits(rng: random.Random, n: int, spacing: int, min_gap: int = 1) -> list[StaffVisit]:
    visits, d, trip = [], day(0), 0
    while len(visits) < n:
        if rng.random() < 0.4:  # a trip of 2-3 visits on following days
            trip += 1
            for k in range(rng.randint(2, 3)):
                visits.append(StaffVisit((len(visits), 1), d, trip=trip, overnight_before=True,
                                         overnight_after=True))
                d += timedelta(days=1)
        else:
            visits.append(StaffVisit((len(visits), 1), d, overnight_before=rng.random() < 0.2,
                                     overnight_after=rng.random() < 0.2))
        d += timedelta(days=rng.randint(min_gap, max(min_gap, spacing)))
    return visits[:n]


@pytest.mark.parametrize("seed", range(40))
def test_random_cases_keep_every_rule_and_refuse_only_the_impossible(seed):
    rng = random.Random(seed)
    visits = random_visits(rng, rng.randint(3, 7), spacing=rng.choice([1, 2, 4]))
    staff = random_staff(rng, rng.randint(2, 4), day(-2), visits[-1].date + timedelta(days=2))
    need = rng.randint(1, 2)
    # brute force: every choice of companions per visit
    others = [s.id for s in staff if s.active and not s.coordinator]
    choices = list(itertools.combinations(others, need))
    best = None
    for combo in itertools.product(choices, repeat=len(visits)) if choices else []:
        cand = Assignment({v.key: (1, *c) for v, c in zip(visits, combo)}, {})
        load = Counter(p for c in combo for p in c)
        cand = Assignment(cand.staff, {1: len(visits), **{p: load[p] for p in others}})
        if not independent_problems(visits, staff, need, cand):
            spread = max(cand.load[p] for p in others) - min(cand.load[p] for p in others)
            best = spread if best is None else min(best, spread)
    try:
        a = S.assign(visits, staff, need)
    except StaffingError as err:
        assert best is None, f"an assignment exists (spread {best}) but assign said {err.problems}"
        assert err.problems and all(re.match(r"\d{4}-\d\d-\d\d: ", p) for p in err.problems)
        return
    assert best is not None
    assert_valid(visits, staff, need, a)
    shuffled = list(visits)
    rng.shuffle(shuffled)
    assert S.assign(shuffled, list(reversed(staff)), need) == a  # deterministic, whatever the order
    if not any(v.trip for v in visits):
        spread = max(a.load[p] for p in others) - min(a.load[p] for p in others)
        assert spread == best


@pytest.mark.parametrize("seed", range(5))
def test_large_random_plans_are_valid_and_even(seed):
    rng = random.Random(1000 + seed)
    visits = random_visits(rng, 600, spacing=4, min_gap=3)  # travel days never touch
    staff = [COORD] + [StaffMember(i, f"P{i}", absences=tuple(
        (d, d + timedelta(days=rng.randint(0, 10)))
        for d in (visits[rng.randrange(600)].date for _ in range(3)))) for i in range(2, 12)]
    a = S.assign(visits, staff, 2)
    assert_valid(visits, staff, 2, a)
    loads = [a.load[p] for p in range(2, 12)]
    assert max(loads) - min(loads) <= 3


def test_no_companions_extreme_dates_and_bad_settings():
    staff = team(StaffMember(2, "Anna"))
    visits = [StaffVisit((1, 1), date.min, overnight_before=True),
              StaffVisit((2, 1), date.max, overnight_after=True)]
    a = S.assign(visits, staff, 0)
    assert a.staff == {(1, 1): (1,), (2, 1): (1,)} and a.load == {1: 2, 2: 0}
    assert_valid(visits, staff, 0, a)
    a = S.assign(visits, staff, 1)
    assert_valid(visits, staff, 1, a)
    assert S.unavailable_days(staff, 2, date.max - timedelta(days=1), date.max) == [
        (date.max - timedelta(days=1), "För få medarbetare: 1 finns, 2 behövs på varje besök"),
        (date.max, "För få medarbetare: 1 finns, 2 behövs på varje besök")]
    with pytest.raises(StaffingError) as err:
        S.assign(visits + [visits[0]], [*staff, StaffMember(2, "Bo"), StaffMember(3, "Cilla", coordinator=True)], -1)
    assert err.value.problems == [
        "Antalet medarbetare per besök måste vara 0 eller fler, inte -1",
        "Medarbetaren med nummer 2 finns med flera gånger",
        "Flera aktiva medarbetare är angivna som samordnare (Samordnaren, Cilla); det ska vara en",
        "Besöket plats 1, omgång 1 finns med flera gånger",
    ]


# --------------------------------------------------------------------------
# Translations
# --------------------------------------------------------------------------


def test_every_message_has_an_english_translation():
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[1] / "coordinator" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with open(po, "rb") as f:
        catalog = read_po(f)
    for template in S.MESSAGES.values():
        msg = catalog.get(template)
        assert msg is not None and msg.string, template
        fields = set(re.findall(r"{(\w+)}", template))
        assert set(re.findall(r"{(\w+)}", msg.string)) == fields, template


def test_refusals_read_in_english_through_the_catalogue():
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[1] / "coordinator" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with open(po, "rb") as f:
        catalog = read_po(f)

    def english(s: str) -> str:
        msg = catalog.get(s)
        return msg.string if msg is not None and msg.string else s

    visits = [StaffVisit((1, 1), day(0)), StaffVisit((2, 1), day(0), label="Visby")]
    with pytest.raises(StaffingError) as err:
        S.assign(visits, team(StaffMember(2, "Anna")), 1, gettext=english)
    assert err.value.problems == [
        "2015-03-02: both site 1, round 1 and Visby fall on that day. The coordinator can be on one visit a day"]
