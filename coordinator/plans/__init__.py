"""Action plans (handlingsplaner) per site, shared with the kommun through a secure link."""
from flask import Blueprint

bp = Blueprint("plans", __name__)

from . import models, views  # noqa: E402,F401
