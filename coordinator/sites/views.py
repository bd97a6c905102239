"""The site page."""
from __future__ import annotations

from flask import abort, render_template

from ..auth import staff_required
from ..extensions import db
from ..sampling.models import Site
from . import bp


@bp.route("/<int:site_id>/")
@staff_required
def site(site_id: int):
    s = db.session.get(Site, site_id)
    if s is None:
        abort(404)
    return render_template("sites/site.html", site=s)
