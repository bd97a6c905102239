"""Report pages (to be written)."""
from flask_login import login_required

from . import bp


@bp.route("/rapporter/")
@login_required
def index():
    return "rapporter"
