"""Two rounds of visits: the assignment's settings, planning, the visits and their programme."""
from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/besok")

from . import decline_views, models, offer_views, pace, settings, staff, views  # noqa: E402,F401
