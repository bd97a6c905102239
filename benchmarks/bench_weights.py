"""Simulation of the design-weighted national estimates over the real 2014 frame.

Run from the project root:  python benchmarks/bench_weights.py [--draws 2000] [--first-seed 1]

Draws the sample of the real design again and again (one seed per draw) and prints, for the share
of kommuner whose population grew 2004-2014 and for the mean population in 2004:
true value, mean of the weighted (Hájek, 1/π) estimates, relative bias (target within 1 %),
coverage of the 95 % interval (target 92-98 %), the unweighted figure of the visited kommuner and
its bias, and the time taken.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coordinator.measurement import simulation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--first-seed", type=int, default=1)
    args, _unknown = parser.parse_known_args()
    pop = simulation.load()
    print(f"Frame: {len(pop.frame.units)} kommuner, reference year {pop.frame.reference_year}")
    results, seconds = simulation.simulate(pop, draws=args.draws, first_seed=args.first_seed)
    print(simulation.report(results, seconds))


if __name__ == "__main__":
    main()
