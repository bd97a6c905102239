from flask import render_template, request
from sqlalchemy import select

from ..auth import roles_required
from ..extensions import db
from . import AuditEvent, bp

PAGE = 100


@bp.route("/")
@roles_required("admin")
def index():
    action = request.args.get("action", "").strip()
    page = max(1, request.args.get("sida", 1, type=int))
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    events = db.session.scalars(query.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    return render_template("audit/index.html", events=events[:PAGE], page=page,
                           has_next=len(events) > PAGE, action=action)
