"""When each visit happens: a calendar of the two visit rounds that keeps every
rule, spreads each round evenly over its months, and keeps the office's
travelling short.

Plain words
-----------
*The rules* (``Rules``; every one is data, the 2014-2017 assignment is only the
default): each round has a window of dates; visits fall on working days, that
is Monday to Friday, not a Swedish public holiday, not inside a blackout
period (July, Christmas) and not in the week before a report is due (the
seven days before each of ``report_dues``, while ``free_week_before_report``
is on); at most ``max_per_day`` visits a day and ``max_per_week`` an ISO week
(the office is a handful of people); a site's second visit comes at least
``min_gap_days`` after its first; a visit that is already booked
(``VisitRequest.pinned``) keeps its date; no visit is put before ``earliest``
(today, when re-planning).

*The windows* come from the assignment's phases (``phase_windows``): round 1
from the day the sample was adopted plus the time it takes to send the
invitations (``lead_days``, four weeks by default) to the end of phase 2;
round 2 is phase 4. The office can still edit them. ``report_dues`` gives the
regular reports' due dates with the same arithmetic as the reports' rhythm.

*An even pace* (``level``, on by default). Each round's visits are spread
over the months of its window in proportion to the working days of each
month (``monthly_targets``): a month with 20 possible days gets twice the
visits of a month with 10, a blackout month none. The office can weigh a
month (``pace``: 0.5 makes it half as busy, the other months take the rest).
Every month must stay within one visit of its target (``level_bounds``: at
least the target minus one, rounded up, at most the target plus one, rounded
down). Only within that does the planner look for short travel. Bookings win
over the pace: if booked visits already put a month over its most, or a
month lies partly in the past, its bounds are widened and the plan reports
the largest deviation (``max_deviation``) instead of refusing.

*Public holidays* come from the ``holidays`` package (Sweden, Swedish names,
Sundays left out). It lists Midsummer Eve, Christmas Eve and New Year's Eve
as public holidays too: they are not red days in law but in practice nobody
receives a visit then, so treating them as days off is what we want. They are
added here by hand as well, in case a later version of the package drops them.

*Trips.* The office works from Stockholm (``Rules.home``). A site within
``day_trip_km`` of home is a *day trip*: out and back on the visit day. The
other visits of one ISO week form one *trip*: home -> the sites in date order
-> home. How each trip is travelled (car, train, air or ferry, the hours, the
nights away and the CO2) comes from the travel model (``travel.journey``, its
settings in ``Rules.travel``): Gotland is reached by ferry or air, the far
north by air, most of the country by train. ``travel_summary`` evaluates any
plan this way, the planner's own and the greedy baseline alike, and says for
each visit how the site is reached and whether the team sleeps away the night
before or after (what staffing needs). ``km`` stays the great-circle length
of the routes between the kommun centroids.

*What counts as short travel* (the objective, in minutes):

    for each chosen trip: its travel hours x 60
                          + OVERNIGHT_MINUTES (240, four hours) per night away
                          + KM_MINUTES (0.02) per km travelled
    + MOVE_MINUTES (720, twelve hours) per visit moved off its ``current`` date.

So time on the road comes first, a night away weighs like four hours of
travel, kilometres only decide between otherwise equal trips, and a date
staff have already seen is only moved if that saves more than twelve hours
of travel. A candidate trip is priced as if its visits fell on consecutive
days, in its best order.

*How the plan is found* (``plan``). Candidate trips are groups of up to
``max_per_week`` far-away visits of one round that lie close together: each
visit alone (so any plan that keeps the rules can be expressed), with its
nearest neighbours in pairs and triples, grown groups, and the trips of
Clarke & Wright's savings heuristic. Three stages, all CP-SAT but B:

A. choose the trips: a set partition of the far-away visits over the
   candidates, the calendar left aside (its LP bound is tight, so it is
   usually solved to proven optimality in well under a second);
B. put the chosen trips into ISO weeks, round by round, each into the month
   furthest behind its even pace (earliest week first within it) and never
   over a month's most, each trip's days in its route order, keeping every
   rule; if every month then has at least its least and no visit has a
   ``current`` date, this is the plan;
C. otherwise the full model: a working day per visit, all the rules and the
   monthly bounds as constraints, each far-away visit on exactly one chosen
   candidate whose visits share an ISO week, and the moves. It starts from
   the current dates (repaired where they now break a rule or the pace) or
   from a levelled greedy start.

After the solve the dates within each week are put in route order (only
where that moves no visit off a ``current`` date and keeps every rule). Every
plan is checked by ``check`` before it is returned; "OPTIMAL" means optimal
over the candidate trips.

*Re-planning.* If every visit already has a date (``current`` or ``pinned``),
no booking differs from its current date and together the dates keep every
rule, they are returned unchanged. To optimise from scratch, leave
``current`` empty.

*Reproducible.* Same input, same plan, on an idle machine or a loaded one:
CP-SAT runs one worker (a sequential, deterministic search) with a fixed seed
and a *deterministic* budget for every stage, computed from the input alone
(``SolverSettings.dtime``, or the seconds of ``budget`` times
``DTIME_PER_SECOND``; stage A gets ``STAGE_A_SHARE`` of it, stage C the
rest; a re-plan, which starts from a complete plan, skips A and B and gives
C ``REPLAN_SHARE``). No stage gets "whatever time is left". A wall-clock cap remains as a
safety net only, many times the budget's usual wall time (if it ever fires,
on a far slower machine, the plan may differ). With ``workers > 1`` the
interleaved parallel search keeps this property but was 5-15x slower here.

*When no plan exists* the reason is named in Swedish (``PlanningError``):
cheap counting checks first (fixed dates on days off or outside the window,
too few possible visit days in a window, a gap that cannot be kept, a month
without room for its least number of visits), then, if CP-SAT still proves
the rules contradictory, the smallest group of rules it can find that cannot
hold together (CP-SAT assumptions).

Pure Python + OR-Tools + holidays: no Flask or database here. OR-Tools is
imported only when a plan is made, so importing this module stays light.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import travel as T
from .travel import TravelSettings
from .workdays import swedish_holidays  # noqa: F401  (the planner's API)

# --------------------------------------------------------------------------
# Weights and solver defaults (documented in the module docstring)
# --------------------------------------------------------------------------

# The objective, in minutes (see the module docstring).
OVERNIGHT_MINUTES = 240  # a night away from home
KM_MINUTES = 0.02  # a kilometre travelled (so km only decide between otherwise equal trips)
MOVE_MINUTES = 720  # a visit moved off its current date
# Earlier km-based weights, kept for callers that still pass them; the planner no longer uses them.
MOVE_PENALTY_KM = 1000
TRAVEL_DAY_KM = 100
# CP-SAT deterministic time per wall second, one worker, measured on the
# planning models of benchmarks/bench_scheduling.py (0.12-0.2 on 2 cores): the
# budget is deterministic so that a slower machine gives the same plan, later.
DTIME_PER_SECOND = 0.12
# Whether plan() refuses a plan off the even pace (Rules.level): the solver levels.
LEVEL_ENFORCED = True
STAGE_A_SHARE = 0.3  # of the deterministic budget: stage A; the rest goes to stage C
REPLAN_SHARE = 0.35  # a re-plan (current dates given) skips A and B: stage C gets this share
WALL_SAFETY = 4  # wall-clock cap = 20 s + this many times the budget's usual wall time
DIAGNOSE_DTIME = 1.5  # deterministic budget to name a contradiction
HOME_STOCKHOLM = (59.3293, 18.0686)
EARTH_RADIUS_KM = 6371.0088


def N_(s: str) -> str:
    """Mark a string for translation extraction (pybabel knows ``N_``)."""
    return s


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    id: int
    label: str
    lat: float
    lon: float
    kommunkod: str | None = None  # "0980" is Gotland (travel.py); None: told by the coordinates

    def place(self) -> T.Place:
        return T.Place(self.lat, self.lon, self.kommunkod, self.label)


@dataclass(frozen=True)
class VisitRequest:
    site_id: int
    round: int
    pinned: date | None = None  # booked (invited/confirmed): the plan keeps it
    current: date | None = None  # present proposal: re-planning moves as few as it can

    @property
    def key(self) -> tuple[int, int]:
        return (self.site_id, self.round)


@dataclass(frozen=True)
class Blackout:
    start: date
    end: date  # inclusive
    label: str = ""

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    @property
    def text(self) -> str:
        span = f"{self.start.isoformat()}–{self.end.isoformat()}"
        return f"{self.label}, {span}" if self.label else span


@dataclass(frozen=True)
class Rules:
    windows: Mapping[int, tuple[date, date]]  # round -> (first, last) day, inclusive
    blackouts: tuple[Blackout, ...] = ()
    max_per_day: int = 1
    max_per_week: int = 3
    min_gap_days: int = 90  # a site's round r+1 date minus its round r date
    home: tuple[float, float] = HOME_STOCKHOLM  # (lat, lon)
    day_trip_km: float = 100.0
    earliest: date | None = None  # no new date before this (today, when re-planning)
    # (year, month) -> weight on the even pace: 1.0 even, 0.5 half as many visits; missing = 1.0.
    pace: Mapping[tuple[int, int], float] = field(default_factory=dict)
    level: bool = True  # each round's visits per month within one of the even pace (monthly_targets)
    report_dues: tuple[date, ...] = ()  # due dates of the regular reports
    free_week_before_report: bool = True  # due - 7 .. due - 1 are days off
    travel: TravelSettings | None = None  # None: TravelSettings(), the travel model's defaults

    def __post_init__(self) -> None:
        windows = {int(r): (s, e) for r, (s, e) in sorted(self.windows.items())}
        for r, (s, e) in windows.items():
            if s > e:
                raise ValueError(f"Omgång {r}: fönstret slutar före det börjar")
        if self.max_per_day < 1 or self.max_per_week < 1 or self.min_gap_days < 0:
            raise ValueError("max_per_day och max_per_week måste vara minst 1, min_gap_days minst 0")
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "blackouts", tuple(sorted(self.blackouts, key=lambda b: (b.start, b.end))))
        pace = {(int(y), int(m)): float(w) for (y, m), w in sorted(dict(self.pace or {}).items())}
        if any(not (0 <= w < math.inf) for w in pace.values()):
            raise ValueError("Takten för en månad måste vara ett tal från 0 och uppåt")
        object.__setattr__(self, "pace", pace)
        object.__setattr__(self, "report_dues", tuple(sorted(set(self.report_dues))))
        object.__setattr__(self, "travel", self.travel or TravelSettings())
        # The days off for the report weeks, looked up on every day_off call.
        weeks: dict[date, date] = {}
        if self.free_week_before_report:
            for due in self.report_dues:
                for k in range(7, 0, -1):
                    try:
                        weeks.setdefault(due - timedelta(days=k), due)
                    except OverflowError:
                        continue
        object.__setattr__(self, "_report_week", weeks)

    # Calendar --------------------------------------------------------------

    def day_off(self, d: date) -> Issue | None:
        """Why ``d`` is no working day (holiday before weekend before blackout), or None."""
        name = swedish_holidays(d.year).get(d)
        if name:
            return Issue("holiday", {"date": d.isoformat(), "holiday": _holiday_phrase(name)})
        if d.weekday() >= 5:
            return Issue("weekend", {"date": d.isoformat(), "weekday": _WEEKDAYS[d.weekday()]})
        for b in self.blackouts:
            if b.contains(d):
                return Issue("blackout", {"date": d.isoformat(), "blackout": b.text})
        due = self._report_week.get(d)  # type: ignore[attr-defined]
        if due is not None:
            return Issue("report_week", {"date": d.isoformat(), "due": due.isoformat()})
        return None

    def is_working_day(self, d: date) -> bool:
        return self.day_off(d) is None

    def working_days(self, start: date, end: date) -> list[date]:
        return [d for d in _daterange(start, end) if self.is_working_day(d)]

    def allowed_days(self, round_: int) -> list[date]:
        """Working days in the round's window, not before ``earliest``."""
        start, end = self.windows[round_]
        if self.earliest is not None:
            start = max(start, self.earliest)
        return self.working_days(start, end)


def default_rules(earliest: date | None = None) -> Rules:
    """The 2014-2017 assignment: round 1 in 2015, round 2 from 2016 Q2."""
    return Rules(
        windows={1: (date(2015, 1, 12), date(2015, 12, 31)), 2: (date(2016, 4, 1), date(2016, 12, 15))},
        blackouts=(
            Blackout(date(2015, 7, 1), date(2015, 7, 31), "juli"),
            Blackout(date(2015, 12, 21), date(2016, 1, 6), "jul och nyår"),
            Blackout(date(2016, 7, 1), date(2016, 7, 31), "juli"),
            Blackout(date(2016, 12, 19), date(2017, 1, 6), "jul och nyår"),
        ),
        earliest=earliest,
    )


@dataclass(frozen=True)
class SolverSettings:
    time_limit_s: float | None = None  # None: 0.08 s per visit, 4-55 s
    # 1: measured on 2 cores, CP-SAT's deterministic parallel mode (interleave_search)
    # was 5-15x slower in wall time than one worker on these models, and the free
    # parallel mode is not reproducible.
    workers: int = 1
    seed: int = 20150112
    move_penalty_km: int = MOVE_PENALTY_KM  # no longer used (the objective is in minutes)
    travel_day_km: int = TRAVEL_DAY_KM  # no longer used
    move_minutes: int = MOVE_MINUTES
    near: int = 8  # neighbours per site when building candidate trips
    prechecks: bool = True  # False only to exercise the solver's own diagnosis
    dtime: float | None = None  # deterministic budget (CP-SAT units) for the whole plan; None: from the input

    def budget(self, n_visits: int) -> float:
        if self.time_limit_s is not None:
            return float(self.time_limit_s)
        return min(55.0, max(4.0, 0.08 * n_visits))

    def deterministic_budget(self, n_visits: int) -> float:
        """CP-SAT's deterministic time for the whole plan, from the input only."""
        if self.dtime is not None:
            return float(self.dtime)
        return self.budget(n_visits) * DTIME_PER_SECOND


@dataclass(frozen=True)
class Trip:
    round: int | None  # None if the week mixes rounds (overlapping windows)
    dates: tuple[date, ...]
    site_ids: tuple[int, ...]  # in travel order (= date order)
    km: float  # great-circle km of the route (the planner's distance measure)
    day_trip: bool = False
    hours: float = 0.0  # travel hours of the journey (travel.journey), the visits not included
    overnights: int = 0
    co2_kg: float = 0.0  # per traveller
    mode: str = ""  # how the trip is mainly made (the mode of its longest leg)

    @property
    def travel_days(self) -> int:
        return 0 if self.day_trip else 2


Key = tuple[int, int]  # (site_id, round)


@dataclass(frozen=True)
class TravelSummary:
    km: float  # great-circle km (sum of the trips' km)
    trips: tuple[Trip, ...]
    hours: float = 0.0  # travel hours of every journey (travel.journey)
    overnights: int = 0
    co2_kg: float = 0.0
    by_mode: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # travel.by_mode
    modes: Mapping[Key, str] = field(default_factory=dict)  # the mode of the leg that arrives at the site
    # (away the night before, away the night after): staffing.StaffVisit.overnight_before/after
    nights: Mapping[Key, tuple[bool, bool]] = field(default_factory=dict)

    @property
    def travel_days(self) -> int:
        return sum(t.travel_days for t in self.trips)

    @property
    def day_trips(self) -> int:
        return sum(1 for t in self.trips if t.day_trip)


@dataclass(frozen=True)
class PlanStats:
    km: float  # by travel_km()
    travel_days: int
    trips: int  # overnight trips
    day_trips: int
    moved: int  # non-pinned visits whose date differs from ``current``
    status: str  # OPTIMAL / FEASIBLE (time budget used up) / UNCHANGED
    wall_s: float
    objective: float | None = None  # the solver's objective (see weights)
    bound: float | None = None  # its proven lower bound, over the candidate trips
    travel_hours: float = 0.0
    overnights: int = 0
    co2_kg: float = 0.0
    by_mode: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    monthly_load: Mapping[int, Mapping[str, int]] = field(default_factory=dict)  # round -> {"YYYY-MM": n}
    monthly_targets: Mapping[int, Mapping[str, float]] = field(default_factory=dict)  # round -> even pace
    max_deviation: float = 0.0  # largest |count - target| over rounds and months
    dtime: float = 0.0  # CP-SAT deterministic time used (0 when no solver ran)


@dataclass(frozen=True)
class Plan:
    dates: Mapping[tuple[int, int], date]  # (site_id, round) -> date
    trips: tuple[Trip, ...]
    stats: PlanStats
    modes: Mapping[tuple[int, int], str] = field(default_factory=dict)  # how each site is reached
    nights: Mapping[tuple[int, int], tuple[bool, bool]] = field(default_factory=dict)  # away before/after


# --------------------------------------------------------------------------
# Messages (Swedish; templates marked for translation, values filled after)
# --------------------------------------------------------------------------

MESSAGES: dict[str, str] = {
    # check(): one broken rule in a plan
    "missing": N_("Besöket i {site} (omgång {round}) saknar datum"),
    "unknown_site": N_("Okänd besöksplats {site}"),
    "no_window": N_("Omgång {round} har inget fönster"),
    "duplicate_visit": N_("Besöket i {site} (omgång {round}) finns med flera gånger"),
    "weekend": N_("{date} är en {weekday}"),
    "holiday": N_("{date} är {holiday}"),
    "blackout": N_("{date} ligger i en spärrperiod ({blackout})"),
    "report_week": N_("{date} ligger i veckan före rapporten som ska lämnas {due}"),
    "level": N_(
        "Omgång {round} har {count} besök i {month}, men en jämn takt ger {target} "
        "(högst ett besök mer eller mindre)"
    ),
    "window": N_("Besöket i {site} {date} ligger utanför omgång {round}:s fönster ({start}–{end})"),
    "earliest": N_("Besöket i {site} {date} ligger före {earliest}, det tidigaste tillåtna datumet"),
    "pinned_moved": N_("Besöket i {site} (omgång {round}) är bokat {pinned}, men planen säger {date}"),
    "per_day": N_("{count} besök {date} (högst {limit} per dag)"),
    "per_week": N_("{count} besök vecka {week} {year} (högst {limit})"),
    "gap": N_("Bara {days} dagar mellan besöken i {site} (minst {min})"),
    "order": N_("Omgång {later} i {site} ({date_later}) ligger före omgång {earlier} ({date_earlier})"),
    # plan(): why no plan exists
    "pinned_weekend": N_("Det fasta besöket i {site} {date} är en {weekday}"),
    "pinned_holiday": N_("Det fasta besöket i {site} {date} är {holiday}"),
    "pinned_blackout": N_("Det fasta besöket i {site} {date} ligger i en spärrperiod ({blackout})"),
    "pinned_report_week": N_("Det fasta besöket i {site} {date} ligger i veckan före rapporten som ska lämnas {due}"),
    "level_capacity": N_(
        "Omgång {round} behöver minst {need} besök i {month} för en jämn takt, men där finns bara "
        "{capacity} möjliga besöksdagar"
    ),
    "bad_phases": N_(
        "Omgång 1 skulle börja {start}, efter att fas 2 slutar {end}: ändra fasernas datum eller "
        "tiden för inbjudningar"
    ),
    "no_phase": N_("Fas {phase} saknas: besöksomgångarnas fönster kan inte räknas fram"),
    "pinned_window": N_("Det fasta besöket i {site} {date} ligger utanför omgång {round}:s fönster ({start}–{end})"),
    "pinned_per_day": N_("De fasta besöken ger {count} besök {date} (högst {limit} per dag)"),
    "pinned_per_week": N_("De fasta besöken ger {count} besök vecka {week} {year} (högst {limit})"),
    "no_day": N_("Besöket i {site} (omgång {round}) har ingen möjlig besöksdag i fönstret {start}–{end}"),
    "capacity": N_(
        "Omgång {round} har {count} besök men bara {capacity} möjliga besöksdagar i fönstret "
        "{start}–{end} (högst {per_day} per dag, {per_week} per vecka)"
    ),
    "capacity_gap": N_(
        "Omgång {round} har {count} besök men bara {capacity} möjliga besöksdagar i fönstret "
        "{start}–{end} (högst {per_day} per dag, {per_week} per vecka, minst {gap} dagar mellan omgångarna)"
    ),
    "capacity_total": N_(
        "Omgångarna har tillsammans {count} besök men bara {capacity} möjliga besöksdagar "
        "{start}–{end} (högst {per_day} per dag, {per_week} per vecka)"
    ),
    "gap_both": N_(
        "Minsta avstånd {min} dagar mellan besöken i {site} går inte att hålla: omgång {r1} är bokad "
        "{d1} och omgång {r2} är bokad {d2}"
    ),
    "gap_first": N_(
        "Minsta avstånd {min} dagar mellan besöken i {site} går inte att hålla: omgång {r1} är bokad "
        "{d1} och omgång {r2}:s fönster slutar {end}"
    ),
    "gap_second": N_(
        "Minsta avstånd {min} dagar mellan besöken i {site} går inte att hålla: omgång {r2} är bokad "
        "{d2} och omgång {r1}:s fönster börjar {start}"
    ),
    "gap_windows": N_(
        "Minsta avstånd {min} dagar mellan besöken i {site} går inte att hålla: omgång {r1}:s fönster "
        "börjar {start} och omgång {r2}:s fönster slutar {end}"
    ),
    "conflict": N_("Ingen plan håller alla regler samtidigt. Dessa går inte att förena: {rules}"),
    "timeout": N_("Ingen plan hittades inom tidsgränsen ({seconds} s). Försök med längre tid eller färre fasta besök."),
    # parts of "conflict"
    "rule_per_day": N_("högst {limit} besök per dag"),
    "rule_per_week": N_("högst {limit} besök per vecka"),
    "rule_window": N_("omgång {round}:s fönster {start}–{end}"),
    "rule_earliest": N_("inga besök före {earliest}"),
    "rule_gap": N_("minst {min} dagar mellan besöken i {sites}"),
    "rule_pinned": N_("de fasta besöken {visits}"),
    "rule_level": N_("en jämn takt per månad"),
}


@dataclass(frozen=True)
class Issue:
    """A message: ``code`` names the template, ``params`` fill it."""

    code: str
    params: Mapping[str, object]

    @property
    def text(self) -> str:
        return describe(self)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted((k, str(v)) for k, v in self.params.items()))))


def describe(issue: Issue, gettext: Callable[[str], str] = lambda s: s) -> str:
    """Message text: translate the template first, then fill in the values."""
    return gettext(MESSAGES[issue.code]).format(**issue.params)


@dataclass(frozen=True)
class Violation:
    """One hard rule a plan breaks; ``message`` is Swedish, for staff."""

    code: str
    message: str
    site_id: int | None = None
    round: int | None = None
    date: date | None = None
    issue: Issue | None = field(default=None, compare=False)


class PlanningError(Exception):
    """No plan keeps every rule; ``problems`` says why (Swedish, for staff)."""

    def __init__(self, problems: list[str], issues: list[Issue] | None = None):
        super().__init__("; ".join(problems))
        self.problems = problems
        self.issues = issues or []


def _raise(issues: list[Issue]) -> None:
    raise PlanningError([i.text for i in issues], issues)


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------

_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def _holiday_phrase(name: str) -> str:
    # "Midsommarafton" reads "är midsommarafton"; proper nouns keep their capital.
    name = name.split(";")[0].strip()
    return name if name.startswith("Sveriges") else name[:1].lower() + name[1:]


def _daterange(start: date, end: date) -> Iterable[date]:
    for i in range((end - start).days + 1):
        yield start + timedelta(days=i)


def _iso_week(d: date) -> tuple[int, int]:
    y, w, _ = d.isocalendar()
    return (y, w)


# --------------------------------------------------------------------------
# Geography and trips
# --------------------------------------------------------------------------


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _route_km(points: Sequence[tuple[float, float]], home: tuple[float, float]) -> float:
    stops = [home, *points, home]
    return sum(haversine_km(stops[i], stops[i + 1]) for i in range(len(stops) - 1))


def _week_trips(dates: Mapping[tuple[int, int], date], by_id: Mapping[int, Site],
                rules: Rules) -> list[tuple[Trip, list[int]]]:
    """The trips of a plan by the trip definition, km only, each with its site ids in travel order."""
    weeks: dict[tuple[int, int], list[tuple[date, int, int]]] = defaultdict(list)
    for (site_id, round_), d in dates.items():
        weeks[_iso_week(d)].append((d, site_id, round_))
    trips: list[Trip] = []
    for wk in sorted(weeks):
        away: list[tuple[date, int, int]] = []
        for d, site_id, round_ in sorted(weeks[wk]):
            s = by_id[site_id]
            home_km = haversine_km(rules.home, (s.lat, s.lon))
            if home_km <= rules.day_trip_km:
                trips.append(Trip(round_, (d,), (site_id,), 2 * home_km, day_trip=True))
            else:
                away.append((d, site_id, round_))
        if away:
            rounds = {r for _, _, r in away}
            km = _route_km([(by_id[i].lat, by_id[i].lon) for _, i, _ in away], rules.home)
            trips.append(Trip(rounds.pop() if len(rounds) == 1 else None,
                              tuple(d for d, _, _ in away), tuple(i for _, i, _ in away), km))
    trips.sort(key=lambda t: (t.dates[0], t.site_ids))
    return trips


def home_place(rules: Rules) -> T.Place:
    return T.Place(rules.home[0], rules.home[1], None, "hem")


def _segment_ends(legs: Sequence[T.Leg], nights: Sequence[int], s: TravelSettings) -> tuple[bool, bool]:
    """(out the evening before, home the day after) of one stretch away, as travel._segment decides it."""
    cap, visit = s.max_day_hours, s.visit_hours
    best: tuple[tuple[int, int], bool, bool] | None = None
    for out_same_day in (True, False):
        if out_same_day and legs[0].hours + visit > cap:
            continue
        overnights = 0 if out_same_day else 1
        long_days = 0 if out_same_day or legs[0].hours <= cap else 1
        load = (legs[0].hours if out_same_day else 0.0) + visit
        for between, n in zip(legs[1:-1], nights):
            overnights += n
            if load + between.hours <= cap:
                load = visit
            else:
                if load > cap:
                    long_days += 1
                load = between.hours + visit
        if load + legs[-1].hours <= cap:
            result, late = (overnights, long_days), False
        else:
            result, late = (overnights + 1, long_days + (load > cap) + (legs[-1].hours > cap)), True
        if best is None or result < best[0]:
            best = (result, not out_same_day, late)
    assert best is not None
    return best[1], best[2]


def trip_journey(stops: Sequence[T.Place], days: Sequence[date] | None, rules: Rules
                 ) -> tuple[T.Journey, list[str], list[tuple[bool, bool]]]:
    """The journey home -> stops -> home (travel.journey), with, per stop, the mode of the leg that
    arrives there and whether the team sleeps away the night before and the night after."""
    s = rules.travel
    assert s is not None
    home = home_place(rules)
    if days is not None and any(b <= a for a, b in zip(days, days[1:])):
        days = None  # two visits on one day: counted as on consecutive days
    j = T.journey(home, stops, s, days)
    nights_between = [(b - a).days for a, b in zip(days, days[1:])] if days is not None else [1] * (len(stops) - 1)
    # Walk the legs travelled: after stop i-1 either the direct leg to stop i, or home and out again.
    modes: list[str] = [j.legs[0].mode]
    segments: list[list[int]] = [[0]]
    pos = 1
    for i in range(1, len(stops)):
        back = T.leg(stops[i - 1], home, s)
        direct = T.leg(stops[i - 1], stops[i], s)
        if j.legs[pos] == back and j.legs[pos] != direct and j.legs[pos + 1] == T.leg(home, stops[i], s):
            modes.append(j.legs[pos + 1].mode)
            segments.append([i])
            pos += 2
        else:
            modes.append(j.legs[pos].mode)
            segments[-1].append(i)
            pos += 1
    flags: list[tuple[bool, bool]] = []
    for seg in segments:
        legs = [T.leg(home, stops[seg[0]], s)]
        legs += [T.leg(stops[a], stops[b], s) for a, b in zip(seg, seg[1:])]
        legs.append(T.leg(stops[seg[-1]], home, s))
        before, after = _segment_ends(legs, [nights_between[a] for a in seg[:-1]], s)
        for k, i in enumerate(seg):
            flags.append((before if k == 0 else True, after if k == len(seg) - 1 else True))
    return j, modes, flags


def travel_summary(dates: Mapping[tuple[int, int], date], sites: Sequence[Site], rules: Rules) -> TravelSummary:
    """Trips, km, travel hours, overnights and CO2 of any plan, by the trip definition in the
    module docstring.

    Per ISO week: each visit to a site within ``rules.day_trip_km`` of home is a
    day trip (home -> site -> home); all other visits of the week, in date
    order (ties by site id), form one trip home -> ... -> home. ``km`` is the
    great-circle length of the routes; hours, overnights and CO2 come from the
    travel model (``travel.journey``, settings ``rules.travel``).
    """
    by_id = {s.id: s for s in sites}
    trips: list[Trip] = []
    journeys: list[T.Journey] = []
    modes: dict[tuple[int, int], str] = {}
    nights: dict[tuple[int, int], tuple[bool, bool]] = {}
    round_of = {(sid, d): r for (sid, r), d in dates.items()}
    for t in _week_trips(dates, by_id, rules):
        j, m, f = trip_journey([by_id[i].place() for i in t.site_ids], t.dates, rules)
        journeys.append(j)
        for i, d, mode, flag in zip(t.site_ids, t.dates, m, f):
            key = (i, round_of[(i, d)])
            modes[key], nights[key] = mode, flag
        trips.append(dataclasses.replace(t, hours=j.hours, overnights=j.overnights, co2_kg=j.co2_kg, mode=j.mode))
    return TravelSummary(
        km=sum(t.km for t in trips), trips=tuple(trips),
        hours=sum(j.hours for j in journeys), overnights=sum(j.overnights for j in journeys),
        co2_kg=sum(j.co2_kg for j in journeys), by_mode=T.by_mode(journeys),
        modes=dict(sorted(modes.items())), nights=dict(sorted(nights.items())),
    )


travel_km = travel_summary  # the earlier name


# --------------------------------------------------------------------------
# Phases, reports and the even pace (pure helpers)
# --------------------------------------------------------------------------


def _add_months(d: date, months: int) -> date:
    """The first of the month ``months`` after d's month."""
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


def phase_windows(phases: Mapping[int, tuple[date, date]], adopted: date | None,
                  lead_days: int) -> dict[int, tuple[date, date]]:
    """The rounds' windows from the assignment's phases.

    Round 1 runs from the sample's adoption plus ``lead_days`` (time to send the
    invitations) to the end of phase 2; without an adoption date, from phase 1's
    start plus ``lead_days``. Round 2 is phase 4. A ValueError (Swedish) if a
    phase is missing or round 1 would start after it ends."""
    for number in (1, 2, 4) if adopted is None else (2, 4):
        if number not in phases:
            raise ValueError(describe(Issue("no_phase", {"phase": number})))
    end = phases[2][1]
    try:
        start = (adopted if adopted is not None else phases[1][0]) + timedelta(days=lead_days)
    except OverflowError:
        start = date.max
    if start > end:
        raise ValueError(describe(Issue("bad_phases", {"start": start.isoformat(), "end": end.isoformat()})))
    return {1: (start, end), 2: (phases[4][0], phases[4][1])}


def report_dues(report_start: date, interval_months: int, due_days: int, start: date, end: date) -> tuple[date, ...]:
    """Due dates of the regular reports whose periods overlap start..end: periods of
    ``interval_months`` months counted (both ways) from ``report_start``'s month,
    each due ``due_days`` after the period's last day (as coordinator/reports/rhythm.py)."""
    months = max(1, interval_months)
    anchor = report_start.replace(day=1)
    if end < start:
        return ()
    offset = (start.year * 12 + start.month) - (anchor.year * 12 + anchor.month)
    p = _add_months(anchor, months * (offset // months))
    out: list[date] = []
    while p <= end:
        try:
            nxt = _add_months(p, months)
            due = nxt - timedelta(days=1) + timedelta(days=max(0, due_days))
        except (ValueError, OverflowError):  # beyond year 9999: no more reports
            break
        if nxt - timedelta(days=1) >= start:
            out.append(due)
        p = nxt
    return tuple(out)


def _month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def monthly_load(dates: Mapping[tuple[int, int], date]) -> dict[int, dict[str, int]]:
    """round -> {"YYYY-MM": visits that month}, months in order."""
    out: dict[int, Counter[str]] = defaultdict(Counter)
    for (_site, r), d in dates.items():
        out[r][_month_key(d)] += 1
    return {r: dict(sorted(out[r].items())) for r in sorted(out)}


def _window_months(rules: Rules, round_: int) -> list[tuple[str, list[date]]]:
    """The months of the round's window with their working days (``earliest`` ignored)."""
    start, end = rules.windows[round_]
    days = rules.working_days(start, end)
    out: list[tuple[str, list[date]]] = []
    m = start.replace(day=1)
    by_month: dict[str, list[date]] = defaultdict(list)
    for d in days:
        by_month[_month_key(d)].append(d)
    while m <= end:
        out.append((_month_key(m), by_month.get(_month_key(m), [])))
        if m.year == date.max.year and m.month == 12:
            break
        m = _add_months(m, 1)
    return out


def monthly_targets(rules: Rules, round_: int, n: int) -> dict[str, float]:
    """The even pace of ``n`` visits over the round's window: per month n x (weighted
    possible days of that month) / (sum of weighted possible days). Possible days are
    the working days of the whole window (``earliest`` ignored); the weight is
    ``rules.pace`` for that month (missing: 1.0)."""
    months = _window_months(rules, round_)
    weighted = {k: len(ds) * rules.pace.get((int(k[:4]), int(k[5:])), 1.0) for k, ds in months}
    total = sum(weighted.values())
    if total <= 0:
        return {k: 0.0 for k in weighted}
    return {k: n * w / total for k, w in weighted.items()}


def level_bounds(target: float) -> tuple[int, int]:
    """The counts within one of the target: (ceil(t - 1) but at least 0, floor(t + 1))."""
    return max(0, math.ceil(target - 1)), math.floor(target + 1)


def max_deviation(dates: Mapping[tuple[int, int], date], rules: Rules) -> float:
    """Largest |count - target| over the rounds of ``dates`` and the months of their windows."""
    load = monthly_load(dates)
    worst = 0.0
    for r, months in load.items():
        if r not in rules.windows:
            continue
        targets = monthly_targets(rules, r, sum(months.values()))
        for k in set(targets) | set(months):
            worst = max(worst, abs(months.get(k, 0) - targets.get(k, 0.0)))
    return round(worst, 3)


# --------------------------------------------------------------------------
# The independent checker
# --------------------------------------------------------------------------


def check(
    plan_dates: Mapping[tuple[int, int], date],
    visits: Sequence[VisitRequest],
    sites: Sequence[Site],
    rules: Rules,
) -> list[Violation]:
    """Every hard rule the dates break (empty list = the plan is valid).

    Written apart from the solver and trusting nothing it did; the app uses it
    to warn when staff move a visit by hand. A pinned visit is exempt from
    ``earliest`` (it is booked, possibly in the past).
    """
    by_id = {s.id: s for s in sites}
    out: list[Violation] = []

    def add(issue: Issue, site_id: int | None = None, round_: int | None = None, d: date | None = None) -> None:
        out.append(Violation(issue.code, issue.text, site_id, round_, d, issue))

    def label(site_id: int) -> str:
        s = by_id.get(site_id)
        return s.label if s else str(site_id)

    seen: set[tuple[int, int]] = set()
    for v in visits:
        if v.site_id not in by_id:
            add(Issue("unknown_site", {"site": v.site_id}), v.site_id, v.round)
        if v.key in seen:
            add(Issue("duplicate_visit", {"site": label(v.site_id), "round": v.round}), v.site_id, v.round)
        seen.add(v.key)
        d = plan_dates.get(v.key)
        if d is None:
            add(Issue("missing", {"site": label(v.site_id), "round": v.round}), v.site_id, v.round)
            continue
        if v.pinned is not None and d != v.pinned:
            add(Issue("pinned_moved", {"site": label(v.site_id), "round": v.round,
                                       "pinned": v.pinned.isoformat(), "date": d.isoformat()}), v.site_id, v.round, d)
        off = rules.day_off(d)
        if off is not None:
            add(off, v.site_id, v.round, d)
        window = rules.windows.get(v.round)
        if window is None:
            add(Issue("no_window", {"round": v.round}), v.site_id, v.round, d)
        elif not window[0] <= d <= window[1]:
            add(Issue("window", {"site": label(v.site_id), "date": d.isoformat(), "round": v.round,
                                 "start": window[0].isoformat(), "end": window[1].isoformat()}),
                v.site_id, v.round, d)
        if rules.earliest is not None and d < rules.earliest and v.pinned != d:
            add(Issue("earliest", {"site": label(v.site_id), "date": d.isoformat(),
                                   "earliest": rules.earliest.isoformat()}), v.site_id, v.round, d)

    planned = [(v, plan_dates[v.key]) for v in visits if v.key in plan_dates]
    per_day = Counter(d for _, d in planned)
    for d, n in sorted(per_day.items()):
        if n > rules.max_per_day:
            add(Issue("per_day", {"count": n, "date": d.isoformat(), "limit": rules.max_per_day}), d=d)
    per_week = Counter(_iso_week(d) for _, d in planned)
    for (y, w), n in sorted(per_week.items()):
        if n > rules.max_per_week:
            add(Issue("per_week", {"count": n, "week": w, "year": y, "limit": rules.max_per_week}))

    by_site: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for v, d in planned:
        by_site[v.site_id].append((v.round, d))
    for site_id in sorted(by_site):
        rounds = sorted(by_site[site_id])
        for (r1, d1), (r2, d2) in zip(rounds, rounds[1:]):
            if d2 < d1:
                add(Issue("order", {"site": label(site_id), "later": r2, "date_later": d2.isoformat(),
                                    "earlier": r1, "date_earlier": d1.isoformat()}), site_id, r2, d2)
            elif (d2 - d1).days < rules.min_gap_days:
                add(Issue("gap", {"site": label(site_id), "days": (d2 - d1).days, "min": rules.min_gap_days}),
                    site_id, r2, d2)
    if rules.level:
        for r, month, count, target in level_breaks(planned, rules):
            add(Issue("level", {"round": r, "month": month, "count": count, "target": f"{target:.1f}"}),
                round_=r)
    return out


def month_bounds(rules: Rules, round_: int, n: int, booked: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """"YYYY-MM" -> (least, most) visits of the round that month: within one of
    ``monthly_targets`` (``level_bounds``), except where bookings leave no choice.

    ``booked`` counts the round's booked (pinned) visits per month. A month
    whose bookings alone exceed the most gets exactly its bookings as most; a
    month partly or wholly before ``earliest`` needs no more than its bookings
    plus what its open days can still take. If that leaves the other months
    unable to hold the round's visits, or the visits not booked too few to bring
    every month up to its least, bounds are widened one visit at a time, from
    the month with the largest target.
    """
    targets = monthly_targets(rules, round_, n)
    open_days: dict[str, list[date]] = defaultdict(list)
    for d in rules.allowed_days(round_):
        open_days[_month_key(d)].append(d)
    bounds: dict[str, tuple[int, int]] = {}
    room: dict[str, int] = {}  # the most the month can take: its bookings and its open days
    for k, days in _window_months(rules, round_):
        lo, hi = level_bounds(targets[k])
        b = booked.get(k, 0)
        room[k] = b + _capacity(open_days.get(k, []), rules)
        if rules.earliest is not None and days and days[0] < rules.earliest:
            lo = min(lo, room[k])  # partly past: no more than its open days can take
        hi = max(min(hi, room[k]), b)
        bounds[k] = (lo, hi)  # lo > hi only where the pace asks more than an open month holds: precheck names it
    order = sorted(bounds, key=lambda k: (-targets[k], k))
    while sum(hi for _, hi in bounds.values()) < n:
        grown = False
        for k in order:
            lo, hi = bounds[k]
            if hi < room[k]:
                bounds[k], grown = (lo, hi + 1), True
                if sum(h for _, h in bounds.values()) >= n:
                    break
        if not grown:
            break  # no room left anywhere: the capacity checks name it
    # The free visits must be able to bring every month up to its least.
    free = n - sum(booked.values())

    def wanted() -> int:
        return sum(max(0, lo - booked.get(k, 0)) for k, (lo, _) in bounds.items())

    while wanted() > free:
        for k in sorted(bounds, key=lambda k: (-targets[k], k)):
            lo, hi = bounds[k]
            if lo > booked.get(k, 0):
                bounds[k] = (lo - 1, hi)
                if wanted() <= free:
                    break
    return bounds


def level_breaks(planned: Sequence[tuple[VisitRequest, date]], rules: Rules) -> list[tuple[int, str, int, float]]:
    """(round, "YYYY-MM", count, target) of each month outside ``month_bounds``:
    off the even pace by more than one where the bookings left a choice."""
    out: list[tuple[int, str, int, float]] = []
    by_round: dict[int, list[tuple[VisitRequest, date]]] = defaultdict(list)
    for v, d in planned:
        by_round[v.round].append((v, d))
    for r in sorted(by_round):
        if r not in rules.windows:
            continue
        vs = by_round[r]
        targets = monthly_targets(rules, r, len(vs))
        counts = Counter(_month_key(d) for _, d in vs)
        booked = Counter(_month_key(d) for v, d in vs if v.pinned is not None and v.pinned == d)
        bounds = month_bounds(rules, r, len(vs), booked)
        for k in sorted(set(targets) | set(counts)):
            c = counts.get(k, 0)
            lo, hi = bounds.get(k, (0, 0))
            if not lo <= c <= hi:
                out.append((r, k, c, targets.get(k, 0.0)))
    return out


# --------------------------------------------------------------------------
# Input checks and the cheap reasons why no plan can exist
# --------------------------------------------------------------------------


def _validate_input(visits: Sequence[VisitRequest], sites: Sequence[Site], rules: Rules) -> None:
    by_id = {s.id: s for s in sites}
    issues: list[Issue] = []
    seen: set[tuple[int, int]] = set()
    for v in visits:
        if v.site_id not in by_id:
            issues.append(Issue("unknown_site", {"site": v.site_id}))
        elif v.key in seen:
            issues.append(Issue("duplicate_visit", {"site": by_id[v.site_id].label, "round": v.round}))
        if v.round not in rules.windows:
            issues.append(Issue("no_window", {"round": v.round}))
        seen.add(v.key)
    if issues:
        _raise(list(dict.fromkeys(issues)))


def _capacity(days: Iterable[date], rules: Rules) -> int:
    per_week = Counter(_iso_week(d) for d in set(days))
    return sum(min(rules.max_per_week, rules.max_per_day * n) for n in per_week.values())


def precheck(visits: Sequence[VisitRequest], sites: Sequence[Site], rules: Rules) -> list[Issue]:
    """Reasons, found by counting, why no plan can exist (empty: none found)."""
    by_id = {s.id: s for s in sites}
    issues: list[Issue] = []
    allowed = {r: rules.allowed_days(r) for r in rules.windows}

    # Fixed dates must themselves keep the rules.
    pinned = [v for v in visits if v.pinned is not None]
    for v in pinned:
        d, name = v.pinned, by_id[v.site_id].label
        assert d is not None
        off = rules.day_off(d)
        if off is not None:
            issues.append(Issue("pinned_" + off.code, {"site": name, **off.params}))
        start, end = rules.windows[v.round]
        if not start <= d <= end:
            issues.append(Issue("pinned_window", {"site": name, "date": d.isoformat(), "round": v.round,
                                                  "start": start.isoformat(), "end": end.isoformat()}))
    for d, n in sorted(Counter(v.pinned for v in pinned).items()):
        if n > rules.max_per_day:
            issues.append(Issue("pinned_per_day", {"count": n, "date": d.isoformat(), "limit": rules.max_per_day}))
    for (y, w), n in sorted(Counter(_iso_week(v.pinned) for v in pinned).items()):
        if n > rules.max_per_week:
            issues.append(Issue("pinned_per_week", {"count": n, "week": w, "year": y, "limit": rules.max_per_week}))

    # Each free visit needs at least one possible day.
    for v in visits:
        if v.pinned is None and not allowed[v.round]:
            start, end = rules.windows[v.round]
            if rules.earliest is not None:
                start = max(start, rules.earliest)
            issues.append(Issue("no_day", {"site": by_id[v.site_id].label, "round": v.round,
                                           "start": start.isoformat(), "end": end.isoformat()}))

    # The gap between a site's rounds, from fixed dates and window ends.
    by_site: dict[int, list[VisitRequest]] = defaultdict(list)
    for v in visits:
        by_site[v.site_id].append(v)
    for site_id in sorted(by_site):
        vs = sorted(by_site[site_id], key=lambda v: v.round)
        for a, b in zip(vs, vs[1:]):
            first = a.pinned or (allowed[a.round][0] if allowed[a.round] else None)
            last = b.pinned or (allowed[b.round][-1] if allowed[b.round] else None)
            if first is None or last is None or (last - first).days >= rules.min_gap_days:
                continue
            p = {"min": rules.min_gap_days, "site": by_id[site_id].label, "r1": a.round, "r2": b.round}
            if a.pinned and b.pinned:
                issues.append(Issue("gap_both", {**p, "d1": a.pinned.isoformat(), "d2": b.pinned.isoformat()}))
            elif a.pinned:
                issues.append(Issue("gap_first", {**p, "d1": a.pinned.isoformat(), "end": last.isoformat()}))
            elif b.pinned:
                issues.append(Issue("gap_second", {**p, "d2": b.pinned.isoformat(), "start": first.isoformat()}))
            else:
                issues.append(Issue("gap_windows", {**p, "start": first.isoformat(), "end": last.isoformat()}))
    if issues:
        return issues

    # Enough visit days in each round's window, first as given, then narrowed by
    # the gap: a visit cannot come before its previous round's first possible day
    # + gap, nor after its next round's last possible day - gap.
    rounds = sorted({v.round for v in visits})
    count = Counter(v.round for v in visits)
    pins: dict[int, set[date]] = defaultdict(set)
    for v in pinned:
        pins[v.round].add(v.pinned)  # type: ignore[arg-type]
    limits = {"per_day": rules.max_per_day, "per_week": rules.max_per_week}
    gap = timedelta(days=rules.min_gap_days)
    lo: dict[tuple[int, int], date] = {}
    hi: dict[tuple[int, int], date] = {}
    for vs in by_site.values():
        vs = sorted(vs, key=lambda v: v.round)
        for a, b in zip(vs, vs[1:]):
            lo[b.key] = (a.pinned or allowed[a.round][0]) + gap
            hi[a.key] = (b.pinned or allowed[b.round][-1]) - gap
    for r in rounds:
        days = set(allowed[r]) | pins[r]
        start, end = rules.windows[r]
        if rules.earliest is not None:
            start = max(start, rules.earliest)
        if _capacity(days, rules) < count[r]:
            issues.append(Issue("capacity", {"round": r, "count": count[r], "capacity": _capacity(days, rules),
                                             "start": start.isoformat(), "end": end.isoformat(), **limits}))
            continue
        mine = [v for v in visits if v.round == r]
        both = [v for v in mine if v.key in lo and v.key in hi]
        after = [v for v in mine if v.key in lo]
        before = [v for v in mine if v.key in hi]
        for group in (both, after, before):
            if not group:
                continue
            first = min(lo[v.key] for v in group) if group is not before else start
            last = max(hi[v.key] for v in group) if group is not after else end
            narrowed = {d for d in allowed[r] if first <= d <= last} | {v.pinned for v in group if v.pinned}
            if _capacity(narrowed, rules) < len(group):
                issues.append(Issue("capacity_gap", {"round": r, "count": len(group),
                                                     "capacity": _capacity(narrowed, rules),
                                                     "start": max(first, start).isoformat(),
                                                     "end": min(last, end).isoformat(),
                                                     "gap": rules.min_gap_days, **limits}))
                break
    # Overlapping windows share the office's days.
    if not issues and len(rounds) > 1:
        spans = sorted(rules.windows[r] for r in rounds)
        if any(b[0] <= a[1] for a, b in zip(spans, spans[1:])):
            days = set().union(*(set(allowed[r]) | pins[r] for r in rounds))
            if days and _capacity(days, rules) < len(visits):
                issues.append(Issue("capacity_total", {"count": len(visits), "capacity": _capacity(days, rules),
                                                       "start": min(days).isoformat(), "end": max(days).isoformat(),
                                                       **limits}))
    # The even pace: each month must have room for its least number of visits.
    if not issues and rules.level:
        for r in rounds:
            mine = [v for v in visits if v.round == r]
            booked = Counter(_month_key(v.pinned) for v in mine if v.pinned is not None)
            days_of: dict[str, set[date]] = defaultdict(set)
            for d in set(allowed[r]) | pins[r]:
                days_of[_month_key(d)].add(d)
            for k, (lo, _hi) in month_bounds(rules, r, len(mine), booked).items():
                room = _capacity(days_of.get(k, set()), rules)
                if lo > room:
                    issues.append(Issue("level_capacity", {"round": r, "month": k, "need": lo, "capacity": room}))
    return issues


# --------------------------------------------------------------------------
# Greedy baseline: earliest free day, visits in site order
# --------------------------------------------------------------------------


def greedy_baseline(visits: Sequence[VisitRequest], sites: Sequence[Site], rules: Rules) -> dict[tuple[int, int], date]:
    """The plan a person would make by hand: round by round, sites in the given
    order, each visit on the earliest working day that keeps every rule
    (pinned visits first, as booked). For comparison only: it ignores travel."""
    _validate_input(visits, sites, rules)
    order = {s.id: i for i, s in enumerate(sites)}
    pinned_at = {v.key: v.pinned for v in visits if v.pinned is not None}
    dates: dict[tuple[int, int], date] = dict(pinned_at)
    per_day = Counter(dates.values())
    per_week = Counter(_iso_week(d) for d in dates.values())
    rounds_of: dict[int, list[int]] = defaultdict(list)
    for v in visits:
        rounds_of[v.site_id].append(v.round)
    allowed = {r: rules.allowed_days(r) for r in rules.windows}
    for v in sorted(visits, key=lambda v: (v.round, order[v.site_id])):
        if v.key in dates:
            continue
        rs = sorted(rounds_of[v.site_id])
        i = rs.index(v.round)
        lo = date.min
        hi = date.max
        if i > 0 and (v.site_id, rs[i - 1]) in dates:
            lo = dates[(v.site_id, rs[i - 1])] + timedelta(days=rules.min_gap_days)
        if i + 1 < len(rs):
            later = pinned_at.get((v.site_id, rs[i + 1])) or (allowed[rs[i + 1]] or [date.max])[-1]
            if later != date.max:  # (a round without days fails on its own)
                hi = later - timedelta(days=rules.min_gap_days)
        for d in allowed[v.round]:
            if lo <= d <= hi and per_day[d] < rules.max_per_day and per_week[_iso_week(d)] < rules.max_per_week:
                dates[v.key] = d
                per_day[d] += 1
                per_week[_iso_week(d)] += 1
                break
        else:
            label = next(s.label for s in sites if s.id == v.site_id)
            start, end = rules.windows[v.round]
            _raise([Issue("no_day", {"site": label, "round": v.round,
                                     "start": start.isoformat(), "end": end.isoformat()})])
    return dates


# --------------------------------------------------------------------------
# Candidate trips
# --------------------------------------------------------------------------

Dist = Mapping[int, Mapping[int, float]]


def _len(order: Sequence[int], dist: Dist, home: Mapping[int, float]) -> float:
    return home[order[0]] + sum(dist[a][b] for a, b in zip(order, order[1:])) + home[order[-1]]


def _tour(idx: Sequence[int], dist: Dist, home: Mapping[int, float]) -> tuple[float, tuple[int, ...]]:
    """Shortest home -> idx... -> home: exact up to 6 stops, else cheapest insertion + 2-opt."""
    idx = sorted(idx)
    if len(idx) <= 6:
        best: tuple[float, tuple[int, ...]] = (math.inf, tuple(idx))
        for order in itertools.permutations(idx):
            if order[0] > order[-1]:
                continue  # the reverse has the same length
            km = _len(order, dist, home)
            if km < best[0] - 1e-9:
                best = (km, order)
        return best
    def leg(a: int | None, b: int | None) -> float:  # None is home
        return home[b] if a is None else home[a] if b is None else dist[a][b]  # type: ignore[index]

    order: list[int] = [max(idx, key=lambda i: (home[i], -i))]
    for i in sorted(set(idx) - set(order), key=lambda i: (-home[i], i)):
        stops: list[int | None] = [None, *order, None]
        p = min(range(len(stops) - 1),
                key=lambda p: (leg(stops[p], i) + leg(i, stops[p + 1]) - leg(stops[p], stops[p + 1]), p))
        order.insert(p, i)
    improved = True
    while improved:  # 2-opt (reverse a stretch) and relocate (move one stop)
        improved = False
        n = len(order)
        moves = [order[:a] + order[a:b + 1][::-1] + order[b + 1:] for a in range(n - 1) for b in range(a + 1, n)]
        moves += [(rest := order[:a] + order[a + 1:])[:b] + [order[a]] + rest[b:] for a in range(n) for b in range(n)]
        best = min(moves, key=lambda o: _len(o, dist, home))
        if _len(best, dist, home) < _len(order, dist, home) - 1e-9:
            order, improved = best, True
    return _len(order, dist, home), tuple(order)


def _savings_routes(members: Sequence[int], dist: Dist, home: Mapping[int, float], cap: int) -> list[tuple[int, ...]]:
    """Clarke & Wright's savings heuristic: start with one trip per visit and join
    trip ends while the saving home_i + home_j - dist_ij is largest and size allows."""
    route: dict[int, list[int]] = {i: [i] for i in members}
    owner = {i: i for i in members}
    pairs = sorted(
        ((home[i] + home[j] - dist[i][j], i, j) for a, i in enumerate(members) for j in members[a + 1:]),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for _, i, j in pairs:
        ri, rj = owner[i], owner[j]
        if ri == rj or len(route[ri]) + len(route[rj]) > cap:
            continue
        a, b = route[ri], route[rj]
        a = a if a[-1] == i else a[::-1]
        b = b if b[0] == j else b[::-1]
        if a[-1] != i or b[0] != j:
            continue  # i or j sits inside its trip
        route[ri] = a + b
        del route[rj]
        for k in b:
            owner[k] = ri
    return [tuple(r) for _, r in sorted(route.items())]


def _candidate_trips(
    members: Sequence[int], dist: Dist, home: Mapping[int, float], cap: int, near: int
) -> dict[tuple[int, ...], float]:
    """Groups of close far-away visits (sorted index tuples) with their best route km.

    Singles always (so any valid plan can be expressed); pairs with each visit's
    ``near`` nearest; triples from two of its nearest; larger groups grown by
    nearest neighbour; and the savings heuristic's trips with their sub-trips.
    """
    out: dict[tuple[int, ...], float] = {(i,): 2 * home[i] for i in members}
    if cap < 2 or len(members) < 2:
        return out

    def add(group: Iterable[int]) -> None:
        key = tuple(sorted(group))
        if key not in out:
            out[key] = _tour(key, dist, home)[0]

    nearest = {i: sorted((j for j in members if j != i), key=lambda j: (dist[i][j], j))[:near] for i in members}
    for i in members:
        for j in nearest[i]:
            add((i, j))
        if cap >= 3:
            for j, k in itertools.combinations(nearest[i][: near if cap == 3 else min(near, 6)], 2):
                add((i, j, k))
        if cap >= 4:
            group, pool = [i], list(nearest[i])
            while len(group) < cap and pool:
                j = min(pool, key=lambda j: (min(dist[g][j] for g in group), j))
                group.append(j)
                pool = [k for k in dict.fromkeys(pool + nearest[j]) if k not in group]
                if len(group) >= 4:
                    add(group)
    for r in _savings_routes(members, dist, home, cap):
        add(r)
        if len(r) > 2:
            for k in range(len(r)):
                add(r[:k] + r[k + 1:])
    return out


# --------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------


def plan(
    visits: Sequence[VisitRequest],
    sites: Sequence[Site],
    rules: Rules,
    settings: SolverSettings = SolverSettings(),
) -> Plan:
    """A calendar for ``visits`` that keeps every rule, at an even pace, with as
    little travel as the deterministic budget finds; raises PlanningError
    (Swedish reasons) if none exists.

    Stages (see the module docstring): (A) choose the trips, calendar left
    aside; (B) put them into weeks, the month furthest behind its even pace
    first, each in route order: the plan, unless some visit has a ``current``
    date or B gets stuck; then (C) the full model, started from the current
    dates (or a levelled greedy start) repaired to keep the rules. If C finds
    nothing better within its budget, that repaired start is the plan (status
    FEASIBLE) when it keeps every rule.
    """
    cp_model = _cp()
    t0 = time.perf_counter()
    _validate_input(visits, sites, rules)
    visits = sorted(visits, key=lambda v: (v.round, v.site_id))  # input order must not matter
    by_id = {s.id: s for s in sites}

    # Nothing to do: every visit has a date, no booking differs from its proposal,
    # and together they keep the rules.
    given = {v.key: v.pinned or v.current for v in visits}
    unchanged = all(v.current is None or v.pinned is None or v.current == v.pinned for v in visits)
    if visits and unchanged and all(given.values()) and not check(given, visits, sites, rules):  # type: ignore[arg-type]
        dates = {k: d for k, d in given.items() if d is not None}
        return _finish(dates, visits, sites, rules, "UNCHANGED", t0, None, None)

    if settings.prechecks:
        issues = precheck(visits, sites, rules)
        if issues:
            _raise(issues)

    dtime = settings.deterministic_budget(len(visits))
    prob = _Problem(visits, by_id, rules, settings)
    replanning = any(x is not None for x in prob.current)
    used_a = 0.0
    if not replanning:
        chosen, status_a, objective, bound, used_a = _partition(prob, dtime * STAGE_A_SHARE)
        days = _schedule(prob, chosen)
        if days is not None:
            dates = {v.key: prob.date(days[i]) for i, v in enumerate(visits)}
            return _finish(_route_order(dates, visits, by_id, rules), visits, sites, rules,
                           status_a, t0, objective, bound, used_a)

    # The full model, from the current dates (or, without them, a levelled greedy
    # start) made to keep the rules: a complete start the solver can only improve.
    start = _repair(prob)
    prob.add_week_groups(start)
    joint = _Joint(prob, diagnose=False)
    joint.hint_days(start)
    status, solver = joint.solve(dtime * (REPLAN_SHARE if replanning else 1 - STAGE_A_SHARE))
    used = used_a + _dtime_used(solver)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        dates = joint.dates(solver)
        name = "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE"
        return _finish(_route_order(dates, visits, by_id, rules), visits, sites, rules, name, t0,
                       solver.objective_value, solver.best_objective_bound, used)
    if status != cp_model.INFEASIBLE and all(x is not None for x in start):
        dates = {v.key: prob.date(start[i]) for i, v in enumerate(visits)}  # type: ignore[arg-type]
        if not check(dates, visits, sites, rules):
            # Out of budget: the repaired start keeps every rule.
            return _finish(dates, visits, sites, rules, "FEASIBLE", t0, None, None, used)
    issues = _diagnose(prob)
    if status == cp_model.INFEASIBLE and not issues:  # pragma: no cover - the two models disagree
        raise AssertionError("the planning model is infeasible but the rules are not")
    # Out of budget before any plan, unless the rules alone are contradictory.
    _raise(issues or [Issue("timeout", {"seconds": round(settings.budget(len(visits)))})])
    raise AssertionError("unreachable")


def _finish(dates: dict[tuple[int, int], date], visits: Sequence[VisitRequest], sites: Sequence[Site],
            rules: Rules, status: str, t0: float, objective: float | None, bound: float | None,
            dtime: float = 0.0) -> Plan:
    bad = [v for v in check(dates, visits, sites, rules) if LEVEL_ENFORCED or v.code != "level"]
    if bad:  # a bug in the planner, never a user error: refuse to hand out a broken plan
        raise AssertionError("planner produced an invalid plan: " + "; ".join(v.message for v in bad))
    summary = travel_summary(dates, sites, rules)
    moved = sum(1 for v in visits if v.pinned is None and v.current is not None and dates[v.key] != v.current)
    load = monthly_load(dates)
    targets = {r: monthly_targets(rules, r, sum(load[r].values())) for r in load if r in rules.windows}
    stats = PlanStats(
        km=round(summary.km, 1), travel_days=summary.travel_days,
        trips=sum(1 for t in summary.trips if not t.day_trip), day_trips=summary.day_trips,
        moved=moved, status=status, wall_s=round(time.perf_counter() - t0, 3),
        objective=objective, bound=bound,
        travel_hours=round(summary.hours, 2), overnights=summary.overnights, co2_kg=round(summary.co2_kg, 2),
        by_mode=summary.by_mode, monthly_load=load, monthly_targets=targets,
        max_deviation=max_deviation(dates, rules), dtime=round(dtime, 4),
    )
    return Plan(dates=dict(sorted(dates.items())), trips=summary.trips, stats=stats,
                modes=summary.modes, nights=summary.nights)


def _cp():  # noqa: ANN202 - the module, imported when a plan is made (web workers stay lean)
    from ortools.sat.python import cp_model

    return cp_model


class _Problem:
    """What every stage shares: day offsets, possible days, far-away visits,
    candidate trips priced in minutes, and the monthly bounds of the even pace."""

    def __init__(self, visits: Sequence[VisitRequest], by_id: Mapping[int, Site], rules: Rules,
                 settings: SolverSettings):
        self.visits, self.by_id, self.rules, self.settings = visits, by_id, rules, settings
        n = len(visits)
        first = min([s for s, _ in rules.windows.values()] + [v.pinned for v in visits if v.pinned])
        self.base = first - timedelta(days=first.weekday())  # a Monday, so offset // 7 is the ISO week
        self.index = {v.key: i for i, v in enumerate(visits)}
        round_days = {r: [self.off(d) for d in rules.allowed_days(r)] for r in rules.windows}
        self.allowed = [[self.off(v.pinned)] if v.pinned else round_days[v.round] for v in visits]
        self.pinned = [self.off(v.pinned) if v.pinned else None for v in visits]
        self.current = [self.off(v.current) if v.current and v.pinned is None else None for v in visits]

        # Consecutive rounds of one site: (earlier, later) visit indices.
        rounds: dict[int, list[int]] = defaultdict(list)
        for v in visits:
            rounds[v.site_id].append(v.round)
        self.gap_pairs = [
            (self.index[(s, a)], self.index[(s, b)])
            for s in sorted(rounds) for a, b in zip(sorted(rounds[s]), sorted(rounds[s])[1:])
        ]
        self.prev = {b: a for a, b in self.gap_pairs}
        self.next = {a: b for a, b in self.gap_pairs}

        # The even pace: per round and month "YYYY-MM", the target and the (least, most) visits.
        self.targets: dict[int, dict[str, float]] = {}
        self.bounds: dict[int, dict[str, tuple[int, int]]] = {}
        if rules.level:
            for r in sorted({v.round for v in visits}):
                mine = [v for v in visits if v.round == r]
                booked = Counter(_month_key(v.pinned) for v in mine if v.pinned is not None)
                self.targets[r] = monthly_targets(rules, r, len(mine))
                self.bounds[r] = month_bounds(rules, r, len(mine), booked)

        coords = [(by_id[v.site_id].lat, by_id[v.site_id].lon) for v in visits]
        home = [haversine_km(rules.home, c) for c in coords]
        self.places = [by_id[v.site_id].place() for v in visits]
        self.home_place = home_place(rules)
        self.away = [i for i in range(n) if home[i] > rules.day_trip_km]
        self.home = {i: home[i] for i in self.away}
        self.dist = {i: {j: haversine_km(coords[i], coords[j]) for j in self.away} for i in self.away}
        self.cap = min(rules.max_per_week, 5 * rules.max_per_day)
        self.trips: dict[tuple[int, ...], int] = {}  # candidate -> minutes
        self.route: dict[tuple[int, ...], tuple[int, ...]] = {}  # candidate -> its best order
        for r in sorted(rules.windows):
            members = [i for i in self.away if visits[i].round == r]
            near = settings.near if self.cap <= 3 else min(settings.near, 5)
            for key in sorted(_candidate_trips(members, self.dist, self.home, self.cap, near)):
                if self._fits(key):
                    self._price(key)

    def off(self, d: date) -> int:
        return (d - self.base).days

    def date(self, x: int) -> date:
        return self.base + timedelta(days=x)

    def month(self, x: int) -> str:
        return _month_key(self.date(x))

    def _fits(self, key: tuple[int, ...]) -> bool:
        # Booked members fix the trip's week; every other member must be able to come that week.
        weeks = {self.pinned[i] // 7 for i in key if self.pinned[i] is not None}
        if len(weeks) > 1:
            return False
        return not weeks or all(any(x // 7 in weeks for x in self.allowed[i]) for i in key)

    def minutes(self, order: Sequence[int]) -> float:
        """A trip's cost: travel minutes + OVERNIGHT_MINUTES per night away + KM_MINUTES per km."""
        j = T.journey(self.home_place, [self.places[i] for i in order], self.rules.travel)
        return j.hours * 60 + j.overnights * OVERNIGHT_MINUTES + j.km * KM_MINUTES

    def _price(self, key: tuple[int, ...]) -> None:
        tour = _tour(key, self.dist, self.home)[1]
        orders = list(itertools.permutations(key)) if len(key) <= 3 else [tour, tour[::-1]]
        cost, order = min((self.minutes(o), o) for o in orders)
        self.trips[key] = round(cost)
        self.route[key] = tuple(order)

    def add_week_groups(self, days: Sequence[int | None]) -> None:
        """The far-away visits that ``days`` put in one week become a candidate trip
        too, so a start made by hand is priced by its real routes."""
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i in self.away:
            if days[i] is not None:
                groups[(self.visits[i].round, days[i] // 7)].append(i)  # type: ignore[operator]
        for g in groups.values():
            key = tuple(sorted(g))
            if 1 < len(key) <= self.cap and key not in self.trips and self._fits(key):
                self._price(key)

    def cost(self, key: tuple[int, ...]) -> int:
        return self.trips[key]


def _dtime_used(solver) -> float:  # noqa: ANN001
    return float(solver.response_proto.deterministic_time)


def _solver(settings: SolverSettings, dtime: float):  # noqa: ANN202 - a cp_model.CpSolver
    cp_model = _cp()
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = settings.seed
    p.num_workers = max(1, settings.workers)
    # One worker searches sequentially, so a deterministic budget gives the same plan
    # every time; more workers need the interleaved (deterministic) parallel search.
    p.interleave_search = settings.workers > 1
    p.max_deterministic_time = max(0.01, dtime)
    # Safety net only, far beyond the deterministic budget's usual wall time; if it fires
    # (a machine many times slower), determinism is lost.
    p.max_time_in_seconds = 20 + WALL_SAFETY * dtime / DTIME_PER_SECOND
    return solver


def _partition(prob: _Problem, dtime: float) -> tuple[list[tuple[int, ...]], str, float | None, float | None, float]:
    """Stage A: the cheapest set of candidate trips covering each far-away visit once."""
    if not prob.away:
        return [], "OPTIMAL", 0.0, 0.0, 0.0
    cp_model = _cp()
    m = cp_model.CpModel()
    keys = sorted(prob.trips)
    use = {k: m.new_bool_var("") for k in keys}
    covering: dict[int, list] = defaultdict(list)
    for k in keys:
        for i in k:
            covering[i].append(use[k])
    for i in prob.away:
        m.add_exactly_one(covering[i])
    hinted = set()
    for r in sorted(prob.rules.windows):
        members = [i for i in prob.away if prob.visits[i].round == r]
        hinted |= {tuple(sorted(t)) for t in _savings_routes(members, prob.dist, prob.home, prob.cap)}
    if all(k in use for k in hinted):
        for k in keys:
            m.add_hint(use[k], k in hinted)
    m.minimize(sum(prob.cost(k) * use[k] for k in keys))
    solver = _solver(prob.settings, dtime)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Out of budget: the savings trips (those a booking does not split) are a valid cover.
        chosen = sorted(k for k in hinted if k in use)
        covered = {i for k in chosen for i in k}
        return (chosen + [(i,) for i in prob.away if i not in covered], "FEASIBLE", None, None,
                _dtime_used(solver))
    chosen = [k for k in keys if solver.value(use[k])]
    name = "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE"
    return chosen, name, solver.objective_value, solver.best_objective_bound, _dtime_used(solver)


def _schedule(prob: _Problem, chosen: Sequence[tuple[int, ...]]) -> list[int] | None:
    """Stage B: trips into weeks, round by round, each into the month furthest
    behind its even pace (earliest week first within it) without going over the
    month's most, each trip's days in its route order; a trip no week can take is
    split into single visits. None if a single visit finds no day, or a month
    stays below its least (the full model then takes over)."""
    rules, n = prob.rules, len(prob.visits)
    day: list[int | None] = list(prob.pinned)
    per_day = Counter(x for x in day if x is not None)
    per_week = Counter(x // 7 for x in day if x is not None)
    per_month: Counter[tuple[int, str]] = Counter(
        (prob.visits[i].round, prob.month(x)) for i, x in enumerate(day) if x is not None)
    units = [prob.route[k] for k in chosen]
    units += [(i,) for i in range(n) if i not in prob.home]  # day trips

    def bounds(i: int) -> tuple[int, int]:
        lo, hi = -(10**9), 10**9
        if i in prob.prev and day[prob.prev[i]] is not None:
            lo = day[prob.prev[i]] + rules.min_gap_days  # type: ignore[operator]
        if i in prob.next:
            j = prob.next[i]
            later = day[j] if day[j] is not None else max(prob.allowed[j])
            hi = later - rules.min_gap_days  # type: ignore[operator]
        return lo, hi

    def room(r: int, k: str) -> int:
        b = prob.bounds.get(r)
        return 10**9 if b is None else b.get(k, (0, 0))[1] - per_month[(r, k)]

    def place(unit: Sequence[int], week: int, ordered: bool) -> dict[int, int] | None:
        placed: dict[int, int] = {}
        used: Counter[int] = Counter()
        months: Counter[tuple[int, str]] = Counter()
        prev = -1
        for i in unit:
            if day[i] is not None:
                continue
            lo, hi = bounds(i)
            r = prob.visits[i].round
            for x in prob.allowed[i]:
                if x // 7 == week and lo <= x <= hi and (not ordered or x >= prev) \
                        and per_day[x] + used[x] < rules.max_per_day \
                        and room(r, prob.month(x)) - months[(r, prob.month(x))] > 0:
                    placed[i], prev = x, x
                    used[x] += 1
                    months[(r, prob.month(x))] += 1
                    break
            else:
                return None
        return placed

    def behind(r: int, w: int, free: Sequence[int]) -> tuple[float, int]:
        """How far the month of the unit's first possible day in week w is ahead of its pace."""
        x = min(x for i in free for x in prob.allowed[i] if x // 7 == w)
        k = prob.month(x)
        target = prob.targets.get(r, {}).get(k)
        return (0.0 if target is None else per_month[(r, k)] - target, w)

    def order(u: Sequence[int]) -> tuple[int, int, int, int]:
        v = prob.visits[u[0]]
        return (v.round, 0 if any(day[i] is not None for i in u) else 1, -len(u), min(u))

    queue = sorted(units, key=order)
    while queue:
        unit = queue.pop(0)
        free = [i for i in unit if day[i] is None]
        if not free:
            continue
        r = prob.visits[free[0]].round
        fixed = sorted({day[i] // 7 for i in unit if day[i] is not None})  # type: ignore[operator]
        weeks = fixed or sorted({x // 7 for i in free for x in prob.allowed[i]})
        if not fixed and prob.bounds:
            weeks.sort(key=lambda w: behind(r, w, free))
        for w in weeks:
            if per_week[w] + len(free) > rules.max_per_week:
                continue
            placed = place(unit, w, True) or place(unit, w, False)
            if placed:
                for i, x in placed.items():
                    day[i] = x
                    per_day[x] += 1
                    per_week[w] += 1
                    per_month[(prob.visits[i].round, prob.month(x))] += 1
                break
        else:
            if len(free) == 1:
                return None
            queue[:0] = [(i,) for i in free]  # no week takes the whole trip: its visits go one by one
    if any(x is None for x in day):
        return None
    return _fill_short_months(prob, day)  # type: ignore[arg-type]


def _fill_short_months(prob: _Problem, day: list[int]) -> list[int] | None:
    """Stage B's last step: a month left below its least takes visits from months
    above theirs, one at a time: day trips first (moving them costs no travel),
    then far-away visits, from the nearest months, each onto a free day that
    keeps every rule. None if some month stays short."""
    rules = prob.rules
    per_day = Counter(day)
    per_week = Counter(x // 7 for x in day)
    per_month: Counter[tuple[int, str]] = Counter((prob.visits[i].round, prob.month(x)) for i, x in enumerate(day))
    months = {r: sorted(m) for r, m in prob.bounds.items()}

    def gap_ok(i: int, x: int) -> bool:
        a, b = prob.prev.get(i), prob.next.get(i)
        return (a is None or x - day[a] >= rules.min_gap_days) and (b is None or day[b] - x >= rules.min_gap_days)

    for _ in range(len(day)):
        short = [(r, k) for r, ms in sorted(prob.bounds.items()) for k, (lo, _) in sorted(ms.items())
                 if per_month[(r, k)] < lo]
        if not short:
            return day
        r, k = short[0]
        pos = months[r].index(k)
        donors = [i for i, v in enumerate(prob.visits)
                  if v.round == r and prob.pinned[i] is None
                  and per_month[(r, prob.month(day[i]))] > prob.bounds[r][prob.month(day[i])][0]]
        donors.sort(key=lambda i: (i in prob.home, abs(months[r].index(prob.month(day[i])) - pos), i))
        for i in donors:
            old = day[i]
            free = [x for x in prob.allowed[i] if prob.month(x) == k and per_day[x] < rules.max_per_day
                    and per_week[x // 7] + (0 if x // 7 == old // 7 else 1) <= rules.max_per_week and gap_ok(i, x)]
            if free:
                x = free[0]
                per_day[old] -= 1
                per_week[old // 7] -= 1
                per_month[(r, prob.month(old))] -= 1
                day[i] = x
                per_day[x] += 1
                per_week[x // 7] += 1
                per_month[(r, k)] += 1
                break
        else:
            return None
    return None


class _Joint:
    """Stage C, the full CP-SAT model: a day per visit, the rules, the monthly
    bounds of the even pace, candidate trips sharing a week, and the moves.
    ``diagnose`` builds the feasibility-only variant whose rule groups hang on
    assumption literals, to name a contradiction."""

    def __init__(self, prob: _Problem, diagnose: bool):
        cp_model = self.cp = _cp()
        self.prob = prob
        rules, visits = prob.rules, prob.visits
        self.m = m = cp_model.CpModel()
        self.groups: list = []  # (literal, Issue)
        n = len(visits)
        label = {i: prob.by_id[v.site_id].label for i, v in enumerate(visits)}
        if diagnose:
            # Domains span every working day of every window; windows, earliest and
            # booked dates become rules that can be switched off one by one.
            # A year beyond the windows on each side, so a window can show up as a cause.
            lo = min(s for s, _ in rules.windows.values()) - timedelta(days=365)
            hi = max(e for _, e in rules.windows.values()) + timedelta(days=365)
            span = [prob.off(d) for d in rules.working_days(lo, hi)]
            lit_window = {r: self._group(Issue("rule_window", {"round": r, "start": s.isoformat(),
                                                               "end": e.isoformat()}))
                          for r, (s, e) in rules.windows.items()}
            lit_early = (self._group(Issue("rule_earliest", {"earliest": rules.earliest.isoformat()}))
                         if rules.earliest else None)
        self.day: list = []
        self.week: list = []
        for i, v in enumerate(visits):
            dom = sorted(set(span) | set(prob.allowed[i])) if diagnose else prob.allowed[i]
            day = m.new_int_var_from_domain(cp_model.Domain.from_values(dom), f"day{i}")
            week = m.new_int_var_from_domain(cp_model.Domain.from_values(sorted({x // 7 for x in dom})), f"wk{i}")
            # Offsets count from a Monday, so the ISO week is day // 7: 7w <= day <= 7w + 6.
            m.add(day >= 7 * week)
            m.add(day <= 7 * week + 6)
            self.day.append(day)
            self.week.append(week)
            if diagnose:
                s, e = rules.windows[v.round]
                m.add_linear_constraint(day, prob.off(s), prob.off(e)).only_enforce_if(lit_window[v.round])
                if lit_early is not None and v.pinned is None:
                    m.add(day >= prob.off(rules.earliest)).only_enforce_if(lit_early)  # type: ignore[arg-type]
                if v.pinned:
                    lit = self._group(Issue("rule_pinned", {"visits": f"{label[i]} {v.pinned.isoformat()}"}))
                    m.add(day == prob.off(v.pinned)).only_enforce_if(lit)

        # Per day and per ISO week; optional intervals so the diagnosis can drop them.
        lit_day = self._group(Issue("rule_per_day", {"limit": rules.max_per_day})) if diagnose else None
        lit_week = self._group(Issue("rule_per_week", {"limit": rules.max_per_week})) if diagnose else None
        if rules.max_per_day == 1 and not diagnose:
            m.add_all_different(self.day)
        else:
            m.add_cumulative([self._interval(self.day[i], lit_day) for i in range(n)], [1] * n, rules.max_per_day)
        m.add_cumulative([self._interval(self.week[i], lit_week) for i in range(n)], [1] * n, rules.max_per_week)

        # The even pace: each round's visits per month within its bounds.
        if prob.bounds:
            lit_level = self._group(Issue("rule_level", {})) if diagnose else None
            self._level(lit_level)

        # Gap between a site's consecutive rounds.
        lit_gap: dict[int, object] = {}
        for a, b in prob.gap_pairs:
            c = m.add(self.day[b] - self.day[a] >= rules.min_gap_days)
            if diagnose:
                site = visits[a].site_id
                if site not in lit_gap:
                    lit_gap[site] = self._group(Issue("rule_gap", {"min": rules.min_gap_days, "sites": label[a]}))
                c.only_enforce_if(lit_gap[site])
        if diagnose:
            return

        # Every far-away visit on exactly one chosen trip; a trip's visits share a week.
        self.use = {k: m.new_bool_var("") for k in sorted(prob.trips)}
        covering: dict[int, list] = defaultdict(list)
        for k, u in self.use.items():
            for i in k:
                covering[i].append(u)
            for j in k[1:]:
                m.add(self.week[j] == self.week[k[0]]).only_enforce_if(u)
        for i in prob.away:
            m.add_exactly_one(covering[i])

        # Moving a visit off its current date costs move_minutes.
        moves: list = []
        self.same: dict[int, object] = {}
        for i in range(n):
            cur = prob.current[i]
            if cur is None:
                continue
            if cur in set(prob.allowed[i]):
                same = self.same[i] = m.new_bool_var("")
                m.add(self.day[i] == cur).only_enforce_if(same)
                m.add(self.day[i] != cur).only_enforce_if(~same)
                moves.append(1 - same)
            else:
                moves.append(1)  # its date is no longer possible: it must move
        m.minimize(sum(prob.cost(k) * u for k, u in self.use.items())
                   + prob.settings.move_minutes * sum(moves))

    def _level(self, lit) -> None:  # noqa: ANN001
        """lo <= visits of round r in month k <= hi: one literal per visit and month it may fall in."""
        prob, m = self.prob, self.m
        in_month: dict[tuple[int, str], list] = defaultdict(list)
        for i, v in enumerate(prob.visits):
            if v.round not in prob.bounds:
                continue
            by_month: dict[str, list[int]] = defaultdict(list)
            for x in prob.allowed[i]:
                by_month[prob.month(x)].append(x)
            if len(by_month) == 1:
                (k,) = by_month
                in_month[(v.round, k)].append(1)
                continue
            lits = []
            for k, xs in sorted(by_month.items()):
                b = m.new_bool_var("")
                m.add_linear_constraint(self.day[i], min(xs), max(xs)).only_enforce_if(b)
                lits.append(b)
                in_month[(v.round, k)].append(b)
            m.add_exactly_one(lits)
        for r, months in sorted(prob.bounds.items()):
            for k, (lo, hi) in sorted(months.items()):
                terms = in_month.get((r, k), [])
                c = m.add_linear_constraint(sum(terms) if terms else 0, lo, hi)
                if lit is not None:
                    c.only_enforce_if(lit)

    def _group(self, issue: Issue):  # noqa: ANN202
        lit = self.m.new_bool_var(issue.code)
        self.groups.append((lit, issue))
        return lit

    def _interval(self, start, lit):  # noqa: ANN001, ANN202
        if lit is None:
            return self.m.new_fixed_size_interval_var(start, 1, "")
        return self.m.new_optional_fixed_size_interval_var(start, 1, lit, "")

    def hint_trips(self, chosen: Iterable[tuple[int, ...]]) -> None:
        chosen = set(chosen)
        for k, u in self.use.items():
            self.m.add_hint(u, k in chosen)

    def hint_days(self, start: Sequence[int | None]) -> None:
        """Start from these days, the far-away visits grouped into trips as the weeks fall."""
        prob = self.prob
        for i, x in enumerate(start):
            if x is not None:
                self.m.add_hint(self.day[i], x)
                self.m.add_hint(self.week[i], x // 7)
        for i, same in self.same.items():
            self.m.add_hint(same, start[i] == prob.current[i])
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i in prob.away:
            if start[i] is not None:
                groups[(prob.visits[i].round, start[i] // 7)].append(i)  # type: ignore[operator]
        chosen: set[tuple[int, ...]] = set()
        for g in groups.values():
            key = tuple(sorted(g))
            chosen |= {key} if key in self.use else {(i,) for i in key}
        self.hint_trips(chosen)

    def solve(self, dtime: float):  # noqa: ANN201 - (status, cp_model.CpSolver)
        solver = _solver(self.prob.settings, dtime)
        return solver.solve(self.m), solver

    def solve_assuming(self, groups: Sequence[tuple[object, Issue]], dtime: float):  # noqa: ANN201
        solver = self.cp.CpSolver()
        solver.parameters.random_seed = self.prob.settings.seed
        solver.parameters.num_workers = 1  # the core comes from the sequential search
        solver.parameters.max_deterministic_time = dtime
        solver.parameters.max_time_in_seconds = 20 + WALL_SAFETY * dtime / DTIME_PER_SECOND
        self.m.clear_assumptions()
        self.m.add_assumptions([lit for lit, _ in groups])
        return solver.solve(self.m), solver

    def dates(self, solver) -> dict[tuple[int, int], date]:  # noqa: ANN001
        return {v.key: self.prob.date(solver.value(self.day[i])) for i, v in enumerate(self.prob.visits)}


def _repair(prob: _Problem) -> list[int | None]:
    """The current dates made to keep the rules again with few changes: keep
    booked dates, then current ones in date order while they fit; put each
    visit left over on the possible day nearest its current date (without one,
    the earliest), months below their least first. Never over a month's most;
    if the current dates are far off the even pace (so that keeping them up to
    each month's most would leave too few visits for the months below their
    least), they are kept only up to each month's rounded target. May leave a
    visit without a day (None) when the greedy choice runs into a dead end."""
    start = _repair_with(prob, quota=False)
    if prob.bounds and not _level_ok(prob, start):
        start = _repair_with(prob, quota=True)
    return start


def _level_ok(prob: _Problem, day: Sequence[int | None]) -> bool:
    per_month = Counter((prob.visits[i].round, prob.month(x)) for i, x in enumerate(day) if x is not None)
    return all(lo <= per_month[(r, k)] <= hi for r, months in prob.bounds.items() for k, (lo, hi) in months.items())


def _repair_with(prob: _Problem, quota: bool) -> list[int | None]:
    rules, n = prob.rules, len(prob.visits)
    day: list[int | None] = [None] * n
    per_day: Counter[int] = Counter()
    per_week: Counter[int] = Counter()
    per_month: Counter[tuple[int, str]] = Counter()

    def limits(r: int, k: str) -> tuple[int, int, int]:
        """(least, rounded target, most) of round r's visits in month k."""
        if r not in prob.bounds:
            return 0, 10**9, 10**9
        lo, hi = prob.bounds[r].get(k, (0, 0))
        return lo, min(hi, max(lo, round(prob.targets[r].get(k, 0.0)))), hi

    def fits(i: int, x: int, keeping: bool = False) -> bool:
        if per_day[x] >= rules.max_per_day or per_week[x // 7] >= rules.max_per_week:
            return False
        r, k = prob.visits[i].round, prob.month(x)
        _lo, q, hi = limits(r, k)
        if per_month[(r, k)] >= (q if keeping and quota else hi):
            return False
        a, b = prob.prev.get(i), prob.next.get(i)
        lo = day[a] + rules.min_gap_days if a is not None and day[a] is not None else -(10**9)  # type: ignore[operator]
        hi = day[b] - rules.min_gap_days if b is not None and day[b] is not None else 10**9  # type: ignore[operator]
        if b is not None and day[b] is None:
            hi = max(prob.allowed[b]) - rules.min_gap_days
        if a is not None and day[a] is None:
            lo = min(prob.allowed[a]) + rules.min_gap_days
        return lo <= x <= hi

    def put(i: int, x: int) -> None:
        day[i] = x
        per_day[x] += 1
        per_week[x // 7] += 1
        per_month[(prob.visits[i].round, prob.month(x))] += 1

    def need(i: int, x: int) -> int:
        """0: the month is below its least, 1: below its rounded target, 2: otherwise."""
        r, k = prob.visits[i].round, prob.month(x)
        lo, q, _hi = limits(r, k)
        c = per_month[(r, k)]
        return 0 if c < lo else 1 if c < q else 2

    for i in range(n):
        if prob.pinned[i] is not None:
            put(i, prob.pinned[i])  # type: ignore[arg-type]
    order = sorted((x, i) for i, x in enumerate(prob.current) if x is not None)
    for x, i in order:
        if x in set(prob.allowed[i]) and fits(i, x, keeping=True):
            put(i, x)
    for i in range(n):
        if day[i] is None:
            target = prob.current[i] if prob.current[i] is not None else prob.allowed[i][0]
            for x in sorted(prob.allowed[i], key=lambda x: (need(i, x), abs(x - target), x)):  # type: ignore[operator]
                if fits(i, x):
                    put(i, x)
                    break
    return day


def _diagnose(prob: _Problem) -> list[Issue]:
    """Name a small set of rule groups that cannot hold together: CP-SAT's core
    under assumptions, then shrunk by dropping one group at a time while the
    rest stays contradictory. Empty if the rules can all hold."""
    model = _Joint(prob, diagnose=True)
    infeasible = model.cp.INFEASIBLE
    status, solver = model.solve_assuming(model.groups, DIAGNOSE_DTIME)
    if status != infeasible:
        return []
    by_index = {lit.index: (lit, issue) for lit, issue in model.groups}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    keep = core or list(model.groups)
    for item in list(keep)[:40]:  # bounded effort
        trial = [g for g in keep if g is not item]
        if trial and model.solve_assuming(trial, DIAGNOSE_DTIME / 5)[0] == infeasible:
            keep = trial
    parts = [i for _, i in keep if i.code not in ("rule_gap", "rule_pinned")]
    gaps = [str(i.params["sites"]) for _, i in keep if i.code == "rule_gap"]
    pins = [str(i.params["visits"]) for _, i in keep if i.code == "rule_pinned"]
    if gaps:
        shown = ", ".join(gaps[:5]) + (f" och {len(gaps) - 5} till" if len(gaps) > 5 else "")
        parts.append(Issue("rule_gap", {"min": prob.rules.min_gap_days, "sites": shown}))
    if pins:
        parts.append(Issue("rule_pinned", {"visits": ", ".join(pins)}))
    return [Issue("conflict", {"rules": "; ".join(p.text for p in parts)})]


# --------------------------------------------------------------------------
# Route order within a week
# --------------------------------------------------------------------------


def _route_order(dates: dict[tuple[int, int], date], visits: Sequence[VisitRequest],
                 by_id: Mapping[int, Site], rules: Rules) -> dict[tuple[int, int], date]:
    """Within each ISO week, swap the dates of freely placeable visits so the
    week's trip is travelled in its cheapest order (the objective's minutes). Never touches a pinned visit or
    one the solver left on its ``current`` date; keeps windows and the gap (the
    days themselves and the counts per day and week do not change)."""
    dates = dict(dates)
    req = {v.key: v for v in visits}
    weeks: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for k, d in dates.items():
        weeks[_iso_week(d)].append(k)
    rounds_of: dict[int, list[int]] = defaultdict(list)
    for v in visits:
        rounds_of[v.site_id].append(v.round)

    def fits(k: tuple[int, int], assign: Mapping[tuple[int, int], date]) -> bool:
        d = assign[k]
        start, end = rules.windows[k[1]]
        if not start <= d <= end:  # overlapping windows can share a week
            return False
        rs = sorted(rounds_of[k[0]])
        i = rs.index(k[1])
        if i > 0 and (d - assign[(k[0], rs[i - 1])]).days < rules.min_gap_days:
            return False
        return not (i + 1 < len(rs) and (assign[(k[0], rs[i + 1])] - d).days < rules.min_gap_days)

    home = home_place(rules)

    def week_km(ks: Iterable[tuple[int, int]], assign: Mapping[tuple[int, int], date]) -> float:
        """The week's cost in the objective's minutes (travel, nights away, km) on these days."""
        sub = {k: assign[k] for k in ks}
        total = 0.0
        for t in _week_trips(sub, by_id, rules):
            days = t.dates if all(b > a for a, b in zip(t.dates, t.dates[1:])) else None
            j = T.journey(home, [by_id[i].place() for i in t.site_ids], rules.travel, days)
            total += j.hours * 60 + j.overnights * OVERNIGHT_MINUTES + j.km * KM_MINUTES
        return total

    for wk in sorted(weeks):
        ks = sorted(weeks[wk])
        free = [k for k in ks if req[k].pinned is None and (req[k].current is None or req[k].current != dates[k])]
        if len({k[1] for k in free}) > 1:
            continue  # swapping dates across rounds could change a round's months
        if not 2 <= len(free) <= 6:  # 6! orders at most
            continue
        best_km, best = week_km(ks, dates), dates
        for perm in itertools.permutations(dates[k] for k in free):
            trial = {**dates, **dict(zip(free, perm))}
            km = week_km(ks, trial)
            if km < best_km - 1e-6 and all(fits(k, trial) for k in free):
                best_km, best = km, trial
        dates = best
    return dates
