"""Event pages (to be written)."""
from flask import render_template
from ..auth import staff_required
from . import bp


@bp.route("/dialogforum/")
@staff_required
def index():
    return render_template("events/index.html")
