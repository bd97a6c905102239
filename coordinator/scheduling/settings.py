"""The assignment's settings pages (phases, windows, blackouts, rules)."""
from . import bp  # noqa: F401
