"""The audit log page: what happened, in words, newest first; filtered by person, kind of object and date; paged.

Thin view: the sentences come from words.describe, the page numbers from coordinator/paging.py. It lives with the
accounts (it names them and is for admins) and adds its routes to the audit blueprint, so that the audit package,
which every capability records into, imports nothing above it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import render_template, request
from sqlalchemy import func, or_, select

from ..audit import AuditEvent, bp
from ..audit.words import KINDS, SYSTEM_ACTORS, describe, kind_choices
from ..extensions import db
from ..i18n import _
from ..paging import page_of
from . import roles_required
from .models import User

PAGE = 50
TZ = ZoneInfo("Europe/Stockholm")
SYSTEM, LINKS = "systemet", "lank"
FIRST_YEAR, LAST_YEAR = 2000, 2200  # the log's dates lie between; others are refused, not turned into errors


def _day(raw: str, field: str, label: str, problems: list[tuple[str, str]]) -> date | None:
    """The day typed in a date filter; a problem (field id, message) instead when it is not a usable date."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        problems.append((field, _("%(field)s: skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2016-10-31.", field=label)))
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.append((field, _("%(field)s: datumet ska ligga mellan år %(first)d och %(last)d.", field=label,
                                  first=FIRST_YEAR, last=LAST_YEAR)))
        day = None
    return day


def _start_of(day: date) -> datetime:
    """Midnight in Swedish time at the start of `day`, in UTC as the log stores times (SQLite keeps the digits)."""
    return datetime.combine(day, time.min, tzinfo=TZ).astimezone(timezone.utc)


@bp.route("/")
@roles_required("admin")
def index():
    args = request.args
    users = db.session.scalars(select(User).order_by(User.name, User.id)).all()
    people = [(f"u{u.id}", u.name) for u in users] + [(SYSTEM, _("Systemet")), (LINKS, _("En kommun via sin länk"))]
    who = (args.get("vem") or "")[:20]
    if who not in {key for key, _label in people}:
        who = ""
    kind = (args.get("slag") or "")[:60]
    if kind not in KINDS:
        kind = ""
    problems: list[tuple[str, str]] = []
    typed = {"fran": (args.get("fran") or "")[:40], "till": (args.get("till") or "")[:40]}
    start = _day(typed["fran"], "fran", _("Från och med"), problems)
    end = _day(typed["till"], "till", _("Till och med"), problems)
    if start and end and end < start:
        problems.append(("till", _("Till och med-datumet ligger före från och med-datumet.")))
        start = end = None

    conditions = []
    if who.startswith("u"):
        conditions.append(AuditEvent.user_id == int(who[1:]))
    elif who == SYSTEM:
        conditions += [AuditEvent.user_id.is_(None), AuditEvent.actor.in_(SYSTEM_ACTORS)]
    elif who == LINKS:
        conditions += [AuditEvent.user_id.is_(None),
                       or_(AuditEvent.actor.startswith("kommunlänk "), AuditEvent.actor.startswith("mätningslänk "))]
    if kind:
        conditions.append(AuditEvent.object_type == kind)
    if start:
        conditions.append(AuditEvent.at >= _start_of(start))
    if end:
        conditions.append(AuditEvent.at < _start_of(end + timedelta(days=1)))

    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    page = page_of(args, total, PAGE)
    events = db.session.scalars(select(AuditEvent).where(*conditions)
                                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .offset(page.offset).limit(page.per_page)).all()
    kept = {k: v for k, v in {"vem": who, "slag": kind, "fran": typed["fran"] if start else "",
                              "till": typed["till"] if end else ""}.items() if v}
    return render_template("audit/index.html", rows=describe(events), page=page, people=people, who=who,
                           kinds=kind_choices(), kind=kind, typed=typed, problems=problems, kept=kept,
                           filtered=bool(conditions))
