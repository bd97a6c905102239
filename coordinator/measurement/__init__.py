"""Pre-visit measurement (mätning): questionnaires, secure kommun links, results."""
from flask import Blueprint

bp = Blueprint("measurement", __name__)

from . import models, views  # noqa: E402,F401
