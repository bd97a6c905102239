"""The start page: what is due today for staff and admin; issued reports and the next due date for the reader."""
from __future__ import annotations

from datetime import date

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from ..scheduling.overview import today
from ..tasks.auto import sync_now
from . import due

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def chosen_day() -> date:
    """`?datum=ÅÅÅÅ-MM-DD` within reason, else the office's today (with a message saying why)."""
    raw = (request.args.get("datum") or "").strip()
    if not raw:
        return today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        flash(_("Datumet ska skrivas ÅÅÅÅ-MM-DD. Visar läget i dag."), "warning")
        return today()
    if not EARLIEST <= day <= LATEST:
        flash(_("Välj ett datum mellan %(a)s och %(b)s. Visar läget i dag.", a=EARLIEST.isoformat(),
                b=LATEST.isoformat()), "warning")
        return today()
    return day


@login_required
def index():
    if current_user.role == "reader":
        return render_template("overview/reader.html", **due.reader_view(today()))
    sync_now(today())
    on = chosen_day()
    return render_template("overview/index.html", ov=due.compute(on), on=on, real_today=today(),
                           me=current_user.id)
