"""Dialogue notes per visit, structured by the fixed questions, tagged with a theme codebook."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# Sections of a note besides the dialogue questions (whose keys are "fraga-<nr>").
EXTRA_SECTIONS = ("fack", "barn", "ovrigt")
# Flags a passage can carry.
FLAGS = ("gott_exempel", "hinder", "nationell_fraga", "citat")
QUOTE_REASONS = ("manga", "unik")  # many said it / a unique view


class DialogueQuestion(db.Model):
    """One of the fixed dialogue questions (shipped from dialogfragor.csv; editable data)."""
    __tablename__ = "dialogue_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    nr: Mapped[int] = mapped_column(Integer, unique=True)
    lagrum: Mapped[str] = mapped_column(String(100))
    kravtext: Mapped[str] = mapped_column(Text)
    fraga: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ThemeCategory(db.Model):
    __tablename__ = "theme_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    themes: Mapped[list[Theme]] = relationship(back_populates="category", order_by="Theme.name")


class Theme(db.Model):
    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("category_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("theme_category.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))

    category: Mapped[ThemeCategory] = relationship(back_populates="themes")
    merged_into = relationship("Theme", remote_side=[id])


class Note(db.Model):
    """The note from one visit's dialogue, or from an event (hearing, round table...); text lives in passages."""
    __tablename__ = "note"
    __table_args__ = (CheckConstraint("(visit_id IS NULL) <> (event_id IS NULL)", name="visit_or_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Raised on every save: a save based on an older version is refused (no lost update).
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    visit = relationship("Visit")
    event = relationship("Event")
    updated_by = relationship("User")
    passages: Mapped[list[Passage]] = relationship(back_populates="note", cascade="all, delete-orphan",
                                                   order_by="(Passage.section, Passage.position)")
    revisions: Mapped[list[NoteRevision]] = relationship(back_populates="note", cascade="all, delete-orphan",
                                                         order_by="NoteRevision.number")


class PassageTheme(db.Model):
    __tablename__ = "passage_theme"

    passage_id: Mapped[int] = mapped_column(ForeignKey("passage.id", ondelete="CASCADE"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"), primary_key=True, index=True)


class Passage(db.Model):
    """A paragraph of a note in one section, with its themes and flags."""
    __tablename__ = "passage"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(20))  # "fraga-1".."fraga-7", "fack", "barn", "ovrigt"
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    gott_exempel: Mapped[bool] = mapped_column(Boolean, default=False)
    hinder: Mapped[bool] = mapped_column(Boolean, default=False)
    nationell_fraga: Mapped[bool] = mapped_column(Boolean, default=False)
    citat: Mapped[bool] = mapped_column(Boolean, default=False)
    quote_reason: Mapped[str | None] = mapped_column(String(20))  # "manga" | "unik"
    # Quotes are not attributed to a named kommun unless staff clear this passage for it.
    attribution_cleared: Mapped[bool] = mapped_column(Boolean, default=False)

    note: Mapped[Note] = relationship(back_populates="passages")
    themes = relationship("Theme", secondary="passage_theme", order_by="Theme.name")


class NoteRevision(db.Model):
    """A saved state of a note (all passages with tags), for history and restore."""
    __tablename__ = "note_revision"
    __table_args__ = (UniqueConstraint("note_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    restored_from: Mapped[int | None] = mapped_column(Integer)  # revision number this restores

    note: Mapped[Note] = relationship(back_populates="revisions")
    user = relationship("User")


class NoteDraft(db.Model):
    """What a user has typed but not saved (autosave): nothing is lost if the browser closes."""
    __tablename__ = "note_draft"
    __table_args__ = (UniqueConstraint("note_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    base_version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
