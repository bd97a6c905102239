"""Measurement pages (to be written)."""
from ..auth import staff_required
from . import bp


@bp.route("/matningar/")
@staff_required
def index():
    return "matningar"
