"""Read-only views of the visits for the pages: what is due, a month calendar, a round's map and trips.

Nothing here writes; the pages in views.py stay thin by asking these functions.
"""
from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, selectinload

from ..contacts.models import Attendee, Contact
from ..extensions import db
from ..outbox.models import FAILED, OutboxMessage
from ..paging import Page, page_of
from ..registry.models import Kommun, Lan
from ..sampling.models import Site
from . import planner
from .defaults import assignment
from .models import BEKRAFTAD, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, INSTALLD, Blackout, Visit
from .service import rules, visits, window_info

PROPOSAL_HORIZON_DAYS = 42  # proposals in the next six weeks that are not invited yet
UPCOMING_DAYS = 30
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today() -> date:
    """The office's today (Swedish time).

    `COORDINATOR_TODAY` (YYYY-MM-DD) in the config or the environment fixes it (tests, benchmarks);
    otherwise, while the database holds `coordinator demo` data, it is the day the demo stands at,
    so the invented assignment reads as if it were running now."""
    fixed = current_app.config.get("COORDINATOR_TODAY")
    if fixed:
        return date.fromisoformat(fixed)
    a = assignment()
    if a is not None and a.demo_as_of is not None:
        return a.demo_as_of
    return datetime.now(STOCKHOLM).date()


# --------------------------------------------------------------------------- what is due next

@dataclass
class Due:
    on: date
    undated: list[Visit] = field(default_factory=list)
    proposals_soon: list[Visit] = field(default_factory=list)
    unanswered: list[tuple[Visit, date, int]] = field(default_factory=list)  # visit, invited on, pending answers
    moved: list[Visit] = field(default_factory=list)
    upcoming: list[Visit] = field(default_factory=list)
    failed_messages: int = 0
    total: int = 0
    unanswered_after_days: int = 14

    @property
    def anything(self) -> bool:
        return bool(self.undated or self.proposals_soon or self.unanswered or self.moved or self.upcoming
                    or self.failed_messages)


def last_request_sent(visit_ids=None) -> dict[int, datetime]:
    """Each visit's latest queued REQUEST (when the current invitation went out); all visits, or these."""
    stmt = (select(OutboxMessage.visit_id, func.max(OutboxMessage.created_at))
            .where(OutboxMessage.kind == "request", OutboxMessage.visit_id.isnot(None)))
    if visit_ids is not None:
        stmt = stmt.where(OutboxMessage.visit_id.in_(list(visit_ids)))
    return {visit_id: at for visit_id, at in db.session.execute(stmt.group_by(OutboxMessage.visit_id)).all()}


def answers(visit_ids=None) -> dict[int, dict[str, int]]:
    """Per visit, how many invited people gave each answer (PARTSTAT -> count); all visits, or these."""
    stmt = select(Attendee.visit_id, Attendee.partstat, func.count()).where(Attendee.visit_id.isnot(None))
    if visit_ids is not None:
        stmt = stmt.where(Attendee.visit_id.in_(list(visit_ids)))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for visit_id, partstat, n in db.session.execute(stmt.group_by(Attendee.visit_id, Attendee.partstat)):
        out[visit_id][partstat] = n
    return out


def local_day(at: datetime) -> date:
    """The Swedish calendar day of a stored moment (SQLite hands back naive UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(STOCKHOLM).date()


EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def chosen_day() -> date:
    """The day a page is looked at: `?datum=ÅÅÅÅ-MM-DD` within reason, else today (with a message saying why)."""
    from flask import flash, request
    from flask_babel import gettext as _

    raw = (request.args.get("datum") or "").strip()
    if not raw:
        return today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        flash(_("Datumet ska skrivas ÅÅÅÅ-MM-DD. Visar läget i dag."), "warning")
        return today()
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        flash(_("Välj ett datum mellan %(a)s och %(b)s. Visar läget i dag.", a=EARLIEST_DAY.isoformat(),
                b=LATEST_DAY.isoformat()), "warning")
        return today()
    return day


def due(on: date) -> Due:
    all_visits = visits()
    out = Due(on=on, total=len(all_visits), unanswered_after_days=assignment().unanswered_after_days)
    open_visits = [v for v in all_visits if v.status not in (INSTALLD, GENOMFORD)]
    out.undated = [v for v in open_visits if v.date is None]
    horizon = on + timedelta(days=PROPOSAL_HORIZON_DAYS)
    out.proposals_soon = [v for v in open_visits if v.status == FORSLAG and v.date is not None
                          and on <= v.date <= horizon]
    sent = last_request_sent()
    given = answers()
    for v in open_visits:
        pending = given.get(v.id, {}).get("NEEDS-ACTION")
        if v.status in (INBJUDEN, FLYTTAD) and pending and v.id in sent:
            invited_on = local_day(sent[v.id])
            if (on - invited_on).days > out.unanswered_after_days:
                out.unanswered.append((v, invited_on, pending))
    out.moved = [v for v in open_visits if v.status == FLYTTAD]
    soon = on + timedelta(days=UPCOMING_DAYS)
    out.upcoming = sorted((v for v in open_visits if v.status in (INBJUDEN, BEKRAFTAD, FLYTTAD)
                           and v.date is not None and on <= v.date <= soon), key=lambda v: (v.date, v.start_time))
    out.failed_messages = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == FAILED)) or 0
    return out


@dataclass
class RoundSummary:
    round: int
    start: date
    end: date
    total: int = 0
    dated: int = 0
    booked: int = 0
    done: int = 0
    cancelled: int = 0


def round_summaries() -> list[RoundSummary]:
    """Per round: how many visits, how many have a date, are booked, done or cancelled."""
    windows = window_info()["windows"]
    out = {r: RoundSummary(r, *windows[r]) for r in (1, 2)}
    for v in visits():
        s = out.get(v.round)
        if s is None:
            continue
        s.total += 1
        s.dated += v.date is not None and v.status != INSTALLD
        s.booked += v.status in (INBJUDEN, BEKRAFTAD, FLYTTAD)
        s.done += v.status == GENOMFORD
        s.cancelled += v.status == INSTALLD
    return [s for s in out.values() if s.total]


def first_round_to_plan() -> str:
    """The planning form's default: the first round with visits without a date."""
    for v in visits():
        if v.date is None and v.status != INSTALLD:
            return str(v.round)
    return "1"


# --------------------------------------------------------------------------- a proposal from the planner

@dataclass
class TripRow:
    number: int
    round: int
    visits: list[dict]

    @property
    def first(self) -> str:
        return self.visits[0]["date"]

    @property
    def last(self) -> str:
        return self.visits[-1]["date"]


def proposal(result: dict) -> dict:
    """service.plan's result with the trips grouped, for the proposal table."""
    trips: dict[tuple[int, int], TripRow] = {}
    for v in result["visits"]:
        if v.get("trip") is None:
            continue
        key = (v["round"], v["trip"])
        trips.setdefault(key, TripRow(v["trip"], v["round"], [])).visits.append(v)
    ordered = sorted(trips.values(), key=lambda t: (t.round, t.number))
    visit_ids = [v["visit_id"] for v in result["visits"]]
    # One query for the visits with their site, kommun and län, not three per row.
    query = select(Visit).where(Visit.id.in_(visit_ids)).options(
        selectinload(Visit.site).selectinload(Site.kommun).selectinload(Kommun.lan))
    by_id = {v.id: v for v in db.session.scalars(query)} if visit_ids else {}
    rows = []
    for v in result["visits"]:
        visit = by_id.get(v["visit_id"])
        rows.append({**v, "day": date.fromisoformat(v["date"]), "visit": visit,
                     "lan": visit.site.kommun.lan.namn if visit else "",
                     "booked": bool(visit and visit.booked)})
    stats = result["stats"]
    load = []  # per round: (month, visits, the even pace), months of the window and of the plan
    for r in sorted(set(stats.get("monthly_load", {})) | set(stats.get("monthly_targets", {}))):
        counts, targets = stats["monthly_load"].get(r, {}), stats["monthly_targets"].get(r, {})
        load.append((r, [(m, counts.get(m, 0), targets.get(m)) for m in sorted(set(counts) | set(targets))]))
    return {"rows": rows, "trips": ordered, "stats": stats, "load": load, "staffing": result.get("staffing", []),
            "pace_warning": result.get("pace_warning"), "windows": result.get("windows", {}),
            "moved": sum(1 for v in result["visits"] if v.get("moved")),
            "fingerprint": fingerprint(result)}


def fingerprint(result: dict) -> str:
    """A short digest of the proposed dates: tells whether the saved plan is the one that was shown."""
    text = ";".join(f"{v['visit_id']}={v['date']}" for v in sorted(result["visits"], key=lambda v: v["visit_id"]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- the lists' län filter

def visits_page(args, where: list, total: int, per_page: int, order_by: tuple, *options) -> tuple[Page, list[Visit]]:
    """One page of the visits that `where` keeps (all of them, `total`, when it is empty), with their site, kommun
    and län loaded in the same statement; the page that the query string `args` asks for. Two statements at most,
    whatever the number of visits (the visits list and the dialogue index)."""
    if where:
        total = db.session.scalar(select(func.count(Visit.id)).select_from(Visit)
                                  .join(Site, Visit.site_id == Site.id)
                                  .join(Kommun, Site.kommunkod == Kommun.kommunkod).where(*where))
    page = page_of(args, total, per_page)
    visits = list(db.session.scalars(
        select(Visit).join(Visit.site).join(Site.kommun).join(Kommun.lan).where(*where)
        .options(contains_eager(Visit.site).contains_eager(Site.kommun).contains_eager(Kommun.lan), *options)
        .order_by(*order_by).offset(page.offset).limit(page.per_page)))
    return page, visits


def visit_lans() -> list[tuple[str, str, int]]:
    """(län code, name, visits) for each län with visits, in län order: the lists' län filter and their total."""
    return [tuple(r) for r in db.session.execute(
        select(Lan.lanskod, Lan.namn, func.count(Visit.id)).select_from(Visit)
        .join(Site, Visit.site_id == Site.id).join(Kommun, Site.kommunkod == Kommun.kommunkod)
        .join(Lan, Kommun.lanskod == Lan.lanskod)
        .group_by(Lan.lanskod, Lan.namn).order_by(Lan.lanskod))]


# --------------------------------------------------------------------------- month calendar

@dataclass
class Day:
    day: date
    in_month: bool
    holiday: str | None
    blackouts: list[str]
    visits: list[Visit]
    today: bool = False

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class Month:
    year: int
    month: int
    weeks: list[tuple[int, list[Day]]]  # (ISO week number, Monday..Sunday)
    prev: tuple[int, int]
    next: tuple[int, int]
    count: int


def default_month(on: date) -> tuple[int, int]:
    """The month to open: this month if it has visits, else the next month with a visit, else the last one."""
    # One statement, two dates: the first (not cancelled) visit from the first of this month on, and the last.
    start = on.replace(day=1)
    first, last = db.session.execute(
        select(func.min(case((Visit.date >= start, Visit.date))), func.max(Visit.date))
        .where(Visit.date.isnot(None), Visit.status != INSTALLD)).one()
    if last is None or (first is not None and (first.year, first.month) == (on.year, on.month)):
        return on.year, on.month
    d = first if first is not None else last  # with none in this month, the first from it on is on or after `on`
    return d.year, d.month


def month(year: int, month_: int, on: date | None = None) -> Month:
    cal = calendar.Calendar(firstweekday=0)  # Monday first
    days = list(cal.itermonthdates(year, month_))
    first, last = days[0], days[-1]
    holidays = {**planner.swedish_holidays(first.year), **planner.swedish_holidays(last.year)}
    blackouts = list(db.session.scalars(select(Blackout).where(Blackout.start_date <= last,
                                                               Blackout.end_date >= first)
                                        .order_by(Blackout.start_date)))
    by_day: dict[date, list[Visit]] = defaultdict(list)
    query = (select(Visit).join(Site).where(Visit.date >= first, Visit.date <= last)
             .order_by(Visit.date, Visit.start_time, Site.position))
    for v in db.session.scalars(query):
        by_day[v.date].append(v)
    weeks = []
    for i in range(0, len(days), 7):
        week = [Day(d, d.month == month_, holidays.get(d), [b.name for b in blackouts if b.start_date <= d <= b.end_date],
                    by_day.get(d, []), d == on) for d in days[i:i + 7]]
        weeks.append((days[i].isocalendar()[1], week))
    prev = (year - 1, 12) if month_ == 1 else (year, month_ - 1)
    nxt = (year + 1, 1) if month_ == 12 else (year, month_ + 1)
    count = sum(len(vs) for d, vs in by_day.items() if d.month == month_)
    return Month(year, month_, weeks, prev, nxt, count)


# --------------------------------------------------------------------------- a round on the map

# Colours of the map by status, from the Okabe–Ito palette (told apart with colour-blindness too);
# the legend and the table say the same in words.
UNDATED = "utan_datum"
MAP_COLOURS = {
    UNDATED: "#f0e442",
    FORSLAG: "#e69f00",
    INBJUDEN: "#56b4e9",
    FLYTTAD: "#cc79a7",
    BEKRAFTAD: "#0072b2",
    GENOMFORD: "#009e73",
    INSTALLD: "#4d4d4d",
}
# Which visit of a kommun with several sites colours it: the one furthest from done.
MAP_ORDER = (UNDATED, FORSLAG, FLYTTAD, INBJUDEN, BEKRAFTAD, GENOMFORD, INSTALLD)


def map_key(v: Visit) -> str:
    return UNDATED if v.status == FORSLAG and v.date is None else v.status


@dataclass
class RoundMap:
    round: int
    visits: list[Visit]
    by_kommun: dict[str, list[Visit]]
    counts: dict[str, int]
    trips: list[planner.Trip]
    km: float
    travel_days: int
    labels: dict[int, str]  # site id -> label


def round_map(round_: int) -> RoundMap:
    # The round's visits with their site, kommun and län (joined); who travels is not on the map, so not read.
    vs = list(db.session.scalars(select(Visit).join(Site).where(Visit.round == round_)
                                 .order_by(Visit.date.is_(None), Visit.date, Site.position)))
    by_kommun: dict[str, list[Visit]] = defaultdict(list)
    counts: dict[str, int] = {k: 0 for k in MAP_ORDER}
    for v in vs:
        by_kommun[v.site.kommunkod].append(v)
        counts[map_key(v)] += 1
    dated = [v for v in vs if v.date is not None and v.status != INSTALLD]
    sites = [planner.Site(v.site_id, v.site.label, v.site.kommun.lat, v.site.kommun.lon) for v in dated]
    # The trips by the planner's trip definition with their great-circle km: all the map shows. (travel_summary
    # would also work out each journey's modes, hours and CO2 with the travel model, which the map does not show.)
    trips = planner._week_trips({(v.site_id, v.round): v.date for v in dated}, {s.id: s for s in sites}, rules())
    return RoundMap(round_, vs, dict(by_kommun), counts, trips, round(sum(t.km for t in trips), 1),
                    sum(t.travel_days for t in trips), {v.site_id: v.site.label for v in vs})


def home_name() -> str:
    a = assignment()
    return a.home_name if a else "Stockholm"


def active_contact_count(site_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Contact)
                             .where(Contact.site_id == site_id, Contact.active)) or 0
