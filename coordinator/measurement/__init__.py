"""Pre-visit measurement (mätning): questionnaires, secure kommun links, results."""
from flask import Blueprint

bp = Blueprint("measurement", __name__)

from . import models, results_views, views  # noqa: E402,F401
