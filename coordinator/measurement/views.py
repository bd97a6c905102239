"""Measurement pages (to be written)."""
from flask import render_template
from ..auth import staff_required
from . import bp


@bp.route("/matningar/")
@staff_required
def index():
    return render_template("measurement/index.html")
