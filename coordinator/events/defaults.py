"""Shipped organisations: the agencies and organisations named in the assignment's plan
(registry/data/organisationer.csv; provenance in SOURCES.md)."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..registry.reference import read_csv
from .models import ORGANISATION_KINDS, Organisation


def shipped_organisations() -> list[dict[str, str]]:
    rows = read_csv("organisationer.csv")
    assert all(r["typ"] in ORGANISATION_KINDS for r in rows), "organisationer.csv: unknown typ"
    return rows


def load_organisation_defaults() -> int:
    """Fill an empty register with the shipped organisations; returns how many were added.

    Idempotent. Only an empty register is filled, so a later run never brings back an organisation
    the office renamed (SKL to SKR, say) or undoes what it changed.
    """
    if db.session.scalar(select(func.count()).select_from(Organisation)):
        return 0
    rows = shipped_organisations()
    db.session.add_all(Organisation(name=r["namn"], short_name=r["kortnamn"], kind=r["typ"], email="", active=True)
                       for r in rows)
    db.session.commit()
    return len(rows)
