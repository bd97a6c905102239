"""Benchmark of the sampling design on the 2014 frame.

Run from the project root:  python benchmarks/bench_sampling.py [--seeds 200] [--repeats 50]

Prints
- time of one draw plus the exact inclusion probabilities (median of repeats;
  the first, cold call is shown separately; target <= 0.5 s),
- median spatial balance sb (Stevens & Olsen) over the seeds for this design
  and for stratified simple random sampling on the same frame (target ratio
  <= 0.7), with and without the SKR option.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# design.py is plain Python + numpy: load it straight from its file so the
# benchmark runs without Flask or the rest of the app being importable.
_spec = importlib.util.spec_from_file_location("design", ROOT / "coordinator" / "sampling" / "design.py")
design = importlib.util.module_from_spec(_spec)
sys.modules["design"] = design  # dataclasses look the module up by name
_spec.loader.exec_module(design)

_APP_DATA = ROOT / "coordinator" / "registry" / "data"
DATA_DIR = _APP_DATA if (_APP_DATA / "kommuner.csv").exists() else Path("/work/shared/data")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_frame(year: int = 2014) -> design.Frame:
    population = {r["kommunkod"]: int(r[str(year)]) for r in _rows("population_1950_2019.csv")}
    centroid = {r["kommunkod"]: r for r in _rows("kommun_centroids.csv")}
    skr = {r["kommunkod"]: r["grupp_kod"] for r in _rows("kommungrupp_skr2017.csv")}
    districts: dict[str, list[str]] = {}
    for r in _rows("stadsdelar_2015.csv"):
        districts.setdefault(r["kommunkod"], []).append(r["enhet"])
    units = tuple(
        design.Unit(
            kommunkod=r["kommunkod"],
            kommun=r["kommun"],
            lanskod=r["lanskod"],
            population=population[r["kommunkod"]],
            lat=float(centroid[r["kommunkod"]]["lat"]),
            lon=float(centroid[r["kommunkod"]]["lon"]),
            skr_grupp=skr.get(r["kommunkod"]),
        )
        for r in _rows("kommuner.csv")
    )
    return design.Frame(
        units=units,
        lan_names={r["lanskod"]: r["lan"] for r in _rows("lan.csv")},
        districts={k: tuple(v) for k, v in districts.items()},
        reference_year=year,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--year", type=int, default=2014)
    args = parser.parse_args()

    frame = load_frame(args.year)
    settings = design.Settings()
    print(f"Frame: {len(frame.units)} kommuner, reference year {args.year}, data {DATA_DIR}")

    design._PREPARED.clear()
    t0 = time.perf_counter()
    design.draw(frame, settings, 0)
    design.inclusion_probabilities(frame, settings)
    cold = time.perf_counter() - t0

    times = []
    for seed in range(args.repeats):
        t0 = time.perf_counter()
        design.draw(frame, settings, seed)
        design.inclusion_probabilities(frame, settings)
        times.append(time.perf_counter() - t0)
    uncached = []
    for seed in range(min(args.repeats, 20)):
        design._PREPARED.clear()
        t0 = time.perf_counter()
        design.draw(frame, settings, seed)
        design.inclusion_probabilities(frame, settings)
        uncached.append(time.perf_counter() - t0)
    print("\nTime of draw + exact pi (target <= 0.5 s)")
    print(f"  first call (cold)             : {cold * 1000:8.1f} ms")
    print(f"  median of {args.repeats:3d} runs             : {statistics.median(times) * 1000:8.1f} ms")
    print(f"  median, target table uncached : {statistics.median(uncached) * 1000:8.1f} ms")

    seeds = range(args.seeds)
    srs = statistics.median(design.srs_sb(frame, settings, seeds))
    print(f"\nSpatial balance sb over {args.seeds} seeds (lower is better; target ratio <= 0.7)")
    print(f"  stratified SRS                : {srs:.4f}")
    for label, s in [("this design", settings), ("this design, balance_skr", design.Settings(balance_skr=True))]:
        draws = [design.draw(frame, s, seed) for seed in seeds]
        sb = statistics.median(d.diagnostics.sb for d in draws)
        per_group = {
            g: statistics.median(d.diagnostics.sb_per_group[g] for d in draws)
            for g in draws[0].diagnostics.sb_per_group
        }
        groups = ", ".join(f"g{g} {v:.3f}" for g, v in per_group.items())
        print(f"  {label:<30}: {sb:.4f}  ratio {sb / srs:.2f}   (median per group: {groups})")


if __name__ == "__main__":
    main()
