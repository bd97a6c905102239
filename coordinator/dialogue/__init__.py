"""Dialogue notes per visit: the fixed questions, passages tagged with themes, revisions, search."""
from flask import Blueprint

bp = Blueprint("dialogue", __name__, url_prefix="/dialog")

from . import codebook, models, overview, search, views  # noqa: E402,F401
