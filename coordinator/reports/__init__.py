"""Quarterly summaries to the minister and the final-report basis: figures, PDF, HTML, issued archive."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import content, models, views  # noqa: E402,F401  (content: the report body's template globals)
