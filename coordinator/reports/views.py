"""Report pages (to be written)."""
from flask import render_template
from flask_login import login_required

from . import bp


@bp.route("/rapporter/")
@login_required
def index():
    return render_template("reports/index.html")
