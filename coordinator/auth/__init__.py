"""Staff accounts, login and roles: admin, staff, reader (the ministry reads reports only)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("auth", __name__)

ROLES = ("admin", "staff", "reader")


def roles_required(*roles: str):
    """Login plus one of the given roles; a reader asking for staff pages gets 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


staff_required = roles_required("admin", "staff")
admin_required = roles_required("admin")

from . import auditlog, models, views  # noqa: E402,F401  (auditlog: the audit blueprint's page)
