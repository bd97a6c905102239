"""The sample of visit sites: design, draw, validation, adoption, declines and the protocol."""
from flask import Blueprint

bp = Blueprint("sampling", __name__, url_prefix="/urval")

from . import models, views  # noqa: E402,F401
