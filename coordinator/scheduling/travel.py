"""How the office travels to a site: mode, hours, kilometres, CO2 and overnight stays.

SKELETON (2026-12-06): the API below is fixed, the model inside is a placeholder (car only,
straight line x 1.3 at 80 km/h). It is being replaced by the real model (car, train, air via
the nearest airport, ferry to Gotland) with the same names and signatures.

Pure Python: no Flask or database here.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

EARTH_RADIUS_KM = 6371.0088

CAR, TRAIN, AIR, FERRY = "bil", "tåg", "flyg", "färja"
MODES = (CAR, TRAIN, AIR, FERRY)


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    kommunkod: str | None = None  # "0980" is Gotland: no road link to the mainland
    name: str = ""


@dataclass(frozen=True)
class TravelSettings:
    max_day_hours: float = 10.0  # travel and visit in one day; longer days get an overnight stay
    visit_hours: float = 6.0  # the visit itself (the assignment's default 09:00-15:00)


@dataclass(frozen=True)
class Leg:
    """One journey between two places by the best mode (least hours, then least CO2)."""
    mode: str  # the main mode: bil / tåg / flyg / färja
    hours: float  # door to door, including check-in and ground transport
    km: float  # distance travelled
    co2_kg: float  # per traveller
    detail: str = ""  # e.g. "flyg ARN–LLA, bil 20 km"


@dataclass(frozen=True)
class Journey:
    """home -> stops (one visit per day, in order) -> home."""
    legs: tuple[Leg, ...]  # len(stops) + 1 legs (only one leg out and back for a single stop: 2)
    hours: float
    km: float
    co2_kg: float
    overnights: int

    @property
    def mode(self) -> str:
        """The mode of the longest leg (how the trip is mainly made)."""
        return max(self.legs, key=lambda leg: leg.hours).mode if self.legs else CAR


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def leg(a: Place, b: Place, settings: TravelSettings = TravelSettings()) -> Leg:
    km = haversine_km((a.lat, a.lon), (b.lat, b.lon)) * 1.3
    return Leg(CAR, km / 80.0, km, km * 0.12)


def journey(home: Place, stops: Sequence[Place], settings: TravelSettings = TravelSettings(),
            days: Sequence[date] | None = None) -> Journey:
    """The trip home -> stops[0] -> ... -> home; ``days`` are the visit dates (None: consecutive days)."""
    points = [home, *stops, home]
    legs = tuple(leg(p, q, settings) for p, q in zip(points, points[1:]))
    overnights = 0
    if stops:
        overnights = len(stops) - 1
        if legs[0].hours + settings.visit_hours > settings.max_day_hours:
            overnights += 1
        if legs[-1].hours + settings.visit_hours > settings.max_day_hours:
            overnights += 1
    return Journey(legs, sum(x.hours for x in legs), sum(x.km for x in legs), sum(x.co2_kg for x in legs),
                   overnights)
