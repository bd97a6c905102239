"""The rounds' windows the plan uses, and the page of the monthly pace (/besok/uppdrag/takt).

The windows come from the phases when the assignment says so (planner.phase_windows: round 1 from the
sample's adoption plus the time for invitations to the end of phase 2, round 2 through phase 4), else
from the dates set by hand. The pace page shows, for every month of the windows, how many visits an
even pace gives and lets the office weigh a month: 0.5 means half as many visits that month (before a
quarterly report, say), 0 none. A weight back at 1 without a note is no row at all.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..audit import record
from ..auth import staff_required
from ..extensions import db
from ..forms import FlaskForm
from ..sampling.service import adopted_sample
from . import bp, planner, service
from .models import INSTALLD, MonthPace, Visit
from .settings_forms import parse_decimal

ROUNDS = (1, 2)
WEIGHT_RANGE = (0.0, 5.0)


def plan_windows(a) -> tuple[dict[int, tuple[date, date]], str | None]:
    """The windows the plan uses (service.window_info: from the phases when `windows_from_phases` is on and they
    allow it, else the hand-set ones) and why the phases could not be used, if so."""
    info = service.window_info()
    return info["windows"], info["problem"]


def pace_weights() -> dict[tuple[int, int], MonthPace]:
    return {(p.year, p.month): p for p in db.session.scalars(select(MonthPace))}


def visits_per_round() -> dict[int, int]:
    """Visits of each round that are not cancelled; before any visit exists, the adopted sample's sites."""
    counts = dict(db.session.execute(select(Visit.round, func.count()).where(Visit.status != INSTALLD)
                                     .group_by(Visit.round)).all())
    if not counts:
        sample = adopted_sample()
        sites = len(sample.active_sites) if sample is not None else 0
        counts = {r: sites for r in ROUNDS}
    return {r: counts.get(r, 0) for r in ROUNDS}


def month_rows(a) -> tuple[list[dict], str | None]:
    """One row per month of the windows: key, rounds, even target, target with the weights, weight, note."""
    windows, problem = plan_windows(a)
    stored = pace_weights()
    weights = {k: p.weight for k, p in stored.items()}
    try:
        base = service.rules(windows=windows)  # the planner's own rules: blackouts, report weeks, absences
        even_rules, weighted_rules = replace(base, pace={}), replace(base, pace=weights)
    except ValueError as exc:
        return [], str(exc)
    counts = visits_per_round()
    rows: dict[str, dict] = {}
    for r in ROUNDS:
        if r not in windows:
            continue
        even = planner.monthly_targets(even_rules, r, counts[r])
        weighted = planner.monthly_targets(weighted_rules, r, counts[r])
        for key, target in even.items():
            year, month = int(key[:4]), int(key[5:])
            row = rows.setdefault(key, {"key": key, "year": year, "month": month, "rounds": [], "even": 0.0,
                                        "weighted": 0.0, "weight": weights.get((year, month), 1.0),
                                        "note": stored[(year, month)].note if (year, month) in stored else ""})
            row["rounds"].append(r)
            row["even"] += target
            row["weighted"] += weighted.get(key, 0.0)
    return [rows[k] for k in sorted(rows)], problem


def fmt_weight(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class PaceForm(FlaskForm):
    """Only the CSRF token: the month fields are named weight-YYYY-MM and note-YYYY-MM and read by hand."""


def _read(rows: list[dict]) -> tuple[dict[str, tuple[float, str]], dict[str, str]]:
    """{month key: (weight, note)} typed on the page, and {field name: error} for what is wrong."""
    values, errors = {}, {}
    low, high = WEIGHT_RANGE
    for row in rows:
        key = row["key"]
        raw, note = request.form.get(f"weight-{key}", ""), request.form.get(f"note-{key}", "").strip()
        try:
            weight = parse_decimal(raw)
        except ValueError:
            weight = None
            errors[f"weight-{key}"] = _("Ange ett tal, till exempel 1 eller 0,5.")
        else:
            if weight is None:
                weight = 1.0
            elif not low <= weight <= high or math.isnan(weight):
                errors[f"weight-{key}"] = _("Ange ett tal från %(min)s till %(max)s.", min=format_decimal(low),
                                            max=format_decimal(high))
        if "\n" in note or "\r" in note:
            errors[f"note-{key}"] = _("Skriv på en rad.")
        elif len(note) > 200:
            errors[f"note-{key}"] = _("Högst %(max)d tecken.", max=200)
        if weight is not None:
            values[key] = (round(weight, 2), note)
        row["typed_weight"], row["typed_note"] = raw, request.form.get(f"note-{key}", "")
    return values, errors


@bp.route("/uppdrag/takt", methods=["GET", "POST"])
@staff_required
def pace_page():
    a = _assignment()
    rows, problem = month_rows(a)
    can_edit = current_user.role == "admin"
    form = PaceForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        values, errors = _read(rows)
        if not errors:
            stored = pace_weights()
            changed = []
            for row in rows:
                weight, note = values[row["key"]]
                ym = (row["year"], row["month"])
                existing = stored.get(ym)
                if weight == 1.0 and not note:
                    if existing is not None:
                        db.session.delete(existing)
                        changed.append(row["key"])
                elif existing is None:
                    db.session.add(MonthPace(year=ym[0], month=ym[1], weight=weight, note=note))
                    changed.append(row["key"])
                elif (existing.weight, existing.note) != (weight, note):
                    existing.weight, existing.note = weight, note
                    changed.append(row["key"])
            if not changed:
                flash(_("Inga ändringar att spara."), "info")
                return redirect(url_for("scheduling.pace_page"))
            record("pace.changed", object_type="month_pace", object_id=None, months=changed, count=len(changed))
            db.session.commit()
            flash(_("Takten är sparad (%(n)s månader ändrades).", n=len(changed)), "success")
            return redirect(url_for("scheduling.pace_page"))
    return render_template("scheduling/pace.html", a=a, rows=rows, problem=problem, form=form, errors=errors,
                           can_edit=can_edit, counts=visits_per_round(), windows=plan_windows(a)[0],
                           month_name=lambda row: format_date(date(row["year"], row["month"], 1), "LLLL yyyy"),
                           fmt_weight=fmt_weight), 422 if errors else 200


def _assignment():
    from .settings import _assignment as load
    return load()
