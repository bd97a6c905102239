"""The start page: what is due today for staff and admin; issued reports and the next due date for the reader."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from ..sampling.service import adopted_sample
from ..scheduling.overview import chosen_day, today
from ..tasks.auto import sample_visits, sync_now
from . import due


@login_required
def index():
    if current_user.role == "reader":
        return render_template("overview/reader.html", **due.reader_view(today()))
    # The visits are read once for the app's own tasks and for the page, unless the sync wrote (and so
    # expired what was read).
    sample = adopted_sample()
    visits = sample_visits(sample.id) if sample is not None else None
    if sync_now(today(), visits):
        visits = None
    on = chosen_day()
    return render_template("overview/index.html", ov=due.compute(on, visits=visits), on=on, real_today=today(),
                           me=current_user.id)
