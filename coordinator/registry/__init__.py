"""The kommun registry: 290 kommuner, 21 län, SCB population, ÖJ groups, districts, map."""
from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/register")

from . import models, views  # noqa: E402,F401
