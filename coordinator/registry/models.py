"""Kommuner, län and their reference figures (SCB population, SKR kommungrupp, districts)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class Lan(db.Model):
    __tablename__ = "lan"

    lanskod: Mapped[str] = mapped_column(String(2), primary_key=True)
    namn: Mapped[str] = mapped_column(String(60))
    kort: Mapped[str] = mapped_column(String(40))

    kommuner: Mapped[list[Kommun]] = relationship(back_populates="lan", order_by="Kommun.kommunkod")


class Kommun(db.Model):
    __tablename__ = "kommun"

    kommunkod: Mapped[str] = mapped_column(String(4), primary_key=True)
    namn: Mapped[str] = mapped_column(String(60), unique=True)
    lanskod: Mapped[str] = mapped_column(ForeignKey("lan.lanskod"), index=True)
    # Area centroid of the kommun polygon (not the main town), WGS84.
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    skr2017_kod: Mapped[str | None] = mapped_column(String(2))
    skr2017_namn: Mapped[str | None] = mapped_column(String(80))
    skr2023_kod: Mapped[str | None] = mapped_column(String(2))
    skr2023_namn: Mapped[str | None] = mapped_column(String(80))

    # Joined: a kommun is nearly always shown with its län, and 21 rows cost nothing to join; without it a
    # list of kommuner reads their län one at a time.
    lan: Mapped[Lan] = relationship(back_populates="kommuner", lazy="joined", innerjoin=True)
    stadsdelar: Mapped[list[Stadsdel]] = relationship(back_populates="kommun", order_by="Stadsdel.namn")


class Stadsdel(db.Model):
    """A district (stadsdelsnämnd/-förvaltning, stadsområde) of a city that has them."""
    __tablename__ = "stadsdel"
    __table_args__ = (UniqueConstraint("kommunkod", "namn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommunkod: Mapped[str] = mapped_column(ForeignKey("kommun.kommunkod"), index=True)
    namn: Mapped[str] = mapped_column(String(80))
    typ: Mapped[str] = mapped_column(String(40))
    aktiv: Mapped[bool] = mapped_column(Boolean, default=True)

    kommun: Mapped[Kommun] = relationship(back_populates="stadsdelar")


class PopulationImport(db.Model):
    """One imported population file: the provenance of the figures it brought."""
    __tablename__ = "population_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filnamn: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    years: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer)
    replaced: Mapped[int] = mapped_column(Integer, default=0)
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(4))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Population(db.Model):
    """SCB registered population (folkmängd) on 31 December of `year`."""
    __tablename__ = "population"

    kommunkod: Mapped[str] = mapped_column(ForeignKey("kommun.kommunkod"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    folkmangd: Mapped[int] = mapped_column(Integer)
    # NULL: the shipped SCB workbook (see registry/data/SOURCES.md); else the import it came from.
    import_id: Mapped[int | None] = mapped_column(ForeignKey("population_import.id"), index=True)


class OjGroup(db.Model):
    """An Öppna jämförelser population group and its sampling allocation (admin-editable)."""
    __tablename__ = "oj_group"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lower: Mapped[int] = mapped_column(Integer)
    upper: Mapped[int | None] = mapped_column(Integer)  # inclusive; NULL = no upper bound
    # Kommuner to draw; NULL = take every kommun of the group.
    allocation: Mapped[int | None] = mapped_column(Integer)
    # For take-all groups: district sites per city with districts (besides its central administration).
    districts_per_city: Mapped[int] = mapped_column(Integer, default=2)


class SamplingDefaults(db.Model):
    """Single row: the office's default reference year and design options."""
    __tablename__ = "sampling_defaults"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference_year: Mapped[int] = mapped_column(Integer, default=2014)
    require_all_lan: Mapped[bool] = mapped_column(Boolean, default=True)
    balance_skr: Mapped[bool] = mapped_column(Boolean, default=False)
