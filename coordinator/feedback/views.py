"""Pages of the feedback area (letters, regional summaries, the good-examples digest)."""
from __future__ import annotations

from . import bp  # noqa: F401
from . import spread_views  # noqa: E402,F401  (regional summaries and the good-examples digest)
