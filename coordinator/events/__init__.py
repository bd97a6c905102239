"""Other dialogue forms (national dialogue, hearings, round tables, conferences, samråd) and organisations."""
from flask import Blueprint

bp = Blueprint("events", __name__)

from . import models, views  # noqa: E402,F401
