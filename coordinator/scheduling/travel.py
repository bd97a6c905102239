"""How the office travels to a site: mode, hours, kilometres, CO2 and overnight stays.

Plain words
-----------
*Places.* A place is a point (latitude, longitude), usually a kommun's area
centroid, with its kommunkod when known. Centroids are not the main town, so
every distance below is an estimate for planning, not a timetable.

*Modes* (``leg``). Between two places the office can go by car (``bil``), by
train (``tåg``), by air (``flyg``) or, to and from Gotland, by ferry
(``färja``). For each mode the door-to-door hours, kilometres and CO2 are
computed as follows (every figure is a field of ``TravelSettings`` and can be
changed):

- *Car*: the great-circle distance times ``road_detour`` (1.3), driven at
  ``car_kmh`` (80 km/h on average, stops included); at least
  ``min_leg_hours`` (a quarter of an hour: even a move within one town takes
  some time).
- *Train*: the great-circle distance times ``rail_detour`` (1.2) at
  ``train_kmh`` (130 km/h on average: about what the mainline high-speed
  trains do; regional lines are slower, so this flatters them), plus
  ``train_access_hours`` (half an hour) at each end to get to and from the
  station and wait for the train.
  Whether a kommun has a railway station is not in our data: we assume that
  every mainland kommun can be reached by train (with a bus or taxi from the
  nearest station inside the access time). The office can list kommuner
  without a usable station in ``no_rail_kommuner``; there the train is not
  offered; nor is it for journeys shorter than ``train_min_km`` (20 km as
  the crow flies: within a town or to its neighbour, car or taxi). Gotland
  has no railway.
- *Air*: via the nearest airport at each end. The airports and their
  coordinates come from the ``airportsdata`` package (its pinned version, so
  the result does not change and needs no network). We could not source a
  list of the Swedish airports that have scheduled flights from Stockholm, so
  we use every Swedish airport with an IATA code (``airports`` empty; the
  office can give its own list of IATA codes instead). The Stockholm-area
  airports (Bromma, Skavsta, Västerås) are left out as destinations: the
  office flies from Arlanda (``home_airport`` = ARN), the airport with the
  widest domestic network. The domestic network is a star around Arlanda: a
  flight between two airports other than Arlanda changes planes there
  (``air_transfer_hours``, one hour). The hours of an air journey are: ground
  transport to the airport (car, or train where the airport has a station:
  ``rail_airports``, Arlanda only), check-in and security
  (``air_checkin_hours``, one hour), each flight (``air_fixed_hours`` for taxi,
  climb and descent plus the great-circle distance at ``air_kmh``), leaving
  the arrival airport (``air_arrival_hours``), and ground transport to the
  place (car, or train where the airport has a station). Air is only
  considered when the two places have different nearest airports.
- *Ferry*: Gotland (kommunkod 0980; a place without kommunkod when it lies
  inside the island's box ``GOTLAND_BOX``) has no road or rail link: it is
  reached by the ferry Nynäshamn - Visby (road or rail to Nynäshamn, ``ferry_checkin_hours``,
  ``ferry_crossing_hours``, then by car from Visby harbour) or by air to Visby
  airport. Never by car or train alone. On the island, and between two
  places on it, the car is used.

*The best mode* is the one with the least hours, then the least CO2. The
Swedish government's travel policy prefers the train: we honour it by taking
the train whenever it is at most ``train_extra_hours`` (2.5 hours) slower than
the fastest mode. With the defaults, from the Stockholm centroid, 262
kommuner are reached by train (Göteborg, Malmö, Umeå and Östersund among
them), 16 by air (Gotland, Luleå, Skellefteå, Kiruna and the rest of the far
north) and 11 by car (the neighbours closer than ``train_min_km``); the car
is also taken where there is no train (``no_rail_kommuner``), on Gotland,
and when the train loses by more than ``train_extra_hours``.

*CO2* is per traveller and kilometre travelled, per mode
(``car_co2_kg_per_km``, ``train_co2_kg_per_km``, ``air_co2_kg_per_km``,
``ferry_co2_kg_per_km``). The public source for such factors is
Naturvårdsverket's calculation tool for the business travel of government
agencies (made by SMED/IVL for the environmental management of the state);
we could not consult it while writing this, so **every factor here is an
assumption, not a sourced figure**, chosen in the order the tool gives
(train, which in Sweden runs on electricity, far below car, car below a
domestic flight counted with its high-altitude effect). The office should
replace them with the current figures of that tool.

*A journey* (``journey``) is a trip home -> the stops (one visit a day, in the
order given) -> home. A visit takes ``visit_hours`` (6). A day is the
travelling done that day plus the visit, and must not exceed
``max_day_hours`` (10). So:

- the journey out goes the morning of the first visit if it fits in that day,
  otherwise the evening before, with an overnight stay;
- the journey home goes the evening of the last visit if it fits, otherwise
  the next day, after an overnight stay;
- a single visit with both journeys on the visit day is a day trip;
- between two visits of the trip the team stays away, one overnight per
  night between the two visit days (``days``: the visit dates; None means
  consecutive days). The leg between them goes the evening after the first
  visit if it fits, otherwise the morning of the second (a day that does not
  fit either way is counted in ``long_days``, as is a travel day before or
  after the visits that is too long by itself). The team goes home in between
  instead when both the journey home after the first visit and the journey
  out before the second fit their days, and either there are two or more
  nights between the visits or going home and back costs at most
  ``home_between_extra_hours`` (2) more hours than the direct leg: sleeping
  at home is worth that much travel. This is decided per gap, from the two
  visits' days alone.

``journey`` returns the legs actually travelled, the total travel hours,
kilometres, CO2, overnights, and hours, kilometres and CO2 per mode (the
ground transport of an air or ferry journey counted under car or train);
``by_mode`` adds these up over the journeys of a plan.

*Speed.* ``leg`` is cached per (place, place, settings) (places and settings
hash once, when made); ``journey`` only adds up cached legs. Figures from
``benchmarks/bench_travel.py`` on the development machine (CPU time): the
full 290 x 290 matrix about 1.3 s, a cached ``leg`` call below 1 µs, a
three-stop ``journey`` about 15 µs.

Pure Python: no Flask or database here.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache

EARTH_RADIUS_KM = 6371.0088

CAR, TRAIN, AIR, FERRY = "bil", "tåg", "flyg", "färja"
MODES = (CAR, TRAIN, AIR, FERRY)

GOTLAND_KOMMUNKOD = "0980"
# Gotland with Fårö and Gotska Sandön; no mainland point lies inside this box.
GOTLAND_BOX = (56.85, 58.50, 17.80, 19.50)  # lat min, lat max, lon min, lon max
# Ferry ports, approximate coordinates of the terminals (read off a map).
NYNASHAMN_PORT = (58.9030, 17.9550)
VISBY_PORT = (57.6400, 18.2860)
# Stockholm-area airports that are not destinations: the office flies from home_airport.
STOCKHOLM_AIRPORTS = frozenset({"ARN", "BMA", "NYO", "VST"})


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    kommunkod: str | None = None  # "0980" is Gotland: no road link to the mainland
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.kommunkod, int):  # 980 -> "0980"
            object.__setattr__(self, "kommunkod", f"{self.kommunkod:04d}")
        # Places are cache keys of leg(): hash once.
        object.__setattr__(self, "_hash", hash((self.lat, self.lon, self.kommunkod, self.name)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TravelSettings:
    """Every figure of the travel model. See the module's "Plain words" for what each means.

    All speeds, detours, fixed times and CO2 factors are assumptions, not sourced figures."""
    max_day_hours: float = 10.0  # travel and visit in one day; longer days get an overnight stay
    visit_hours: float = 6.0  # the visit itself (the assignment's default 09:00-15:00)
    # Car: assumption, not a sourced figure.
    car_kmh: float = 80.0  # average door to door, stops included
    road_detour: float = 1.3  # road km per great-circle km
    min_leg_hours: float = 0.25  # even a move within one town
    # Train: assumption, not a sourced figure.
    train_kmh: float = 130.0  # average on the rail distance (mainline high-speed trains; regional lines are slower)
    rail_detour: float = 1.2  # rail km per great-circle km
    train_access_hours: float = 0.5  # at each end: to/from the station and waiting
    no_rail_kommuner: frozenset[str] = frozenset()  # kommunkoder without a usable station
    train_min_km: float = 20.0  # closer than this (great-circle) the train is not offered: car or taxi
    train_extra_hours: float = 2.5  # train chosen when at most this much slower than the fastest mode
    # Air: assumption, not a sourced figure (airport coordinates from airportsdata).
    home_airport: str = "ARN"  # the office flies from Arlanda
    airports: tuple[str, ...] = ()  # IATA codes flown from home_airport; () = every Swedish airport with an IATA code
    rail_airports: tuple[str, ...] = ("ARN",)  # airports with a railway station
    air_kmh: float = 700.0  # cruise, great-circle
    air_fixed_hours: float = 0.3  # per flight: taxi, climb, descent
    air_checkin_hours: float = 1.0  # check-in and security before departure
    air_arrival_hours: float = 0.25  # leaving the arrival airport
    air_transfer_hours: float = 1.0  # changing planes at home_airport
    # Ferry Nynäshamn - Visby: assumption, not a sourced figure.
    ferry_crossing_hours: float = 3.25
    ferry_checkin_hours: float = 0.5
    sea_detour: float = 1.1  # sea km per great-circle km between the ports
    # CO2, kg per traveller and km travelled: assumption, not a sourced figure (see Plain words).
    car_co2_kg_per_km: float = 0.14
    train_co2_kg_per_km: float = 0.005
    air_co2_kg_per_km: float = 0.20
    ferry_co2_kg_per_km: float = 0.12
    # Journeys.
    home_between_extra_hours: float = 2.0  # extra travel hours accepted to sleep at home between visits

    def __post_init__(self) -> None:
        # Lists from a form or JSON become hashable; figures that would break the model are refused.
        object.__setattr__(self, "no_rail_kommuner", frozenset(self.no_rail_kommuner))
        object.__setattr__(self, "airports", tuple(self.airports))
        object.__setattr__(self, "rail_airports", tuple(self.rail_airports))
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not (0 <= value < math.inf):
                raise ValueError(f"Reseinställningen {f.name} måste vara ett tal från 0 och uppåt.")
        if min(self.car_kmh, self.train_kmh, self.air_kmh, self.max_day_hours) <= 0:
            raise ValueError("Hastigheter och den längsta dagen måste vara större än 0.")
        # The settings are part of every cache key: hash the fields once, not on every call.
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f.name) for f in fields(self))))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Part:
    """One mode's share of a leg (e.g. the taxi to the airport, the flight)."""
    mode: str
    hours: float
    km: float
    co2_kg: float


@dataclass(frozen=True, slots=True)
class Leg:
    """One journey between two places by the best mode (least hours, then least CO2)."""
    mode: str  # the main mode: bil / tåg / flyg / färja
    hours: float  # door to door, including check-in and ground transport
    km: float  # distance travelled
    co2_kg: float  # per traveller
    detail: str = ""  # in Swedish, e.g. "tåg 44 km, flyg ARN–LLA, bil 24 km"
    parts: tuple[Part, ...] = ()  # per mode: ground transport, flight, crossing


@dataclass(frozen=True)
class Journey:
    """home -> stops (one visit per day, in order) -> home."""
    legs: tuple[Leg, ...]  # the legs travelled: len(stops) + 1, plus one per return home between two visits
    hours: float  # travel hours (the visits not included)
    km: float
    co2_kg: float
    overnights: int
    hours_by_mode: tuple[tuple[str, float], ...] = ()  # (mode, hours), modes in MODES order
    km_by_mode: tuple[tuple[str, float], ...] = ()
    co2_by_mode: tuple[tuple[str, float], ...] = ()
    home_between: int = 0  # returns home between two visits of the trip
    long_days: int = 0  # days longer than max_day_hours that no arrangement avoided

    @property
    def mode(self) -> str:
        """The mode of the longest leg (how the trip is mainly made)."""
        return max(self.legs, key=lambda leg: leg.hours).mode if self.legs else CAR


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def on_gotland(p: Place) -> bool:
    if p.kommunkod is not None:
        return p.kommunkod == GOTLAND_KOMMUNKOD
    lat0, lat1, lon0, lon1 = GOTLAND_BOX
    return lat0 <= p.lat <= lat1 and lon0 <= p.lon <= lon1


@lru_cache(maxsize=1)
def swedish_airports() -> dict[str, tuple[float, float]]:
    """IATA code -> (lat, lon) of every Swedish airport with an IATA code in airportsdata."""
    import airportsdata  # a 28 000-airport table: loaded once, when first needed

    return {code: (float(a["lat"]), float(a["lon"]))
            for code, a in sorted(airportsdata.load("IATA").items()) if a["country"] == "SE"}


@lru_cache(maxsize=64)
def _network(home_airport: str, airports: tuple[str, ...]) -> tuple[tuple[str, tuple[float, float]], ...]:
    """The airports of the star network: home_airport and its destinations."""
    known = swedish_airports()
    codes = airports or tuple(c for c in known if c not in STOCKHOLM_AIRPORTS)
    unknown = [c for c in (home_airport, *codes) if c not in known]
    if unknown:
        raise ValueError(f"Okänd flygplats (IATA): {', '.join(unknown)}")
    return tuple((c, known[c]) for c in dict.fromkeys((home_airport, *codes)))


def nearest_airport(p: Place, settings: TravelSettings = TravelSettings()) -> tuple[str, tuple[float, float]]:
    """The nearest airport of the network; on Gotland Visby, on the mainland any other."""
    net = _network(settings.home_airport, settings.airports)
    island = on_gotland(p)
    usable = [a for a in net if (a[0] == "VBY") == island] or list(net)
    return min(usable, key=lambda a: haversine_km((p.lat, p.lon), a[1]))


# --- the modes ------------------------------------------------------------------------------

def _car(a: tuple[float, float], b: tuple[float, float], s: TravelSettings, gc_km: float | None = None) -> Part:
    km = (haversine_km(a, b) if gc_km is None else gc_km) * s.road_detour
    return Part(CAR, max(km / s.car_kmh, s.min_leg_hours), km, km * s.car_co2_kg_per_km)


def _train(a: tuple[float, float], b: tuple[float, float], s: TravelSettings,
           gc_km: float | None = None) -> Part | None:
    gc_km = haversine_km(a, b) if gc_km is None else gc_km
    if gc_km < s.train_min_km:
        return None
    km = gc_km * s.rail_detour
    return Part(TRAIN, km / s.train_kmh + 2 * s.train_access_hours, km, km * s.train_co2_kg_per_km)


def _has_rail(p: Place, s: TravelSettings) -> bool:
    return not on_gotland(p) and (p.kommunkod is None or p.kommunkod not in s.no_rail_kommuner)


def _ground(p: Place, q: tuple[float, float], q_has_station: bool, s: TravelSettings) -> Part:
    """From place p to point q (airport, port) on land: the quicker of car and train (if both ends have rail)."""
    options = [_car((p.lat, p.lon), q, s)]
    train = _train((p.lat, p.lon), q, s) if q_has_station and _has_rail(p, s) else None
    if train is not None:
        options.append(train)
    return _best(options, s)


def _best(options, s: TravelSettings):
    """Least hours, then least CO2; but the train whenever it is at most train_extra_hours slower."""
    best = min(options, key=lambda o: (o.hours, o.co2_kg))
    trains = [o for o in options if o.mode == TRAIN and o.hours <= best.hours + s.train_extra_hours]
    return trains[0] if trains else best


@lru_cache(maxsize=4096)
def _airport_access(p: Place, s: TravelSettings) -> tuple[str, tuple[float, float], Part]:
    """The place's airport and the ground transport between them (the same hours either way)."""
    code, pos = nearest_airport(p, s)
    return code, pos, _ground(p, pos, code in s.rail_airports, s)


@lru_cache(maxsize=4096)
def _flights(ca: str, cb: str, s: TravelSettings) -> tuple[Part, str]:
    """Airport to airport, changing planes at home_airport unless one end is home_airport."""
    pos = swedish_airports()
    hub = s.home_airport
    hops = [(ca, cb)] if hub in (ca, cb) else [(ca, hub), (hub, cb)]
    km = [haversine_km(pos[x], pos[y]) for x, y in hops]
    hours = sum(s.air_fixed_hours + k / s.air_kmh for k in km) + s.air_checkin_hours + s.air_arrival_hours \
        + s.air_transfer_hours * (len(hops) - 1)
    route = "–".join([ca, *(y for _, y in hops)])
    return Part(AIR, hours, sum(km), sum(km) * s.air_co2_kg_per_km), route


class _Option:
    """A candidate way from a to b; the Leg (with its wording) is made for the chosen one only."""
    __slots__ = ("mode", "parts", "hours", "co2_kg", "describe")

    def __init__(self, mode: str, parts: tuple[Part, ...], describe) -> None:
        self.mode, self.parts, self.describe = mode, parts, describe
        self.hours = sum(p.hours for p in parts)
        self.co2_kg = sum(p.co2_kg for p in parts)

    def leg(self) -> Leg:
        return Leg(self.mode, self.hours, sum(p.km for p in self.parts), self.co2_kg, self.describe(), self.parts)


def _air_option(a: Place, b: Place, s: TravelSettings) -> _Option | None:
    (ca, _pa, out), (cb, _pb, back) = _airport_access(a, s), _airport_access(b, s)
    if ca == cb:
        return None
    air, route = _flights(ca, cb, s)
    return _Option(AIR, (out, air, back),
                   lambda: f"{out.mode} {out.km:.0f} km, flyg {route}, {back.mode} {back.km:.0f} km")


@lru_cache(maxsize=4096)
def _to_nynashamn(p: Place, s: TravelSettings) -> Part:
    return _ground(p, NYNASHAMN_PORT, True, s)


def _ferry_option(a: Place, b: Place, s: TravelSettings) -> _Option:
    """Exactly one of a, b on Gotland: road or rail to Nynäshamn, the ferry to Visby, car on the island."""
    mainland, island = (b, a) if on_gotland(a) else (a, b)
    to_port = _to_nynashamn(mainland, s)
    sea_km = haversine_km(NYNASHAMN_PORT, VISBY_PORT) * s.sea_detour
    crossing = Part(FERRY, s.ferry_checkin_hours + s.ferry_crossing_hours, sea_km, sea_km * s.ferry_co2_kg_per_km)
    on_island = _car(VISBY_PORT, (island.lat, island.lon), s)
    mainland_part = f"{to_port.mode} {to_port.km:.0f} km"
    island_part = f"bil {on_island.km:.0f} km"
    if island is b:
        return _Option(FERRY, (to_port, crossing, on_island),
                       lambda: f"{mainland_part}, färja Nynäshamn–Visby, {island_part}")
    return _Option(FERRY, (on_island, crossing, to_port),
                   lambda: f"{island_part}, färja Visby–Nynäshamn, {mainland_part}")


@lru_cache(maxsize=1 << 17)
def _leg(a: Place, b: Place, s: TravelSettings) -> Leg:
    ga, gb = on_gotland(a), on_gotland(b)
    options: list[_Option] = []
    if ga == gb:
        gc_km = haversine_km((a.lat, a.lon), (b.lat, b.lon))
        car = _car((a.lat, a.lon), (b.lat, b.lon), s, gc_km)
        options.append(_Option(CAR, (car,), lambda: f"bil {car.km:.0f} km"))
        rail = not ga and _has_rail(a, s) and _has_rail(b, s)
        train = _train((a.lat, a.lon), (b.lat, b.lon), s, gc_km) if rail else None
        if train is not None:
            options.append(_Option(TRAIN, (train,), lambda: f"tåg {train.km:.0f} km"))
    else:
        options.append(_ferry_option(a, b, s))
    # Air is never quicker than its fixed times: skip it when the ground is quicker than those alone.
    if min(o.hours for o in options) >= s.air_checkin_hours + s.air_arrival_hours + s.air_fixed_hours:
        air = _air_option(a, b, s)
        if air is not None:
            options.append(air)
    return _best(options, s).leg()


def leg(a: Place, b: Place, settings: TravelSettings = TravelSettings()) -> Leg:
    """The best way from a to b (cached per pair and settings)."""
    return _leg(a, b, settings)


# --- journeys -------------------------------------------------------------------------------

def _segment(legs: Sequence[Leg], nights: Sequence[int], s: TravelSettings) -> tuple[int, int]:
    """Overnights and long days of home -> stops -> home without going home in between.

    ``legs`` has len(stops) + 1 entries, ``nights`` len(stops) - 1 (nights between visit days)."""
    cap, visit = s.max_day_hours, s.visit_hours
    best: tuple[int, int] | None = None
    for out_same_day in (True, False):
        if out_same_day and legs[0].hours + visit > cap:
            continue  # the journey out goes the evening before
        overnights = 0 if out_same_day else 1
        long_days = 0 if out_same_day or legs[0].hours <= cap else 1  # even a travel day alone is too long
        load = (legs[0].hours if out_same_day else 0.0) + visit  # today's hours so far
        for between, n in zip(legs[1:-1], nights):
            overnights += n
            if load + between.hours <= cap:  # the evening after the visit
                load = visit
            else:  # the morning of the next visit
                if load > cap:
                    long_days += 1
                load = between.hours + visit
        if load + legs[-1].hours <= cap:
            result = (overnights, long_days)
        else:
            result = (overnights + 1, long_days + (load > cap) + (legs[-1].hours > cap))
        if best is None or result < best:
            best = result
    assert best is not None
    return best


def journey(home: Place, stops: Sequence[Place], settings: TravelSettings = TravelSettings(),
            days: Sequence[date] | None = None) -> Journey:
    """The trip home -> stops[0] -> ... -> home; ``days`` are the visit dates (None: consecutive days)."""
    s = settings
    if not stops:
        return Journey((), 0.0, 0.0, 0.0, 0)
    if days is not None:
        if len(days) != len(stops):
            raise ValueError("days must give one date per stop")
        nights = [(d2 - d1).days for d1, d2 in zip(days, days[1:])]
        if any(n < 1 for n in nights):
            raise ValueError("one visit a day: the days must be strictly increasing")
    else:
        nights = [1] * (len(stops) - 1)
    cap, visit = s.max_day_hours, s.visit_hours
    travelled: list[Leg] = []
    overnights = long_days = home_between = 0
    seg_legs = [_leg(home, stops[0], s)]
    seg_nights: list[int] = []
    for i in range(1, len(stops)):
        direct = _leg(stops[i - 1], stops[i], s)
        back, out = _leg(stops[i - 1], home, s), _leg(home, stops[i], s)
        if (visit + back.hours <= cap and out.hours + visit <= cap
                and (nights[i - 1] >= 2 or back.hours + out.hours <= direct.hours + s.home_between_extra_hours)):
            seg_legs.append(back)
            o, lg = _segment(seg_legs, seg_nights, s)
            overnights, long_days, home_between = overnights + o, long_days + lg, home_between + 1
            travelled += seg_legs
            seg_legs, seg_nights = [out], []
        else:
            seg_legs.append(direct)
            seg_nights.append(nights[i - 1])
    seg_legs.append(_leg(stops[-1], home, s))
    o, lg = _segment(seg_legs, seg_nights, s)
    overnights, long_days = overnights + o, long_days + lg
    travelled += seg_legs

    hours: dict[str, float] = {}
    km: dict[str, float] = {}
    co2: dict[str, float] = {}
    for x in travelled:
        for p in x.parts:
            hours[p.mode] = hours.get(p.mode, 0.0) + p.hours
            km[p.mode] = km.get(p.mode, 0.0) + p.km
            co2[p.mode] = co2.get(p.mode, 0.0) + p.co2_kg
    order = [m for m in MODES if m in hours]
    return Journey(tuple(travelled), sum(x.hours for x in travelled), sum(x.km for x in travelled),
                   sum(x.co2_kg for x in travelled), overnights,
                   tuple((m, hours[m]) for m in order), tuple((m, km[m]) for m in order),
                   tuple((m, co2[m]) for m in order), home_between, long_days)


def by_mode(journeys: Sequence[Journey]) -> dict[str, dict[str, float]]:
    """Hours, km and CO2 per mode over several journeys (for a plan's report), modes in MODES order."""
    acc: dict[str, dict[str, float]] = {}
    for j in journeys:
        for key, pairs in (("hours", j.hours_by_mode), ("km", j.km_by_mode), ("co2_kg", j.co2_by_mode)):
            for mode, value in pairs:
                row = acc.setdefault(mode, {"hours": 0.0, "km": 0.0, "co2_kg": 0.0})
                row[key] += value
    return {m: acc[m] for m in MODES if m in acc}
