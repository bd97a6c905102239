"""The 2014–2017 assignment as shipped defaults (DOMAIN.md); the office edits them as data."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from ..extensions import db
from ..registry.models import Kommun
from .models import Assignment, Blackout, Phase

PHASES = (
    (1, "Utforskande fas", date(2014, 11, 1), date(2015, 6, 30),
     "Första besöken och dialogerna; metoderna fastställs."),
    (2, "Första besöksomgången slutförs", date(2015, 7, 1), date(2015, 12, 31),
     "Resterande besök i första omgången; vid årets slut är 50 platser besökta."),
    (3, "Gemensam analys", date(2016, 1, 1), date(2016, 3, 31),
     "Gemensam analys av det första året; de andra besöken planeras."),
    (4, "Andra besöksomgången", date(2016, 4, 1), date(2016, 12, 31),
     "Andra besöken, som följer upp utvecklingen."),
    (5, "Analys och slutrapport", date(2016, 9, 1), date(2017, 4, 30),
     "Analys av hela uppdraget; slutrapport till departementet senast 2017-04-30."),
)

BLACKOUTS = (
    ("Jul och nyår 2014/15", date(2014, 12, 20), date(2015, 1, 6)),
    ("Juli 2015", date(2015, 7, 1), date(2015, 7, 31)),
    ("Jul och nyår 2015/16", date(2015, 12, 19), date(2016, 1, 6)),
    ("Juli 2016", date(2016, 7, 1), date(2016, 7, 31)),
    ("Jul och nyår 2016/17", date(2016, 12, 17), date(2017, 1, 6)),
)


def load_assignment_defaults() -> None:
    """Insert the shipped assignment, phases and blackouts where none exist (idempotent)."""
    if db.session.get(Assignment, 1) is None:
        stockholm = db.session.get(Kommun, "0180")
        db.session.add(Assignment(
            id=1, name="Nationell samordnare för den sociala barn- och ungdomsvården 2014–2017",
            start_date=date(2014, 11, 1), end_date=date(2017, 4, 30), final_report_due=date(2017, 4, 30),
            report_interval_months=3, report_start=date(2014, 10, 1),
            round1_start=date(2015, 1, 7), round1_end=date(2015, 12, 31),
            round2_start=date(2016, 4, 1), round2_end=date(2016, 12, 16),
            max_per_day=1, max_per_week=3, min_gap_days=90,
            # Home base: Stockholm kommun's area centroid from the shipped reference data.
            home_name="Stockholm", home_lat=stockholm.lat, home_lon=stockholm.lon,
            default_start=time(9, 0), default_end=time(15, 0),
            organizer_name="Nationella samordnaren för den sociala barn- och ungdomsvården",
            organizer_email="samordnaren@example.se"))
    if not db.session.scalar(select(func.count()).select_from(Phase)):
        db.session.add_all(Phase(number=n, name=name, start_date=s, end_date=e, description=d)
                           for n, name, s, e, d in PHASES)
    if not db.session.scalar(select(func.count()).select_from(Blackout)):
        db.session.add_all(Blackout(name=name, start_date=s, end_date=e) for name, s, e in BLACKOUTS)
    db.session.commit()


def assignment() -> Assignment:
    found = db.session.get(Assignment, 1)
    # The identity map holds rows weakly: without a reference kept here, callers that read one field
    # (the organiser of every calendar entry in a feed) would query the row again each time.
    db.session.info["assignment"] = found
    return found


ORGANIZER_FALLBACK = ("Nationella samordnaren för den sociala barn- och ungdomsvården", "samordnaren@example.se")


def organizer() -> tuple[str, str]:
    """(name, e-mail) that every mail and calendar from the office is sent from: the assignment's."""
    settings = assignment()
    if settings is None:
        return ORGANIZER_FALLBACK
    return settings.organizer_name, settings.organizer_email
