"""Tasks with an owner and a due date: by hand, from an avstämning, and the app's own (notes, follow-ups)."""
from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/uppgifter")

from . import models, views  # noqa: E402,F401
