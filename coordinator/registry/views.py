from flask import render_template

from ..auth import staff_required
from . import bp, service


@bp.route("/")
@staff_required
def kommuner():
    return render_template("registry/kommuner.html", kommuner=service.kommuner())
