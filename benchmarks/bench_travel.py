"""Speed of the travel model: the planner calls leg() and journey() many thousands of times.

Run from the project root:  python benchmarks/bench_travel.py

Prints the CPU time (process time: a loaded machine inflates it less than wall time) of the full
pairwise matrix of the 290 kommuner (84 100 legs, cache cleared
first), of 100 000 leg() calls on pairs already cached, of 100 000 journey() calls of three
stops on cached legs, and how the office reaches each kommun from Stockholm by mode.
"""
from __future__ import annotations

import csv
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coordinator.scheduling import travel as T  # noqa: E402

CENTROIDS = Path(__file__).resolve().parents[1] / "coordinator" / "registry" / "data" / "kommun_centroids.csv"


def main() -> None:
    with open(CENTROIDS, encoding="utf-8", newline="") as f:
        places = [T.Place(float(r["lat"]), float(r["lon"]), r["kommunkod"], r["kommun"]) for r in csv.DictReader(f)]
    settings = T.TravelSettings()
    T.swedish_airports()  # load the airport table outside the timings
    for cached_function in (T._leg, T._airport_access, T._flights, T._to_nynashamn):
        cached_function.cache_clear()

    t0 = time.process_time()
    for a in places:
        for b in places:
            T.leg(a, b, settings)
    matrix = time.process_time() - t0
    print(f"Pairwise matrix, {len(places)} kommuner ({len(places) ** 2} legs, uncached): {matrix:.2f} s")

    rng = random.Random(1)
    pairs = [(rng.choice(places), rng.choice(places)) for _ in range(100_000)]
    t0 = time.process_time()
    for a, b in pairs:
        T.leg(a, b, settings)
    cached = time.process_time() - t0
    print(f"100 000 leg() calls on cached pairs: {cached:.3f} s ({cached * 10:.2f} µs a call)")

    home = next(p for p in places if p.name == "Stockholm")
    trips = [rng.sample(places, 3) for _ in range(100_000)]
    t0 = time.process_time()
    for stops in trips:
        T.journey(home, stops, settings)
    journeys = time.process_time() - t0
    print(f"100 000 journey() calls, 3 stops, cached legs: {journeys:.3f} s ({journeys * 10:.2f} µs a call)")

    modes = Counter(T.leg(home, p, settings).mode for p in places if p is not home)
    print("From Stockholm by mode:", ", ".join(f"{m} {n}" for m, n in modes.most_common()))


if __name__ == "__main__":
    main()
