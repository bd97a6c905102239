"""The travel model (coordinator.scheduling.travel) on the real kommun centroids.

Pure: no database, no Flask. Every expectation is about what the office would
recognise (Gotland by ferry or air, the far north by air, Göteborg by train,
a short trip without a hotel night), plus the model's own bookkeeping."""
from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import pytest

from coordinator.scheduling import travel as T

CENTROIDS = Path(__file__).resolve().parents[1] / "coordinator" / "registry" / "data" / "kommun_centroids.csv"


def _places() -> dict[str, T.Place]:
    with open(CENTROIDS, encoding="utf-8", newline="") as f:
        return {r["kommun"]: T.Place(float(r["lat"]), float(r["lon"]), r["kommunkod"], r["kommun"])
                for r in csv.DictReader(f)}


PLACES = _places()
STOCKHOLM = PLACES["Stockholm"]
GOTLAND = PLACES["Gotland"]
DEFAULT = T.TravelSettings()
SAMPLE = [p for i, p in enumerate(sorted(PLACES.values(), key=lambda p: p.kommunkod)) if i % 7 == 0] + [GOTLAND]


def test_centroids_are_the_290_kommuner():
    assert len(PLACES) == 290 and GOTLAND.kommunkod == "0980"


@pytest.mark.parametrize("origin", ["Stockholm", "Kiruna", "Malmö"])
def test_gotland_is_never_reached_by_car_alone(origin):
    for a, b in ((PLACES[origin], GOTLAND), (GOTLAND, PLACES[origin])):
        x = T.leg(a, b)
        assert x.mode in (T.FERRY, T.AIR)
        assert {p.mode for p in x.parts} & {T.FERRY, T.AIR}, x
        assert "Visby" in x.detail or "VBY" in x.detail


def test_no_mainland_kommun_reaches_gotland_by_land_and_the_ferry_wins_without_flights():
    mainland = [p for p in PLACES.values() if p.kommunkod != "0980"]
    assert all(T.leg(p, GOTLAND).mode in (T.FERRY, T.AIR) for p in mainland)
    # Flying made slow: every mainland kommun takes the ferry from Nynäshamn.
    slow_air = dataclasses.replace(DEFAULT, air_checkin_hours=24.0)
    for p in mainland[::10]:
        x = T.leg(p, GOTLAND, slow_air)
        assert x.mode == T.FERRY and "Nynäshamn–Visby" in x.detail
        assert [q.mode for q in x.parts][1:] == [T.FERRY, T.CAR]  # the crossing, then the car on the island


def test_a_point_on_gotland_without_kommunkod_is_on_gotland():
    visby = T.Place(57.64, 18.30)
    assert T.on_gotland(visby) and not T.on_gotland(T.Place(STOCKHOLM.lat, STOCKHOLM.lon))
    assert T.leg(STOCKHOLM, visby).mode in (T.FERRY, T.AIR)
    assert T.leg(GOTLAND, visby).mode == T.CAR  # on the island: by car
    # The island's box holds no other kommun's centroid; a kommunkod given as a number is read as one.
    assert [p.name for p in PLACES.values() if T.on_gotland(T.Place(p.lat, p.lon))] == ["Gotland"]
    assert T.on_gotland(T.Place(GOTLAND.lat, GOTLAND.lon, 980))


def test_kiruna_from_stockholm_by_air_with_an_overnight():
    x = T.leg(STOCKHOLM, PLACES["Kiruna"])
    assert x.mode == T.AIR and "ARN–KRN" in x.detail
    assert T.nearest_airport(PLACES["Kiruna"])[0] == "KRN"
    j = T.journey(STOCKHOLM, [PLACES["Kiruna"]])
    assert j.overnights >= 1 and j.mode == T.AIR


def test_sodertalje_same_day_by_car_or_train():
    x = T.leg(STOCKHOLM, PLACES["Södertälje"])
    assert x.mode in (T.CAR, T.TRAIN)
    j = T.journey(STOCKHOLM, [PLACES["Södertälje"]])
    assert j.overnights == 0 and j.hours + DEFAULT.visit_hours <= DEFAULT.max_day_hours


def test_goteborg_and_malmo_by_train():
    assert T.leg(STOCKHOLM, PLACES["Göteborg"]).mode == T.TRAIN
    assert T.leg(STOCKHOLM, PLACES["Malmö"]).mode == T.TRAIN


def test_train_preference_is_a_setting():
    no_preference = dataclasses.replace(DEFAULT, train_extra_hours=0.0)
    assert T.leg(STOCKHOLM, PLACES["Göteborg"], no_preference).mode == T.AIR  # the plane is quicker door to door
    no_station = dataclasses.replace(DEFAULT, no_rail_kommuner=frozenset({"0181"}))
    assert T.leg(STOCKHOLM, PLACES["Södertälje"], no_station).mode == T.CAR


def test_every_leg_has_a_mode_hours_and_is_symmetric():
    for a in SAMPLE:
        for b in SAMPLE:
            x, y = T.leg(a, b), T.leg(b, a)
            assert x.mode in T.MODES and x.hours > 0 and x.km >= 0 and x.co2_kg >= 0
            assert x.mode == y.mode and x.hours == pytest.approx(y.hours) and x.km == pytest.approx(y.km)
            assert sum(p.hours for p in x.parts) == pytest.approx(x.hours)
            if a != b:
                assert x.km > 0


def test_co2_per_km_train_below_car_below_air():
    s = DEFAULT
    assert s.train_co2_kg_per_km < s.car_co2_kg_per_km < s.air_co2_kg_per_km
    by_train = T.leg(STOCKHOLM, PLACES["Göteborg"])
    by_car = T.leg(STOCKHOLM, PLACES["Södertälje"], dataclasses.replace(s, no_rail_kommuner=frozenset({"0181"})))
    by_air = T.leg(STOCKHOLM, PLACES["Kiruna"])
    per_km = [x.co2_kg / x.km for x in (by_train, by_car, by_air)]
    assert [x.mode for x in (by_train, by_car, by_air)] == [T.TRAIN, T.CAR, T.AIR]
    assert per_km[0] < per_km[1] < per_km[2]


def test_max_day_hours_changes_the_overnights():
    goteborg = [PLACES["Göteborg"]]
    default = T.journey(STOCKHOLM, goteborg)
    longer = T.journey(STOCKHOLM, goteborg, dataclasses.replace(DEFAULT, max_day_hours=12.0))
    longest = T.journey(STOCKHOLM, goteborg, dataclasses.replace(DEFAULT, max_day_hours=20.0))
    assert default.overnights == 2 > longer.overnights == 1 > longest.overnights == 0


def test_a_tour_in_the_north_stays_away_between_visits():
    stops = [PLACES["Umeå"], PLACES["Skellefteå"], PLACES["Luleå"]]
    j = T.journey(STOCKHOLM, stops)
    assert len(j.legs) == 4 and j.home_between == 0
    # two nights between the three visit days, plus the nights before and after (long journeys out and home)
    assert j.overnights == 2 + (j.legs[0].hours + DEFAULT.visit_hours > DEFAULT.max_day_hours) \
        + (j.legs[-1].hours + DEFAULT.visit_hours > DEFAULT.max_day_hours)
    spread = T.journey(STOCKHOLM, stops, days=[date(2015, 9, 7), date(2015, 9, 8), date(2015, 9, 10)])
    assert spread.overnights == j.overnights + 1  # one more night between the 8th and the 10th


def test_near_visits_on_separate_days_sleep_at_home():
    stops = [PLACES["Uppsala"], PLACES["Västerås"]]
    j = T.journey(STOCKHOLM, stops, days=[date(2015, 9, 7), date(2015, 9, 10)])
    assert j.overnights == 0 and j.home_between == 1 and len(j.legs) == 4
    consecutive = T.journey(STOCKHOLM, stops)
    assert consecutive.overnights in (0, 1)
    assert consecutive.overnights == 0 or consecutive.home_between == 0


def test_journey_totals_add_up_per_mode():
    j = T.journey(STOCKHOLM, [PLACES["Kiruna"], PLACES["Gällivare"], PLACES["Gotland"]])
    assert j.hours == pytest.approx(sum(x.hours for x in j.legs))
    assert j.hours == pytest.approx(sum(h for _, h in j.hours_by_mode))
    assert j.km == pytest.approx(sum(k for _, k in j.km_by_mode))
    assert j.co2_kg == pytest.approx(sum(c for _, c in j.co2_by_mode))
    assert dict(j.hours_by_mode)[T.AIR] > 0
    assert T.journey(STOCKHOLM, []) == T.Journey((), 0.0, 0.0, 0.0, 0)


def test_journey_refuses_bad_days():
    with pytest.raises(ValueError):
        T.journey(STOCKHOLM, [PLACES["Uppsala"], PLACES["Västerås"]], days=[date(2015, 9, 7)])
    with pytest.raises(ValueError):
        T.journey(STOCKHOLM, [PLACES["Uppsala"], PLACES["Västerås"]], days=[date(2015, 9, 7), date(2015, 9, 7)])


def test_airports_come_from_airportsdata_and_can_be_restricted():
    airports = T.swedish_airports()
    assert {"ARN", "KRN", "VBY", "LLA", "UME"} <= set(airports)
    assert all(55 < lat < 69.5 and 10 < lon < 25 for lat, lon in airports.values())
    only_lulea = dataclasses.replace(DEFAULT, airports=("LLA",), train_extra_hours=0.0)
    x = T.leg(STOCKHOLM, PLACES["Kiruna"], only_lulea)
    assert x.mode == T.AIR and "ARN–LLA" in x.detail
    with pytest.raises(ValueError):
        T.leg(STOCKHOLM, PLACES["Kiruna"], dataclasses.replace(DEFAULT, airports=("XXX",)))


def test_settings_from_a_form_are_hashable_and_bad_figures_are_refused():
    s = T.TravelSettings(airports=["LLA", "UME"], no_rail_kommuner=["0181"], rail_airports=["ARN"])
    assert s == T.TravelSettings(airports=("LLA", "UME"), no_rail_kommuner=frozenset({"0181"}))
    assert hash(s) == hash(T.TravelSettings(airports=("LLA", "UME"), no_rail_kommuner=frozenset({"0181"})))
    assert T.leg(STOCKHOLM, PLACES["Södertälje"], s).mode == T.CAR
    for bad in ({"car_kmh": 0.0}, {"train_kmh": float("inf")}, {"max_day_hours": float("nan")},
                {"visit_hours": -1.0}, {"air_co2_kg_per_km": -0.1}):
        with pytest.raises(ValueError):
            T.TravelSettings(**bad)


def test_a_move_within_a_town_is_by_car_and_takes_time():
    x = T.leg(STOCKHOLM, STOCKHOLM)
    assert x.mode == T.CAR and x.km == 0 and x.hours == DEFAULT.min_leg_hours
    district = T.Place(59.33, 18.07, "0180", "Östermalm")
    assert T.leg(STOCKHOLM, district).mode == T.CAR


def test_by_mode_adds_up_several_journeys():
    trips = [T.journey(STOCKHOLM, [PLACES["Kiruna"]]), T.journey(STOCKHOLM, [PLACES["Göteborg"]]),
             T.journey(STOCKHOLM, [PLACES["Gotland"]], dataclasses.replace(DEFAULT, air_checkin_hours=24.0))]
    totals = T.by_mode(trips)
    assert set(totals) == {T.CAR, T.TRAIN, T.AIR, T.FERRY} and list(totals) == list(T.MODES)
    assert sum(r["co2_kg"] for r in totals.values()) == pytest.approx(sum(j.co2_kg for j in trips))
    assert sum(r["hours"] for r in totals.values()) == pytest.approx(sum(j.hours for j in trips))
    assert T.by_mode([]) == {}
