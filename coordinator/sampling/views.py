from flask import abort, render_template

from ..auth import roles_required
from . import bp
from .service import adopted_sample


@bp.route("/protokoll")
@roles_required("admin", "staff", "reader")
def protocol_current():
    sample = adopted_sample()
    return render_template("sampling/no_sample.html") if sample is None else render_template(
        "sampling/protocol.html", sample=sample)


@bp.route("/")
@roles_required("admin", "staff")
def index():
    return render_template("sampling/index.html")


@bp.route("/<int:sample_id>")
@roles_required("admin", "staff")
def detail(sample_id: int):
    abort(404)
