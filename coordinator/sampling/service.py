"""Glue between the database and the pure design in design.py."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .models import ADOPTED, Sample


def adopted_sample() -> Sample | None:
    return db.session.scalar(select(Sample).where(Sample.status == ADOPTED))
