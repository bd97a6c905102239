"""Contacts, calendar invitations (iTIP/iMIP) sent through an outbox, replies and calendar feeds."""
from flask import Blueprint

bp = Blueprint("invites", __name__)


def blueprint() -> Blueprint:
    """The blueprint with its pages (create_app registers it). The pages are imported here, not with the
    package, so that the outbox's cron command loads the models and the delivery without them."""
    from . import contacts, models, views  # noqa: F401
    return bp
