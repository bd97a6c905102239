"""Återkoppling: what the office learnt, fed back to each visited kommun (a feedback letter per site and
round), to each län (a regional summary) and to the nation (a digest of good examples)."""
from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/aterkoppling")

from . import views  # noqa: E402,F401
