"""Visits of the adopted sample: creation, planning through planner.py, and the life cycle.

Every change that the kommun has been told about goes out as an iTIP message through the
outbox, written in the same transaction as the change itself (by the invitations, asked through signals.py).
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, time
from typing import Iterable
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload, subqueryload

from ..audit import record
from ..contacts.models import Attendee, Contact
from ..extensions import db
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..timeutil import utcnow
from . import planner, signals, staffing
from .defaults import assignment
from .models import (BEKRAFTAD, BOOKED, FLYTTAD, FORSLAG, GENOMFORD, INBJUDEN, INSTALLD, Blackout, MonthPace,
                     Phase, StaffMember, Visit, VisitPart)
from .travel import TravelSettings

STOCKHOLM = ZoneInfo("Europe/Stockholm")

ROUNDS = (1, 2)


class VisitError(Exception):
    """A request that breaks the visit life cycle; the message is for the user."""


def default_programme(start: time, end: time) -> list[VisitPart]:
    """The visit's usual programme (DOMAIN.md): leadership, unions, children and guardians."""
    return [
        VisitPart(position=1, kind="ledning", title=_("Dialog med ledningen"), start_time=start, end_time=time(12, 0)),
        VisitPart(position=2, kind="fack", title=_("Dialog med fackliga företrädare"), start_time=time(13, 0),
                  end_time=time(14, 0)),
        VisitPart(position=3, kind="barn", title=_("Samtal med barn och vårdnadshavare"), start_time=time(14, 0),
                  end_time=end),
    ]


def visits(round_: int | None = None) -> list[Visit]:
    # The site comes from the join (with its kommun and län): every page that lists visits shows them. The staff
    # by subqueryload: one statement however many visits (selectinload sends one per 500).
    query = (select(Visit).join(Site).options(contains_eager(Visit.site), subqueryload(Visit.staff))
             .order_by(Visit.round, Visit.date.is_(None), Visit.date, Site.position))
    if round_ is not None:
        query = query.where(Visit.round == round_)
    return list(db.session.scalars(query))


def ensure_visits() -> list[Visit]:
    """Two visits per active site of the adopted sample; a declined site's open visits are cancelled."""
    sample = adopted_sample()
    if sample is None:
        raise VisitError(_("Inget urval är antaget. Anta ett urval innan besöken planeras."))
    a = assignment()
    existing = {(v.site_id, v.round): v for v in db.session.scalars(select(Visit))}
    created = []
    for site in sample.active_sites:
        for r in ROUNDS:
            if (site.id, r) not in existing:
                visit = Visit(site=site, round=r, date=None, start_time=a.default_start, end_time=a.default_end,
                              location="", status=FORSLAG, uid=f"{uuid.uuid4()}@coordinator", sequence=0,
                              parts=default_programme(a.default_start, a.default_end))
                db.session.add(visit)
                created.append(visit)
    for (site_id, _r), visit in existing.items():
        if not visit.site.active and visit.status not in (INSTALLD, GENOMFORD):
            cancel(visit, reason="site_declined")
    if created:
        db.session.flush()
        record("visit.created", object_type="visit", object_id=None, count=len(created))
    return created


# --- planning --------------------------------------------------------------------------------

def adopted_on() -> date | None:
    """The day the adopted sample was adopted (office time), or None."""
    sample = adopted_sample()
    if sample is None or sample.adopted_at is None:
        return None
    at = sample.adopted_at
    if at.tzinfo is not None:
        at = at.astimezone(STOCKHOLM)
    return at.date()


def derived_windows(a, phases: list[Phase] | None = None
                    ) -> tuple[dict[int, tuple[date, date]] | None, str | None]:
    """(windows, None) from the phases (planner.phase_windows), or (None, why not) in plain Swedish."""
    if phases is None:
        phases = list(db.session.scalars(select(Phase).order_by(Phase.number, Phase.start_date)))
    by_number = {p.number: (p.start_date, p.end_date) for p in phases}
    try:
        return planner.phase_windows(by_number, adopted_on(), max(0, a.invitation_lead_days or 0)), None
    except ValueError as e:
        return None, str(e)


def window_info() -> dict:
    """The rounds' windows and where they come from: {"windows": {round: (first, last)}, "source": "phases" or
    "manual", "problem": why the phases could not be used (Swedish) or None}."""
    a = assignment()
    manual = {1: (a.round1_start, a.round1_end), 2: (a.round2_start, a.round2_end)}
    if not a.windows_from_phases:
        return {"windows": manual, "source": "manual", "problem": None}
    windows, why = derived_windows(a)
    if windows is None:
        return {"windows": manual, "source": "manual",
                "problem": _("Fönstren kan inte räknas fram ur faserna (%(why)s), så de fönster som är angivna "
                             "för hand används.", why=(why or "").rstrip("."))}
    return {"windows": windows, "source": "phases", "problem": None}


def plan_from(today: date) -> date | None:
    """The first day a re-plan may give a visit that is not booked: today while the rounds' windows run, so
    no new date lies in the past; otherwise no limit (before the assignment the windows start later anyway,
    after it there is nothing left to plan for)."""
    windows = window_info()["windows"].values()
    first, last = min(s for s, _e in windows), max(e for _s, e in windows)
    return today if first <= today <= last else None


def _coordinator() -> StaffMember | None:
    return db.session.scalars(select(StaffMember).where(StaffMember.active, StaffMember.coordinator)
                              .options(selectinload(StaffMember.absences)).order_by(StaffMember.id)).first()


def rules(earliest: date | None = None, windows: dict[int, tuple[date, date]] | None = None) -> planner.Rules:
    """The planner's rules from the assignment: windows (window_info, unless given), blackouts and the
    coordinator's absences (the coordinator goes on every visit), the office's monthly pace, the report weeks,
    travel."""
    a = assignment()
    windows = window_info()["windows"] if windows is None else windows
    blackouts = [planner.Blackout(b.start_date, b.end_date, b.name) for b in db.session.scalars(select(Blackout))]
    coordinator = _coordinator()
    if coordinator is not None:
        blackouts += [planner.Blackout(x.start_date, x.end_date, _("samordnaren är ledig"))
                      for x in coordinator.absences if x.start_date <= x.end_date]
    pace = {(p.year, p.month): p.weight for p in db.session.scalars(select(MonthPace))
            if p.weight is not None and p.weight >= 0}
    first = min(s for s, _e in windows.values())
    last = max(e for _s, e in windows.values())
    dues = planner.report_dues(a.report_start, a.report_interval_months or 3, a.report_due_days or 0, first, last)
    try:
        travel = TravelSettings(max_day_hours=a.max_day_hours or TravelSettings.max_day_hours)
    except ValueError:
        travel = TravelSettings()
    return planner.Rules(
        windows=windows, blackouts=tuple(blackouts), max_per_day=a.max_per_day, max_per_week=a.max_per_week,
        min_gap_days=a.min_gap_days, home=(a.home_lat, a.home_lon), earliest=earliest, pace=pace,
        report_dues=dues, free_week_before_report=bool(a.report_week_free), travel=travel)


def _planner_sites(open_visits: list[Visit]) -> list[planner.Site]:
    return list({v.site_id: planner.Site(v.site_id, v.site.label, v.site.kommun.lat, v.site.kommun.lon)
                 for v in open_visits}.values())


def _planner_inputs(round_: int | None, all_visits: list[Visit]) -> tuple[list[planner.Site],
                                                                         list[planner.VisitRequest]]:
    open_visits = [v for v in all_visits if v.status != INSTALLD]
    requests = []
    for v in open_visits:
        # Visits outside the requested round, booked ones and those whose date the kommun chose keep their dates.
        fixed = v.fixed or (round_ is not None and v.round != round_)
        if fixed and v.date is None:
            continue
        requests.append(planner.VisitRequest(site_id=v.site_id, round=v.round,
                                             pinned=v.date if fixed else None, current=v.date))
    return _planner_sites(open_visits), requests


def _staff_members() -> list[StaffMember]:
    return list(db.session.scalars(select(StaffMember).options(selectinload(StaffMember.absences))
                                   .order_by(StaffMember.id)))


def _staffing(result: planner.Plan, by_key: dict, keep_keys: set) -> tuple[dict, list[str]]:
    """Who goes on each planned visit: {(site_id, round): [StaffMember]} and warnings (Swedish)."""
    members = _staff_members()
    if not members:
        return {}, [_("Inga medarbetare är inlagda, så planen säger inte vem som åker. Lägg till medarbetarna "
                      "under uppdragets inställningar.")]
    # The visits of one week travel together for staffing: the planner makes a week's visits near home day
    # trips beside the week's trip away, and a team that sleeps away after Monday's visit can go on from there
    # to Tuesday's day trip, so they are not two bookings on the travel day.
    def week(d: date) -> int:
        y, w, _d = d.isocalendar()
        return y * 100 + w
    requests = [staffing.StaffVisit(key=key, date=d, trip=week(d),
                                    overnight_before=result.nights.get(key, (False, False))[0],
                                    overnight_after=result.nights.get(key, (False, False))[1],
                                    label=by_key[key].site.label)
                for key, d in result.dates.items()]
    staff = [staffing.StaffMember(m.id, m.name, bool(m.coordinator),
                                  tuple((x.start_date, x.end_date) for x in m.absences), bool(m.active))
             for m in members]
    keep = {key: [m.id for m in by_key[key].staff] for key in keep_keys if key in by_key and by_key[key].staff}
    need = max(0, assignment().staff_per_visit or 0)
    try:
        chosen = staffing.assign(requests, staff, need, keep=keep, gettext=_)
    except staffing.StaffingError as e:
        return {}, [_("Vem som åker kunde inte bestämmas: %(why)s", why=p) for p in e.problems]
    problems = staffing.check(requests, staff, need, chosen, gettext=_)
    if problems:
        return {}, [_("Vem som åker kunde inte bestämmas: %(why)s", why=p) for p in problems]
    by_id = {m.id: m for m in members}
    return {key: sorted((by_id[i] for i in ids), key=lambda m: (not m.coordinator, m.name))
            for key, ids in chosen.staff.items()}, []


def plan(round_: int | None = None, save: bool = False, user=None, time_limit: float | None = None,
         earliest: date | None = None) -> dict:
    """Propose dates for the visits of one round (1, 2) or both (None); none before `earliest` if given.
    Then who goes (staffing.py) and how (the travel model); with `save`, dates, modes and staff are stored
    on the visits that are not booked or agreed."""
    ensure_visits()
    all_visits = visits()
    sites, requests = _planner_inputs(round_, all_visits)
    info = window_info()
    the_rules = rules(earliest, info["windows"])
    settings = planner.SolverSettings(time_limit_s=time_limit)
    pace_warning = None
    try:
        result = planner.plan(requests, sites, the_rules, settings)
    except planner.PlanningError as e:
        if not the_rules.level:
            raise VisitError("; ".join(e.problems)) from e
        # Late in a round the booked and agreed visits may leave the even pace no room. A plan that keeps
        # every other rule is then better than none: plan without the pace and say why.
        try:
            result = planner.plan(requests, sites, replace(the_rules, level=False), settings)
        except planner.PlanningError:
            raise VisitError("; ".join(e.problems)) from e
        pace_warning = _("Den jämna takten per månad gick inte att hålla med de besök som redan är bokade eller "
                         "valda av kommunen, så förslaget håller alla andra regler men inte takten. Skälet: "
                         "%(why)s", why="; ".join(e.problems))
    by_key = {(v.site_id, v.round): v for v in all_visits}
    # Trips are numbered within each round, in date order (the model's "trip number within the
    # round"). A trip is keyed by its visits' (site, date): a week may mix rounds (trip.round None).
    round_on = {(site_id, d): r for (site_id, r), d in result.dates.items()}
    trip_of, numbers = {}, {}
    for trip in result.trips:
        rounds = {round_on.get((site_id, d)) for site_id, d in zip(trip.site_ids, trip.dates)}
        for r in sorted(x for x in rounds if x is not None):
            numbers[r] = numbers.get(r, 0) + 1
            for site_id, d in zip(trip.site_ids, trip.dates):
                if round_on.get((site_id, d)) == r:
                    trip_of[(site_id, r)] = numbers[r]
    # Visits whose dates this plan does not set keep their people.
    keep_keys = {key for key, v in by_key.items() if v.fixed or (round_ is not None and v.round != round_)}
    team, staffing_warnings = _staffing(result, by_key, keep_keys)
    out = []
    for (site_id, r), d in sorted(result.dates.items(), key=lambda kv: (kv[1], kv[0])):
        visit = by_key[(site_id, r)]
        if round_ is not None and r != round_:
            continue
        key = (site_id, r)
        people = team.get(key) if team else None
        out.append({"visit_id": visit.id, "site": visit.site.label, "kommunkod": visit.site.kommunkod,
                    "round": r, "date": d.isoformat(), "trip": trip_of.get(key),
                    "moved": visit.date is not None and visit.date != d,
                    "mode": result.modes.get(key), "staff": [m.name for m in (people or [])],
                    "overnight_before": result.nights.get(key, (False, False))[0],
                    "overnight_after": result.nights.get(key, (False, False))[1]})
        if save and not visit.fixed:
            visit.date = d
            visit.trip = trip_of.get(key)
            visit.mode = result.modes.get(key)
            if people is not None:
                visit.staff = list(people)
    st = result.stats
    # The travel figures of what was planned: one round's proposal is not charged with the other round's
    # visits (which the planner saw as fixed).
    tr = st if round_ is None else planner.travel_summary(
        {k: d for k, d in result.dates.items() if k[1] == round_}, sites, the_rules)
    if round_ is None:
        km, hours, overnights, co2, by_mode = st.km, st.travel_hours, st.overnights, st.co2_kg, st.by_mode
        travel_days, trips, day_trips = st.travel_days, st.trips, st.day_trips
    else:
        km, hours, overnights, co2, by_mode = tr.km, tr.hours, tr.overnights, tr.co2_kg, tr.by_mode
        travel_days, trips, day_trips = tr.travel_days, len(tr.trips) - tr.day_trips, tr.day_trips
    rounds = set(st.monthly_load) if round_ is None else {round_}
    targets = {r: months for r, months in st.monthly_targets.items() if r in rounds}
    loads = {r: months for r, months in st.monthly_load.items() if r in rounds}
    deviation = max((abs(loads.get(r, {}).get(m, 0) - targets.get(r, {}).get(m, 0.0))
                     for r in rounds for m in set(loads.get(r, {})) | set(targets.get(r, {}))), default=0.0)
    stats = {"travel_km": round(km, 1), "travel_days": travel_days, "trips": trips,
             "day_trips": day_trips, "moved": st.moved, "solver_status": st.status,
             "wall_s": round(st.wall_s, 2), "travel_hours": round(hours, 1),
             "overnights": overnights, "co2_kg": round(co2, 1),
             "by_mode": {m: {k: round(x, 1) for k, x in row.items()} for m, row in by_mode.items()},
             "monthly_load": {str(r): dict(months) for r, months in loads.items()},
             "monthly_targets": {str(r): {k: round(x, 2) for k, x in months.items()} for r, months in targets.items()},
             "max_deviation": round(deviation, 2)}
    if save:
        db.session.flush()
        record("visit.planned", object_type="visit", object_id=None, round=round_ or "all",
               visits=len(out), moved=sum(1 for v in out if v["moved"]))
    return {"visits": out, "stats": stats,
            "windows": {str(r): [s.isoformat(), e.isoformat()] for r, (s, e) in the_rules.windows.items()},
            "window_source": info["source"], "window_problem": info["problem"],
            "staffing": staffing_warnings, "pace_warning": pace_warning}


def warnings_for(visit: Visit, new_date: date | None) -> list[str]:
    """Rules a hand change would break (shown to staff, who may still go ahead)."""
    if new_date is None:
        return []
    open_visits = [v for v in visits() if v.status != INSTALLD and (v.date is not None or v.id == visit.id)]
    dates = {(v.site_id, v.round): v.date for v in open_visits}
    dates[(visit.site_id, visit.round)] = new_date
    requests = [planner.VisitRequest(v.site_id, v.round) for v in open_visits]
    problems = planner.check(dates, requests, _planner_sites(open_visits), rules())
    # Only what this change touches: its own date, its site, its day or its week.
    week = new_date.isocalendar()[:2]
    return [p.message for p in problems
            if p.site_id == visit.site_id or p.date == new_date
            or (p.date is not None and p.date.isocalendar()[:2] == week)]


def active_staff() -> list[StaffMember]:
    """The active staff members, the coordinator first, with their absences."""
    return list(db.session.scalars(select(StaffMember).where(StaffMember.active)
                                   .options(selectinload(StaffMember.absences))
                                   .order_by(StaffMember.coordinator.desc(), StaffMember.name, StaffMember.id)))


def set_staff(visit: Visit, staff_ids: Iterable[int], user=None) -> bool:
    """Who goes on the visit, chosen by hand. Refused (VisitError) for somebody inactive, absent that day or
    already on another visit that day. False if nothing changed."""
    ids = set(staff_ids)
    members = {m.id: m for m in active_staff()}
    if ids - set(members):
        raise VisitError(_("Någon av de valda medarbetarna finns inte längre eller är inte aktiv. Ladda om sidan "
                           "och välj igen."))
    chosen = sorted((members[i] for i in ids), key=lambda m: (not m.coordinator, m.name))
    if visit.date is not None:
        for m in chosen:
            if any(x.start_date <= visit.date <= x.end_date for x in m.absences):
                raise VisitError(_("%(name)s är ledig %(date)s och kan inte åka på besöket. Ingenting ändrades.",
                                   name=m.name, date=visit.date.isoformat()))
        same_day = db.session.scalars(select(Visit).where(Visit.date == visit.date, Visit.id != visit.id,
                                                          Visit.status != INSTALLD)
                                      .options(selectinload(Visit.staff))).all()
        for other in same_day:
            for m in chosen:
                if m in other.staff:
                    raise VisitError(_("%(name)s åker redan på besöket i %(site)s samma dag. Ingenting ändrades.",
                                       name=m.name, site=other.site.label))
    before = {m.id for m in visit.staff}
    if before == ids:
        return False
    visit.staff = chosen
    visit.updated_at = utcnow()  # the visit row changes too: its version rises
    record("visit.staff_changed", visit, count=len(ids), added=len(ids - before), removed=len(before - ids))
    return True


# --- life cycle ------------------------------------------------------------------------------

def _attendees_from_contacts(visit: Visit) -> None:
    if visit.attendees:
        return
    contacts = db.session.scalars(select(Contact).where(Contact.site_id == visit.site_id, Contact.active)
                                  .order_by(Contact.name)).all()
    invited = {c.id for part in visit.parts for c in part.contacts}
    for c in contacts:
        if invited and c.id not in invited:
            continue
        visit.attendees.append(Attendee(contact=c, name=c.name, email=c.email, role="REQ-PARTICIPANT",
                                        partstat="NEEDS-ACTION"))


def invite(visit: Visit, user=None) -> None:
    if visit.status not in (FORSLAG,):
        raise VisitError(_("Bara föreslagna besök kan bjudas in."))
    if visit.date is None:
        raise VisitError(_("Besöket har inget datum än."))
    _attendees_from_contacts(visit)
    if not visit.attendees:
        raise VisitError(_("Besöksplatsen har inga aktiva kontakter att bjuda in. Lägg till kontakter först."))
    signals.send(signals.invitation_due, visit, user)
    visit.status = INBJUDEN
    record("visit.invited", visit, date=visit.date.isoformat())


def confirm(visit: Visit, user=None) -> None:
    if visit.status not in (INBJUDEN, FLYTTAD):
        raise VisitError(_("Bara inbjudna eller flyttade besök kan bekräftas."))
    visit.status = BEKRAFTAD
    record("visit.confirmed", visit)


def move(visit: Visit, new_date: date, start: time | None = None, end: time | None = None,
         location: str | None = None, user=None) -> list[str]:
    """Change date, time or place. A booked visit gets a new REQUEST (same UID, SEQUENCE+1)."""
    if visit.status in (INSTALLD, GENOMFORD):
        raise VisitError(_("Ett inställt eller genomfört besök kan inte flyttas."))
    start = start or visit.start_time
    end = end or visit.end_time
    if end <= start:
        raise VisitError(_("Sluttiden måste vara efter starttiden."))
    location = visit.location if location is None else location.strip()
    changed = (new_date, start, end, location) != (visit.date, visit.start_time, visit.end_time, visit.location)
    if not changed:
        return []
    warnings = warnings_for(visit, new_date)
    old = visit.date
    if new_date != old:
        visit.agreed = False  # no longer the day the kommun chose (a time or place change keeps it)
    visit.date, visit.start_time, visit.end_time, visit.location = new_date, start, end, location
    if visit.sent_sequence is not None:
        visit.sequence += 1
        signals.send(signals.invitation_due, visit, user)
        visit.status = FLYTTAD
    record("visit.moved", visit, old=old.isoformat() if old else None, new=new_date.isoformat(),
           warnings=len(warnings))
    return warnings


def cancel(visit: Visit, user=None, reason: str = "") -> None:
    if visit.status in (INSTALLD, GENOMFORD):
        raise VisitError(_("Besöket är redan inställt eller genomfört."))
    if visit.sent_sequence is not None and visit.attendees:
        signals.send(signals.cancellation_due, visit, user)
    visit.status = INSTALLD
    record("visit.cancelled", visit, reason=reason or None)


def complete(visit: Visit, user=None) -> None:
    if visit.status not in (BEKRAFTAD, INBJUDEN, FLYTTAD):
        raise VisitError(_("Bara bokade besök kan markeras som genomförda."))
    visit.status = GENOMFORD
    record("visit.completed", visit)


def booked_visits(statuses: Iterable[str] = BOOKED) -> list[Visit]:
    return [v for v in visits() if v.status in statuses]
