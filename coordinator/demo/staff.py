"""The demo's staff: the coordinator and three officers who travel on the visits, with a few absences.

Made before the visits are planned, so the plan can staff them. The names are plainly invented ("Demo
…"), the e-mail addresses are @example.se, and the absences are fixed dates (no randomness): a summer
holiday in July (a blackout anyway), a course week in autumn 2015 and another assignment in spring 2016.
Audited as the office's own work would be, and dated in the demo's time (history.py).
"""
from __future__ import annotations

from datetime import date, timedelta

from ..audit import record
from ..extensions import db
from ..scheduling.models import StaffAbsence, StaffMember
from .build import ADOPTED_ON, Demo, at

STAFF_ADDED_ON = ADOPTED_ON + timedelta(days=5)

# (name, title, e-mail, coordinator, absences as (first day, last day, reason))
STAFF = (
    ("Demo Samordnare", "Nationell samordnare", "demo.samordnare@example.se", True,
     ((date(2016, 7, 4), date(2016, 7, 29), "Semester"),)),
    ("Demo Handläggare 1", "Handläggare", "demo.handlaggare1@example.se", False,
     ((date(2015, 7, 6), date(2015, 7, 31), "Semester"),)),
    ("Demo Handläggare 2", "Handläggare", "demo.handlaggare2@example.se", False,
     ((date(2015, 10, 12), date(2015, 10, 16), "Kurs"), (date(2016, 7, 11), date(2016, 8, 5), "Semester"))),
    ("Demo Handläggare 3", "Utredare", "demo.handlaggare3@example.se", False,
     ((date(2016, 3, 14), date(2016, 3, 18), "Annat uppdrag"),)),
)


def make_staff(demo: Demo) -> list[StaffMember]:
    members = []
    for name, title, email, coordinator, absences in STAFF:
        member = StaffMember(name=name, title=title, email=email, coordinator=coordinator, active=True,
                             created_at=at(STAFF_ADDED_ON, 10))
        for start, end, reason in absences:
            member.absences.append(StaffAbsence(start_date=start, end_date=end, reason=reason))
        db.session.add(member)
        db.session.flush()
        record("staff.created", member, coordinator=coordinator)
        for absence in member.absences:
            record("staff.absence_added", member, absence_id=absence.id, start=absence.start_date.isoformat(),
                   end=absence.end_date.isoformat())
        members.append(member)
    return members
