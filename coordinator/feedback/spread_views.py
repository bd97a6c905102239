"""Pages of the regional summaries (/aterkoppling/lan/) and the good-examples digest (/aterkoppling/goda-exempel).

Thin: the content comes from spread.py. Staff and the ministry's readers may open them (they are made to be
sent out: the digest can be published as it is); anyone else is sent to the login."""
from __future__ import annotations

import re

from flask import abort, make_response, render_template

from ..auth import roles_required
from . import bp, spread

readers = roles_required("admin", "staff", "reader")


def _pdf(data: bytes, name: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _region_or_404(lanskod: str) -> dict:
    data = spread.region(lanskod) if re.fullmatch(r"\d{2}", lanskod) else None
    if data is None:
        abort(404)
    return data


@bp.route("/lan/")
@readers
def regions():
    return render_template("feedback/region_list.html", lans=spread.lan_list())


@bp.route("/lan/<lanskod>")
@readers
def region(lanskod: str):
    data = _region_or_404(lanskod)
    return render_template("feedback/region.html", data=data, lead=spread.region_lead(data),
                           examples_note=spread.region_examples_note(), plan_text=spread.plan_text)


@bp.route("/lan/<lanskod>.pdf")
@readers
def region_pdf(lanskod: str):
    data = _region_or_404(lanskod)
    return _pdf(spread.region_pdf(data), f"regional-sammanfattning-{data['lanskod']}.pdf")


@bp.route("/goda-exempel")
@readers
def digest():
    data = spread.digest()
    return render_template("feedback/digest.html", data=data, lead=spread.digest_lead(data))


@bp.route("/goda-exempel.pdf")
@readers
def digest_pdf():
    return _pdf(spread.digest_pdf(spread.digest()), "goda-exempel.pdf")
