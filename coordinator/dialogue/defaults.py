"""Shipped dialogue questions and theme codebook (registry/data; provenance in SOURCES.md)."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..registry.reference import read_csv
from .models import DialogueQuestion, Theme, ThemeCategory


def load_dialogue_defaults() -> None:
    """Insert the seven questions and the starting codebook where none exist (idempotent)."""
    if not db.session.scalar(select(func.count()).select_from(DialogueQuestion)):
        db.session.add_all(DialogueQuestion(nr=int(r["nr"]), lagrum=r["lagrum"], kravtext=r["kravtext"],
                                            fraga=r["fraga"]) for r in read_csv("dialogfragor.csv"))
    if not db.session.scalar(select(func.count()).select_from(ThemeCategory)):
        categories: dict[str, ThemeCategory] = {}
        for r in read_csv("teman.csv"):
            if r["kategori"] not in categories:
                categories[r["kategori"]] = ThemeCategory(name=r["kategori"], position=len(categories) + 1)
                db.session.add(categories[r["kategori"]])
            db.session.add(Theme(category=categories[r["kategori"]], name=r["tema"]))
    db.session.commit()
