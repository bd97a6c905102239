"""Who travels: which staff members go on each planned visit.

Plain words
-----------
*Who goes.* Every visit needs the coordinator (the one active staff member
marked ``coordinator``) plus ``staff_per_visit`` other staff members (a
setting, default one). Inactive staff members are never booked.

*When somebody is booked* (``busy_days``). A staff member on a visit is booked
on the visit day; if the visit has ``overnight_before`` the team travels the
day before, so that day is booked too; if it has ``overnight_after`` the team
travels home (or on) the day after, and that day is booked too. An absence
(``StaffMember.absences``, first and last day inclusive) may not touch any
booked day.

*Double booking.* Nobody is on two visits on the same day. Nobody is on two
visits whose booked days overlap either, unless both belong to the same trip
(``StaffVisit.trip``): on a trip the team goes from one site to the next, so
the travel day after Monday's visit may be the travel day before Tuesday's.
The coordinator goes on every visit, so two visits on one day (or two visits
of different trips whose travel days touch) cannot both be staffed: that is
reported, not solved.

*The rules in order.* Hard: the coordinator on every visit, exactly
``staff_per_visit`` others on each, nobody double-booked, nobody booked
inside an absence. Soft, in this order: (1) the same companions for a whole
trip; (2) an even workload: the number of visits per staff member other than
the coordinator as equal as possible (largest minus smallest); (3) ties go to
the lower staff id, so the same input always gives the same answer.

*Booked visits keep their people* (``keep``). A re-plan must not reshuffle
who goes on visits that are already booked. Every member of ``keep[visit]``
stays on that visit as long as that is still allowed (still active, not
absent on a booked day, not double-booked by another kept visit: kept visits
are taken in date order, the earlier one wins). Only the members who are no
longer allowed are replaced, and only the free places are filled.

*Why no search is needed.* The coordinator goes on every visit, so two
visits that one person cannot both be on can never both be staffed: that is
reported first. Once the coordinator fits, no two visits clash for anybody,
and the only hard limit left for the others is their absences: a visit can be
staffed exactly when at least ``staff_per_visit`` others are present on all
its booked days. So ``assign`` either names the impossible visits or always
succeeds, and a fast greedy pass is enough; only the soft rules are choices.

*How it is done.* Visits of one trip are handled together, trips and lone
visits in date order. For a trip, the staff members who can come along on
most of its visits are chosen first (members already kept on the trip before
anybody else), then the least loaded, then the lowest id; each visit of the
trip then takes its companions from that order. A lone visit takes the least
loaded free staff members. Then the workload is levelled: while some staff
member has at least two visits more than another, and a whole part of a trip
(or a lone visit) can be handed from the busier to the less busy without
breaking a rule or making the two swap places, it is handed over (each
hand-over lowers the sum of squared loads, so this stops). Kept members are
never handed over. The levelling keeps trips whole, so with trips of three
visits the loads may differ by up to three: the trip comes first.

*When nobody can be found* ``assign`` raises ``StaffingError`` with Swedish
messages that name the date and why: the coordinator absent, two visits on
one day needing the coordinator twice (the coordinator can be on one visit a
day), or too few staff members present for a visit.

*Days the planner must avoid* (``unavailable_days``): the days on which no
visit could be staffed at all, because the coordinator is absent or fewer
than ``staff_per_visit`` others are present. The service gives these to the
planner as days off, so every plan it makes has somebody to send. Travel
days next to such a day, and two visits close together, are not covered by
this: ``assign`` names those cases.

``check`` validates an assignment independently of how it was made; the
service runs it before saving.

Pure Python: no Flask, database or solver here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

Key = tuple[int, int]  # (site_id, round), as the planner's VisitRequest.key


def N_(s: str) -> str:
    """Mark a string for translation extraction (pybabel knows ``N_``)."""
    return s


MESSAGES: dict[str, str] = {
    # how a visit without a label is named
    "visit_name": N_("plats {site}, omgång {round}"),
    # unavailable_days()
    "coordinator_absent_day": N_("Samordnaren är ledig"),
    "too_few_absent": N_("För få medarbetare på plats ({absent} av {total} lediga)"),
    "too_few_total": N_("För få medarbetare: {total} finns, {need} behövs på varje besök"),
    "no_coordinator_day": N_("Ingen samordnare är angiven"),
    # assign() / check()
    "no_coordinator": N_("Ingen aktiv medarbetare är angiven som samordnare"),
    "two_coordinators": N_("Flera aktiva medarbetare är angivna som samordnare ({names}); det ska vara en"),
    "duplicate_staff": N_("Medarbetaren med nummer {id} finns med flera gånger"),
    "duplicate_visit": N_("Besöket {visit} finns med flera gånger"),
    "bad_need": N_("Antalet medarbetare per besök måste vara 0 eller fler, inte {need}"),
    "coordinator_absent": N_("{date}: samordnaren är ledig, men ska vara med på besöket {visit}"),
    "coordinator_twice": N_(
        "{date}: både {visit} och {other} ligger den dagen. Samordnaren kan bara vara med på ett besök om dagen"
    ),
    "coordinator_travel": N_(
        "{date}: samordnaren kan inte vara med på både {visit} ({visit_date}) och {other} ({other_date}),"
        " resdagarna krockar. Samordnaren kan bara vara med på ett besök om dagen"
    ),
    "too_few_for_visit": N_(
        "{date}: besöket {visit} behöver {need} medarbetare utöver samordnaren, men bara {present} är på plats"
    ),
    # check()
    "missing": N_("{date}: besöket {visit} har ingen bemanning"),
    "unknown_visit": N_("Bemanningen gäller ett besök som inte finns i planen ({visit})"),
    "unknown_staff": N_("{date}: besöket {visit} har en okänd medarbetare (nummer {id})"),
    "inactive_staff": N_("{date}: {name} är inte längre aktiv men är bokad på besöket {visit}"),
    "coordinator_missing": N_("{date}: samordnaren är inte med på besöket {visit}"),
    "wrong_count": N_("{date}: besöket {visit} har {count} medarbetare utöver samordnaren, {need} behövs"),
    "repeated_staff": N_("{date}: {name} står flera gånger på besöket {visit}"),
    "absent": N_("{date}: {name} är ledig men är bokad på besöket {visit}"),
    "double_booked": N_("{date}: {name} är bokad på både {visit} och {other}"),
    "load": N_("Antalet besök för {name} stämmer inte: {load} angivet, {count} räknade"),
}


class StaffingError(Exception):
    """Nobody (or not enough people) can be sent; ``problems`` says why, in Swedish."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    coordinator: bool = False
    absences: tuple[tuple[date, date], ...] = ()  # (first, last) day, inclusive
    active: bool = True

    def absent_on(self, d: date) -> bool:
        return any(s <= d <= e for s, e in self.absences)


@dataclass(frozen=True)
class StaffVisit:
    key: Key  # (site_id, round)
    date: date
    trip: int | None = None  # visits with the same trip number travel together
    overnight_before: bool = False  # the team travels the day before: booked that day too
    overnight_after: bool = False  # the team travels the day after: booked that day too
    label: str = ""  # how messages name the visit (the kommun), optional


@dataclass(frozen=True)
class Assignment:
    staff: dict[Key, tuple[int, ...]]  # visit -> (coordinator, others by id)
    load: dict[int, int]  # staff id -> number of visits (every active member, 0 included)


def busy_days(visit: StaffVisit) -> tuple[date, ...]:
    """The days somebody on ``visit`` is booked: the visit day and its travel days."""
    days = [visit.date]
    if visit.overnight_before and visit.date > date.min:
        days.insert(0, visit.date - timedelta(days=1))
    if visit.overnight_after and visit.date < date.max:
        days.append(visit.date + timedelta(days=1))
    return tuple(days)


def clash(a: StaffVisit, b: StaffVisit) -> bool:
    """True if one person cannot be on both visits (see "Double booking")."""
    if a.date == b.date:
        return True
    if a.trip is not None and a.trip == b.trip:
        return False
    return bool(set(busy_days(a)) & set(busy_days(b)))


def _msg(code: str, gettext: Callable[[str], str], **params: object) -> str:
    """Translate the template first, then fill it in (a visit by its label, or site and round)."""
    named = MESSAGES["visit_name"]  # (not a literal inside gettext(): pybabel would extract the key)
    for k, value in params.items():
        if isinstance(value, StaffVisit):
            params[k] = value.label or gettext(named).format(site=value.key[0], round=value.key[1])
    return gettext(MESSAGES[code]).format(**params)


def _coordinators(staff: Sequence[StaffMember]) -> list[StaffMember]:
    return sorted((s for s in staff if s.active and s.coordinator), key=lambda s: s.id)


def _others(staff: Sequence[StaffMember]) -> list[StaffMember]:
    return sorted((s for s in staff if s.active and not s.coordinator), key=lambda s: s.id)


# --------------------------------------------------------------------------
# Days the planner must avoid
# --------------------------------------------------------------------------


def unavailable_days(
    staff: Sequence[StaffMember],
    staff_per_visit: int,
    start: date,
    end: date,
    gettext: Callable[[str], str] = lambda s: s,
) -> list[tuple[date, str]]:
    """The days in [start, end] on which no visit can be staffed, with the reason.

    Every calendar day is considered (the planner skips weekends and holidays
    itself). The coordinator's absence is named before a shortage of others.
    """
    coords = _coordinators(staff)
    others = _others(staff)
    need = max(0, staff_per_visit)
    out: list[tuple[date, str]] = []
    d = start
    while d <= end:
        if not coords:
            out.append((d, _msg("no_coordinator_day", gettext)))
        elif any(c.absent_on(d) for c in coords[:1]):
            out.append((d, _msg("coordinator_absent_day", gettext)))
        elif need:
            absent = sum(1 for s in others if s.absent_on(d))
            if len(others) - absent < need:
                if absent:
                    out.append((d, _msg("too_few_absent", gettext, absent=absent, total=len(others))))
                else:
                    out.append((d, _msg("too_few_total", gettext, total=len(others), need=need)))
        if d == date.max:
            break
        d += timedelta(days=1)
    return out


# --------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------


class _State:
    """Who is on which visit while assigning; answers "is p free for v?" fast."""

    def __init__(self, visits: Sequence[StaffVisit], others: Sequence[StaffMember]):
        self.visits = visits
        self.members = {s.id: s for s in others}
        self.on: dict[int, list[int]] = {i: [] for i in range(len(visits))}  # visit index -> staff ids
        self.booked: dict[int, dict[date, list[int]]] = {p: defaultdict(list) for p in self.members}
        self.load: dict[int, int] = {p: 0 for p in self.members}
        self.days = [busy_days(v) for v in visits]

    def allowed(self, p: int, i: int) -> bool:
        """Active and not absent on any of the visit's booked days."""
        m = self.members.get(p)
        return m is not None and not any(m.absent_on(d) for d in self.days[i])

    def free(self, p: int, i: int) -> bool:
        if p in self.on[i] or not self.allowed(p, i):
            return False
        v = self.visits[i]
        for d in self.days[i]:
            for j in self.booked[p].get(d, ()):
                if clash(v, self.visits[j]):
                    return False
        return True

    def add(self, p: int, i: int) -> None:
        self.on[i].append(p)
        for d in self.days[i]:
            self.booked[p][d].append(i)
        self.load[p] += 1

    def remove(self, p: int, i: int) -> None:
        self.on[i].remove(p)
        for d in self.days[i]:
            self.booked[p][d].remove(i)
        self.load[p] -= 1


def _prechecks(visits: Sequence[StaffVisit], coordinator: StaffMember, others: Sequence[StaffMember],
               need: int, gettext: Callable[[str], str]) -> list[str]:
    """Cheap counting checks that name the date and why no assignment exists."""
    problems: list[str] = []
    order = sorted(range(len(visits)), key=lambda i: (visits[i].date, visits[i].key))
    for i in order:
        v = visits[i]
        for d in busy_days(v):
            if coordinator.absent_on(d):
                problems.append(_msg("coordinator_absent", gettext, date=d.isoformat(), visit=v))
                break
    # the coordinator twice: every pair of visits less than three days apart
    # (booked days reach one day either side, so farther pairs never clash)
    for a_pos, i in enumerate(order):
        v = visits[i]
        for j in order[a_pos + 1:]:
            w = visits[j]
            if (w.date - v.date).days > 2:
                break
            if clash(v, w):
                if v.date == w.date:
                    problems.append(_msg("coordinator_twice", gettext, date=v.date.isoformat(),
                                         visit=v, other=w))
                else:
                    common = min(set(busy_days(v)) & set(busy_days(w)))
                    problems.append(_msg("coordinator_travel", gettext, date=common.isoformat(),
                                         visit=v, visit_date=v.date.isoformat(),
                                         other=w, other_date=w.date.isoformat()))
    if need == 0:
        return problems
    for i in order:
        v = visits[i]
        present = sum(1 for s in others if not any(s.absent_on(d) for d in busy_days(v)))
        if present < need:
            problems.append(_msg("too_few_for_visit", gettext, date=v.date.isoformat(), visit=v,
                                 need=need, present=present))
    return problems


def assign(
    visits: Sequence[StaffVisit],
    staff: Sequence[StaffMember],
    staff_per_visit: int = 1,
    keep: Mapping[Key, Sequence[int]] | None = None,
    gettext: Callable[[str], str] = lambda s: s,
) -> Assignment:
    """Who goes on each visit (see the module docstring); ``StaffingError`` if nobody can."""
    visits = sorted(visits, key=lambda v: (v.date, v.key))
    problems = _validate(visits, staff, staff_per_visit, gettext)
    if problems:
        raise StaffingError(problems)
    coordinator = _coordinators(staff)[0]
    others = _others(staff)
    need = staff_per_visit
    problems = _prechecks(visits, coordinator, others, need, gettext)
    if problems:
        raise StaffingError(problems)

    st = _State(visits, others)
    index = {v.key: i for i, v in enumerate(visits)}
    fixed: dict[int, set[int]] = defaultdict(set)  # visit index -> kept staff ids
    for key, members in sorted((keep or {}).items(), key=lambda kv: (visits[index[kv[0]]].date, kv[0])
                               if kv[0] in index else (date.max, kv[0])):
        i = index.get(key)
        if i is None:
            continue
        for p in members:
            if len(st.on[i]) >= need:
                break
            if p in st.members and st.free(p, i):
                st.add(p, i)
                fixed[i].add(p)

    # units: a trip's visits together, lone visits alone, in date order
    units: dict[object, list[int]] = {}
    for i, v in enumerate(visits):
        units.setdefault(("t", v.trip) if v.trip is not None else ("v", i), []).append(i)
    ids = sorted(st.members)
    for unit in units.values():
        kept_here = {p for i in unit for p in fixed[i]}
        if len(unit) > 1:
            cover = {p: sum(1 for i in unit if p in st.on[i] or st.free(p, i)) for p in ids}
            order = sorted(ids, key=lambda p: (p not in kept_here, -cover[p], st.load[p], p))
        else:
            order = sorted(ids, key=lambda p: (st.load[p], p))
        for i in unit:
            for p in order:
                if len(st.on[i]) >= need:
                    break
                if st.free(p, i):
                    st.add(p, i)

    _level(st, units, fixed)

    result = {
        v.key: (coordinator.id, *sorted(st.on[i])) for i, v in enumerate(visits)
    }
    load = {p: st.load[p] for p in ids}
    load[coordinator.id] = len(visits)
    return Assignment(staff=result, load=dict(sorted(load.items())))


def _validate(visits: Sequence[StaffVisit], staff: Sequence[StaffMember], need: int,
              gettext: Callable[[str], str]) -> list[str]:
    problems: list[str] = []
    if need < 0:
        problems.append(_msg("bad_need", gettext, need=need))
    seen: set[int] = set()
    for s in staff:
        if s.id in seen:
            problems.append(_msg("duplicate_staff", gettext, id=s.id))
        seen.add(s.id)
    coords = _coordinators(staff)
    if not coords:
        problems.append(_msg("no_coordinator", gettext))
    elif len(coords) > 1:
        problems.append(_msg("two_coordinators", gettext, names=", ".join(c.name for c in coords)))
    keys: set[Key] = set()
    for v in visits:
        if v.key in keys:
            problems.append(_msg("duplicate_visit", gettext, visit=v))
        keys.add(v.key)
    return problems


def _level(st: _State, units: Mapping[object, list[int]], fixed: Mapping[int, set[int]]) -> None:
    """Hand whole parts of trips (or lone visits) from busier to less busy staff members.

    A hand-over of m visits from p (load a) to q (load b) is made only if
    m < a - b, so the sum of squared loads falls each time and this ends.
    """
    ids = sorted(st.members)
    unit_list = list(units.values())
    changed = True
    while changed:
        changed = False
        for p in sorted(ids, key=lambda x: (-st.load[x], x)):
            for q in sorted(ids, key=lambda x: (st.load[x], x)):
                if st.load[p] - st.load[q] < 2:
                    break
                for unit in unit_list:
                    part = [i for i in unit if p in st.on[i] and p not in fixed[i]]
                    if not part or len(part) >= st.load[p] - st.load[q]:
                        continue
                    if len(part) < sum(1 for i in unit if p in st.on[i]):
                        continue  # p keeps a kept visit of this trip: do not split it
                    # q takes all of p's part: q must be free for each of them
                    if all(st.free(q, i) for i in part):
                        for i in part:
                            st.remove(p, i)
                            st.add(q, i)
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break


# --------------------------------------------------------------------------
# Independent check
# --------------------------------------------------------------------------


def _own_days(v: StaffVisit) -> list[date]:
    """check()'s own reading of the booked days (not ``busy_days``): the visit day, then travel days."""
    out = [v.date]
    for flag, step in ((v.overnight_before, -1), (v.overnight_after, 1)):
        try:
            if flag:
                out.append(v.date + timedelta(days=step))
        except OverflowError:  # date.min / date.max: no day beyond
            pass
    return out


def check(
    visits: Sequence[StaffVisit],
    staff: Sequence[StaffMember],
    staff_per_visit: int,
    assignment: Assignment,
    gettext: Callable[[str], str] = lambda s: s,
) -> list[str]:
    """Every hard rule an assignment breaks, in Swedish; empty if it keeps them all.

    Written apart from ``assign``: it walks each staff member's visits in date
    order and compares every pair within a few days.
    """
    problems: list[str] = []
    members = {s.id: s for s in staff}
    coords = [s for s in staff if s.active and s.coordinator]
    if len(coords) != 1:
        problems.append(_msg("no_coordinator" if not coords else "two_coordinators", gettext,
                             names=", ".join(c.name for c in coords)))
    coord = coords[0].id if coords else None
    by_key = {v.key: v for v in visits}
    for key in sorted(set(assignment.staff) - set(by_key)):
        problems.append(_msg("unknown_visit", gettext, visit=StaffVisit(key, date.min)))
    trips_of: dict[int, list[StaffVisit]] = defaultdict(list)
    for v in sorted(visits, key=lambda v: (v.date, v.key)):
        day = v.date.isoformat()
        team = assignment.staff.get(v.key)
        if team is None:
            problems.append(_msg("missing", gettext, date=day, visit=v))
            continue
        if coord is not None and coord not in team:
            problems.append(_msg("coordinator_missing", gettext, date=day, visit=v))
        rest = [p for p in team if p != coord]
        if len(rest) != staff_per_visit:
            problems.append(_msg("wrong_count", gettext, date=day, visit=v, count=len(rest),
                                 need=staff_per_visit))
        for p in sorted(set(team)):
            if list(team).count(p) > 1:
                problems.append(_msg("repeated_staff", gettext, date=day, visit=v,
                                     name=members[p].name if p in members else p))
        days = _own_days(v)
        for p in sorted(set(team)):
            m = members.get(p)
            if m is None:
                problems.append(_msg("unknown_staff", gettext, date=day, visit=v, id=p))
                continue
            if not m.active:
                problems.append(_msg("inactive_staff", gettext, date=day, visit=v, name=m.name))
            for d in sorted(days):
                if any(a <= d <= b for a, b in m.absences):
                    problems.append(_msg("absent", gettext, date=d.isoformat(), visit=v, name=m.name))
                    break
            trips_of[p].append(v)
    for p, vs in sorted(trips_of.items()):
        name = members[p].name
        for a in range(len(vs)):
            for b in range(a + 1, len(vs)):
                v, w = vs[a], vs[b]
                if (w.date - v.date).days > 2:
                    break
                span_v, span_w = set(_own_days(v)), set(_own_days(w))
                same_trip = v.trip is not None and v.trip == w.trip
                if v.date == w.date or (not same_trip and span_v & span_w):
                    d = v.date if v.date == w.date else min(span_v & span_w)
                    problems.append(_msg("double_booked", gettext, date=d.isoformat(), name=name,
                                         visit=v, other=w))
    counts: dict[int, int] = defaultdict(int)
    for v in visits:
        for p in set(assignment.staff.get(v.key, ())):
            counts[p] += 1
    for p in sorted(set(counts) | set(assignment.load)):
        if assignment.load.get(p, 0) != counts.get(p, 0):
            problems.append(_msg("load", gettext, name=members[p].name if p in members else p,
                                 load=assignment.load.get(p, 0), count=counts.get(p, 0)))
    return problems
