"""A drawn (or hand-picked) sample, its visit sites, reserves, and the log of declines."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

DRAFT, ADOPTED = "utkast", "antaget"


class Sample(db.Model):
    __tablename__ = "sample"
    __table_args__ = (
        # At most one adopted sample: it is the set of visit sites the rest of the product uses.
        Index("uq_sample_one_adopted", "status", unique=True,
              sqlite_where=text("status = 'antaget'"), postgresql_where=text("status = 'antaget'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(40))  # "kontrollerat" (drawn) or "manuellt" (hand-picked)
    reference_year: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)     # groups, allocation and options used
    frame_source: Mapped[str] = mapped_column(Text)            # where the population figures came from
    software: Mapped[dict[str, Any]] = mapped_column(JSON)     # versions, for reproducing the draw
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSON)
    district_reserves: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    adopted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    kommuner: Mapped[list[SampleKommun]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="SampleKommun.kommunkod")
    sites: Mapped[list[Site]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="Site.position")
    created_by = relationship("User", foreign_keys=[created_by_id])
    adopted_by = relationship("User", foreign_keys=[adopted_by_id])

    @property
    def adopted(self) -> bool:
        return self.status == ADOPTED

    @property
    def active_sites(self) -> list[Site]:
        return [s for s in self.sites if s.active]


class SampleKommun(db.Model):
    """Every kommun of the frame with its group, π, and its place in the sample or reserve list."""
    __tablename__ = "sample_kommun"

    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id", ondelete="CASCADE"), primary_key=True)
    kommunkod: Mapped[str] = mapped_column(ForeignKey("kommun.kommunkod"), primary_key=True)
    grupp: Mapped[int] = mapped_column(Integer)
    folkmangd: Mapped[int] = mapped_column(Integer)
    pi: Mapped[float | None] = mapped_column(Float)  # NULL for a hand-picked selection
    selected: Mapped[bool] = mapped_column(Boolean, default=False)  # in the sample as drawn
    reserve_rank: Mapped[int | None] = mapped_column(Integer)       # 1, 2, ... within its group

    sample: Mapped[Sample] = relationship(back_populates="kommuner")
    kommun = relationship("Kommun", lazy="joined", innerjoin=True)  # joined: see Site.kommun


class Site(db.Model):
    """A visit site (besöksplats): a kommun, or a city's central administration or one of its districts."""
    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("sample_id", "kommunkod", "enhet"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kommunkod: Mapped[str] = mapped_column(ForeignKey("kommun.kommunkod"))
    enhet: Mapped[str] = mapped_column(String(80), default="")  # "" = the kommun / its central administration
    grupp: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))

    sample: Mapped[Sample] = relationship(back_populates="sites")
    # Joined: every page that shows a site shows its label (the kommun's name); read lazily, a list of sites
    # read its kommuner one query each.
    kommun = relationship("Kommun", lazy="joined", innerjoin=True)
    replaces = relationship("Site", remote_side=[id])

    @property
    def label(self) -> str:
        return f"{self.kommun.namn}, {self.enhet}" if self.enhet else self.kommun.namn


class Decline(db.Model):
    """A site that declined after adoption, and the reserve that replaced it."""
    __tablename__ = "decline"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    declined_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    replacement_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A decline registered by mistake can be undone while its replacement has not been invited;
    # the row stays, so the protocol shows what happened.
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site = relationship("Site", foreign_keys=[site_id])
    replacement = relationship("Site", foreign_keys=[replacement_site_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])
