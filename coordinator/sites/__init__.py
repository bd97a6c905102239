"""One page per visit site: everything about the site and its kommun, with a time line."""
from flask import Blueprint

bp = Blueprint("sites", __name__, url_prefix="/platser")

from . import views  # noqa: E402,F401
