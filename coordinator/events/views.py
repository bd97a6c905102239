"""Event pages (to be written)."""
from ..auth import staff_required
from . import bp


@bp.route("/dialogforum/")
@staff_required
def index():
    return "dialogforum"
