"""Contacts, calendar invitations (iTIP/iMIP) sent through an outbox, replies and calendar feeds."""
from flask import Blueprint

bp = Blueprint("invites", __name__)

from . import contacts, models, views  # noqa: E402,F401
