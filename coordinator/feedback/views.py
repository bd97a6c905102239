"""Pages of the feedback area (letters, regional summaries, the good-examples digest)."""
from __future__ import annotations

from . import bp  # noqa: F401
