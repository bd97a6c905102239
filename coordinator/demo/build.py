"""The demo assignment: sample, declines, contacts and visits, through the product's own services.

Everything is dated as if the office had worked through the 2014-2017 assignment up to an
"as of" day: visits before it are held, those in the next weeks are booked, later ones are the
planner's proposals. The office's way of working is imitated: it books a few weeks of visits at
a time and lets the planner re-plan the rest from a later date (booked visits keep their dates).

Randomness comes only from `Demo.rng(...)`: a `random.Random` seeded with the demo's seed and the
names of what is being made, so the same seed gives the same data whatever the database ids.
"""
from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from ..audit import record
from ..contacts import service as contact_service
from ..dialogue.models import Theme
from ..events.defaults import load_organisation_defaults
from ..extensions import db
from ..invites import service as invites
from ..outbox.models import SENT, OutboxMessage
from ..registry.models import Kommun
from ..sampling import service as sampling
from ..sampling.models import Site
from ..scheduling import service as visits
from ..scheduling.defaults import assignment
from ..scheduling.models import BEKRAFTAD, INBJUDEN
from . import texts

TZ = ZoneInfo("Europe/Stockholm")
AS_OF = date(2016, 10, 31)
SEED = 2014
REFERENCE_YEAR = 2014
PLAN_SECONDS = 4.0          # the planner's (deterministic) budget per call
INVITE_AHEAD = 28           # days: the office invites about four weeks ahead
ADOPTED_ON = date(2014, 11, 14)
DECLINED_ON = (date(2014, 11, 26), date(2014, 12, 3))


@dataclass(frozen=True)
class Wave:
    """The office books visits: re-plans the round's open visits from `earliest` (if given), then
    invites the first `count` of them, or those dated before `until`."""
    round: int
    booked_on: date
    earliest: date | None = None
    count: int | None = None
    until: date | None = None


WAVES = (
    Wave(1, date(2014, 12, 8), count=9),
    Wave(1, date(2015, 2, 23), earliest=date(2015, 3, 23), count=12),
    Wave(1, date(2015, 6, 15), earliest=date(2015, 8, 17), until=date(2016, 1, 1)),
    Wave(2, date(2016, 2, 15), count=12),
    Wave(2, date(2016, 6, 13), earliest=date(2016, 9, 12), until=date(2016, 10, 1)),
)

# Tables the demo never touches: reference data, settings, the codebook, the organisation
# register, users and the audit log. Everything else is the office's working data.
KEEP_TABLES = frozenset({
    "lan", "kommun", "stadsdel", "population", "population_import", "oj_group", "sampling_defaults",
    "user_account", "audit_event", "assignment", "phase", "blackout", "dialogue_question", "theme_category",
    "theme", "organisation", "data_version",  # data_version: the caches' counters, no data of its own
})


class DemoError(Exception):
    """The demo cannot be made; the message is for the user."""


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of a (demo) day, Swedish time, as stored (UTC)."""
    return datetime.combine(day, time(hour, minute), TZ).astimezone(timezone.utc)


def slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def marked(text: str) -> str:
    return f"{texts.MARK} {text}"


def backdate(obj, **values) -> None:
    """Set a row's timestamps with a plain UPDATE: not an edit, so its version is not raised."""
    model = type(obj)
    db.session.execute(update(model).where(model.id == obj.id).values(**values),
                       execution_options={"synchronize_session": False})
    for key, value in values.items():
        set_committed_value(obj, key, value)


# --------------------------------------------------------------------------- working data

def working_tables():
    return [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]


def working_data() -> dict[str, int]:
    """Rows of the office's working data, per table (tables with none left out)."""
    counts = {}
    for table in working_tables():
        n = db.session.scalar(select(func.count()).select_from(table))
        if n:
            counts[table.name] = n
    return counts


def delete_working_data() -> dict[str, int]:
    """Delete every row of the working data (children first); reference data and users stay."""
    db.session.rollback()
    counts = working_data()
    # The log stays, but its events no longer point at sites that are gone (SQLite reuses their ids).
    from ..audit import AuditEvent
    db.session.execute(update(AuditEvent).where(AuditEvent.site_id.isnot(None)).values(site_id=None))
    for table in working_tables():
        db.session.execute(table.delete())
    record("demo.working_data_deleted", object_type="demo", object_id=None, rows=counts)
    db.session.commit()
    db.session.expunge_all()
    return counts


# --------------------------------------------------------------------------- the run

@dataclass
class Demo:
    seed: int = SEED
    as_of: date = AS_OF
    # Filled as the demo is built:
    sample: object = None
    invited_on: dict[int, date] = field(default_factory=dict)   # visit id -> day invited
    moved_on: dict[int, date] = field(default_factory=dict)     # visit id -> day moved

    def rng(self, *parts) -> random.Random:
        return random.Random("|".join(str(p) for p in (self.seed, *parts)))


def check_ready() -> None:
    """The reference data, the assignment and the codebook are there (`coordinator setup` has run)."""
    try:
        ready = db.session.scalar(select(func.count()).select_from(Kommun)) and assignment() is not None \
            and db.session.scalar(select(func.count()).select_from(Theme))
    except SQLAlchemyError:  # no tables at all: not migrated
        db.session.rollback()
        ready = False
    if not ready:
        raise DemoError("Databasen är inte förberedd. Kör först: coordinator setup")


def check_as_of(as_of: date) -> None:
    a = assignment()
    if not a.round1_start <= as_of <= a.end_date:
        raise DemoError(f"--as-of måste ligga mellan första besöksomgångens start ({a.round1_start}) och "
                        f"uppdragets slut ({a.end_date}).")


def build(seed: int = SEED, as_of: date = AS_OF, scale: int = 1) -> Demo:
    """Make the whole demo assignment in the current (empty) working data. Commits once at the end.

    With `scale` above 1, parallel teams with their own sites are added to it (scale.py)."""
    from . import content, history, offers as date_offers  # they build on this module's helpers

    from .scale import check_scale, extend, restore_capacity
    check_scale(scale)
    check_ready()
    check_as_of(as_of)
    restore_capacity()
    load_organisation_defaults()  # the shipped register (idempotent); the events need some of it
    demo = Demo(seed=seed, as_of=as_of)
    first_event = history.first_event_id()
    rename_assignment(as_of)
    make_sample(demo)
    make_contacts(demo)
    from .staff import make_staff
    make_staff(demo)  # before the visits are planned: the plan staffs them
    make_visits(demo)
    date_offers.make_offers(demo)
    content.make_all(demo)
    mark_outbox_sent(demo)
    from .letters import make_letters
    make_letters(demo)
    make_app_tasks(demo)
    record("demo.created", object_type="demo", object_id=None, seed=seed, as_of=as_of.isoformat(),
           **({"scale": scale} if scale > 1 else {}))
    db.session.flush()
    history.backdate_audit(demo, first_event)
    extend(demo, scale)  # after the log is dated: the copies take the base rows' dates
    db.session.commit()
    return demo


def make_app_tasks(demo: Demo) -> None:
    """The app's own tasks as they stand on the demo's day (notes to write, follow-ups to prepare)."""
    from ..tasks.auto import wanted
    from ..tasks.models import Task
    from ..tasks.service import sync

    sync(demo.as_of, wanted(demo.as_of))
    db.session.flush()
    db.session.execute(update(Task).where(Task.source.isnot(None)).values(created_at=at(demo.as_of, 7),
                                                                          updated_at=at(demo.as_of, 7)),
                       execution_options={"synchronize_session": False})


def rename_assignment(as_of: date) -> None:
    a = assignment()
    if "(demo)" not in a.name:
        a.name = f"{a.name} (demo)"[:200]
    a.demo_as_of = as_of  # the pages read the demo as of its own day


# --------------------------------------------------------------------------- sample and declines

def make_sample(demo: Demo) -> None:
    frame, result = sampling.draw(REFERENCE_YEAR, demo.seed)
    sample = sampling.save_draw(frame, result, name=f"Demourval (demo), frö {demo.seed}")
    sampling.adopt(sample)
    backdate(sample, created_at=at(ADOPTED_ON - timedelta(days=3)), adopted_at=at(ADOPTED_ON, 14))
    demo.sample = sample
    rng = demo.rng("avböjanden")
    for declined_on, site in zip(DECLINED_ON, decliners(sample, rng)):
        decline = sampling.record_decline(sample, site, declined_on, marked(rng.choice(texts.DECLINE_REASONS)))
        backdate(decline, recorded_at=at(declined_on, 15))
    db.session.flush()


def decliners(sample, rng: random.Random) -> list[Site]:
    """Sites of ÖJ groups 1-3 that can decline without leaving their län unrepresented."""
    active = sample.active_sites
    per_lan: dict[str, int] = {}
    for s in active:
        per_lan[s.kommun.lanskod] = per_lan.get(s.kommun.lanskod, 0) + 1
    candidates = [s for s in active if s.grupp <= 3 and not s.enhet and per_lan[s.kommun.lanskod] > 1]
    chosen: list[Site] = []
    for s in rng.sample(candidates, len(candidates)):
        if all(s.kommun.lanskod != c.kommun.lanskod and s.grupp != c.grupp for c in chosen):
            chosen.append(s)
        if len(chosen) == len(DECLINED_ON):
            break
    return chosen


# --------------------------------------------------------------------------- contacts

def contact_rows(demo: Demo, site: Site) -> list[tuple[str, str, str, str]]:
    """(role, name, e-mail, organisation): invented people, all called "Demo <surname>"."""
    rng = demo.rng("kontakter", site.kommunkod, site.enhet)
    roles = texts.CONTACT_ROLES_DISTRICT if site.enhet else texts.CONTACT_ROLES_KOMMUN
    names = rng.sample(texts.SURNAMES, len(roles))
    place = slug(site.label)
    rows = []
    for (role, organisation), surname in zip(roles, names):
        if role == "utvecklingsledare":
            organisation = f"{organisation}, {site.kommun.lan.namn}"
        rows.append((role, f"Demo {surname}", f"demo.{slug(surname)}.{place}@example.se", organisation))
    return rows


def make_contacts(demo: Demo) -> None:
    """Through the contacts import (the same checks as a file from the office)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["kommunkod", "enhet", "roll", "namn", "e-post", "organisation"])
    for site in demo.sample.active_sites:
        for role, name, email, organisation in contact_rows(demo, site):
            writer.writerow([site.kommunkod, site.enhet, role, name, email, organisation])
    parsed = contact_service.parse_contacts_csv(out.getvalue().encode("utf-8"),
                                                contact_service.site_keys(demo.sample.active_sites))
    if not parsed.ok:
        raise DemoError("Demokontakterna kunde inte läsas in: " + "; ".join(parsed.problems))
    contact_service.apply_import(parsed)


# --------------------------------------------------------------------------- visits

def location(site: Site) -> str:
    return f"Stadsdelsförvaltningen {site.enhet}" if site.enhet else f"Kommunhuset, {site.kommun.namn}"


def make_visits(demo: Demo) -> None:
    visits.ensure_visits()
    for visit in visits.visits():
        visit.location = location(visit.site)
    for round_ in visits.ROUNDS:
        visits.plan(round_, save=True, time_limit=PLAN_SECONDS)
        for wave in (w for w in WAVES if w.round == round_ and w.booked_on <= demo.as_of):
            if wave.earliest is not None:
                # The open visits are planned afresh (the planner's reproducible path: no current
                # dates to weigh moves against); booked ones keep their dates.
                for visit in visits.visits(round_):
                    if not visit.booked:
                        visit.date = None
                visits.plan(round_, save=True, time_limit=PLAN_SECONDS, earliest=wave.earliest)
            open_ = [v for v in visits.visits(round_) if not v.booked and v.date is not None]
            chosen = open_[:wave.count] if wave.count is not None else [v for v in open_ if v.date < wave.until]
            for visit in chosen:
                invite(demo, visit, wave.booked_on)
    # As of the day: everything within the next four weeks has been invited.
    horizon = demo.as_of + timedelta(days=INVITE_AHEAD)
    for visit in visits.visits():
        if not visit.booked and visit.date is not None and visit.date < horizon:
            invite(demo, visit, visit.date - timedelta(days=INVITE_AHEAD))
    for visit in visits.visits():
        if visit.status == INBJUDEN:
            answer(demo, visit)
    move_one(demo)


def invite(demo: Demo, visit, on: date) -> None:
    visits.invite(visit)
    demo.invited_on[visit.id] = on


def answer(demo: Demo, visit) -> None:
    """The kommun's answers, then confirmation; visits before the day are held."""
    rng = demo.rng("svar", visit.site.kommunkod, visit.site.enhet, visit.round)
    invited_on = demo.invited_on[visit.id]
    held = visit.date < demo.as_of
    # Answers take a week or two; an invitation sent in the last days may still be unanswered.
    answered_by = min(invited_on + timedelta(days=rng.randint(3, 12)), demo.as_of)
    if not held and answered_by <= invited_on:
        return
    for attendee in visit.attendees:
        role = attendee.contact.role if attendee.contact else ""
        partstat = "ACCEPTED"
        if role in ("kommunrevision", "ks_ordforande") and rng.random() < 0.35:
            partstat = "DECLINED"
        elif not held and rng.random() < 0.15:
            continue  # not answered yet
        invites.record_partstat(attendee, partstat, marked("Har förhinder.") if partstat == "DECLINED" else "")
        attendee.responded_at = at(answered_by, rng.randint(8, 16))
    if held:
        visits.confirm(visit)
        visits.complete(visit)
    elif rng.random() < 0.85:
        visits.confirm(visit)


def move_one(demo: Demo) -> None:
    """One booked visit after the day is moved a few days at the kommun's request (awaits its answer)."""
    rng = demo.rng("flytt")
    future = [v for v in visits.visits() if v.status == BEKRAFTAD and v.date > demo.as_of]
    for visit in rng.sample(future, len(future)):
        for days in range(1, 15):
            new = visit.date + timedelta(days=days)
            if new.weekday() < 5 and not visits.warnings_for(visit, new):
                visits.move(visit, new)
                demo.moved_on[visit.id] = max(demo.invited_on[visit.id], demo.as_of - timedelta(days=2))
                return


def mark_outbox_sent(demo: Demo) -> None:
    """The invitations were sent long ago (in the demo's time): nothing is left for the mail worker."""
    seen: set[int] = set()
    for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        first = message.visit_id not in seen
        seen.add(message.visit_id)
        day = demo.invited_on.get(message.visit_id) if first else demo.moved_on.get(message.visit_id)
        day = day or demo.as_of
        message.status, message.attempts = SENT, 1
        message.created_at = message.next_attempt_at = at(day, 9)
        message.sent_at = at(day, 9, 5)
