"""The visit sites' pages: the list of sites, one page per site with its whole story, and its briefing PDF."""
from __future__ import annotations

from flask import Response, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth import staff_required
from ..extensions import db
from ..links import last_valid_day, link_state
from ..registry.models import Kommun
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from ..scheduling.overview import today
from . import bp
from .story import story


@bp.context_processor
def site_helpers():
    from flask_babel import gettext as _

    from ..contacts.service import role_label
    from ..links import ACTIVE, REVOKED

    def link_words(state, valid_through, revoked_at) -> str:
        if state == REVOKED:
            return _("återkallad %(day)s", day=revoked_at.date().isoformat() if revoked_at else "–")
        if state == ACTIVE:
            return _("fungerar till och med %(day)s", day=valid_through.isoformat())
        return _("gick ut %(day)s", day=valid_through.isoformat())
    from .story import answer_word
    return {"link_words": link_words, "role_name": role_label, "answer_word": answer_word}


def describe(events):
    """The time line in words (the audit log's own wording)."""
    from ..audit.words import describe as words
    return words(events)


@bp.route("/")
@staff_required
def index():
    """Every site of the adopted sample with where each visit stands: the way into a kommun's story."""
    from ..scheduling.models import Visit

    sample = adopted_sample()
    if sample is None:
        return render_template("sites/index.html", sample=None, sites=[], visits={})
    sites = list(db.session.scalars(select(Site).where(Site.sample_id == sample.id)
                                    .options(joinedload(Site.kommun).joinedload(Kommun.lan))
                                    .order_by(Site.active.desc(), Site.grupp, Site.position)))
    visits = {(v.site_id, v.round): v for v in db.session.scalars(
        select(Visit).where(Visit.site_id.in_([s.id for s in sites])))}
    return render_template("sites/index.html", sample=sample, sites=sites, visits=visits)


@bp.route("/<int:site_id>/")
@staff_required
def site(site_id: int):
    s = db.get_or_404(Site, site_id)
    st = story(s, today(), timeline_page=request.args.get("sida", 1, type=int) or 1)
    return render_template("sites/site.html", s=st, site=s, timeline=describe(st.timeline), page=st.timeline_page,
                           link_state=link_state,
                           last_valid_day=last_valid_day)


@bp.route("/<int:site_id>/underlag.pdf")
@staff_required
def briefing(site_id: int):
    """A one-page briefing to take along to the visit."""
    from .briefing import briefing_pdf

    s = db.get_or_404(Site, site_id)
    data = briefing_pdf(story(s, today()))
    filename = f"underlag-{s.kommunkod}{'-' + s.enhet if s.enhet else ''}.pdf"
    from werkzeug.utils import secure_filename
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{secure_filename(filename) or "underlag.pdf"}"',
                             "Cache-Control": "private, no-store"})
