"""The tasks' pages."""
from __future__ import annotations

from flask import render_template

from ..auth import staff_required
from . import bp


@bp.route("/")
@staff_required
def index():
    return render_template("tasks/index.html")
