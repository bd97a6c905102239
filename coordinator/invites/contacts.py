"""Contacts per visit site: pages and CSV import."""
from . import bp  # noqa: F401
