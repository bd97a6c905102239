"""Benchmark of the date offers: time to rank the dates for one visit on the demo assignment.

Run from the project root:  python benchmarks/bench_offers.py [--repeats 5]   (or ./dev bench offers)

Builds the demo assignment (`coordinator demo`, as of 2016-10-31) on a temporary SQLite database
migrated like production. For every unbooked visit it times `offers.rank_dates(visit, 3)` (read the
visits, check every candidate day of the round's window against the rules, rank by the extra travel of
its week, spread over weeks) and prints the median and the slowest, with the number of candidate days.
Target: well under 1 s per visit. Then the same with the round's window widened to the whole year
(2016-01-04 to 2016-12-15) and `today` at its start, the largest candidate set the demo can give.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_S = 1.0


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    folder = Path(tempfile.mkdtemp(prefix="bench-offers-"))
    os.environ["COORDINATOR_INSTANCE"] = str(folder)
    os.environ.setdefault("SECRET_KEY", "benchmark")
    from sqlalchemy import select

    from coordinator import create_app
    from coordinator.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}"})
    try:
        with app.app_context():
            from coordinator.cli import prepare_database
            from coordinator.demo import build
            from coordinator.scheduling import offers
            from coordinator.scheduling.defaults import assignment
            from coordinator.scheduling.models import FORSLAG, Visit

            prepare_database()
            t = time.perf_counter()
            build.build()
            print(f"demo built in {time.perf_counter() - t:.1f} s")
            visits = list(db.session.scalars(select(Visit).where(Visit.status == FORSLAG).order_by(Visit.id)))
            n_all = db.session.query(Visit).count()
            for label, today in (("demo window", None), ("whole-year window", date(2016, 1, 4))):
                if today is not None:
                    a = assignment()
                    a.round2_start = today
                    db.session.flush()
                times, sizes = [], []
                for v in visits:
                    sizes.append(len(offers.candidate_days(v, today)))
                    median, dates = timed(lambda: offers.rank_dates(v, 3, today), repeats)
                    times.append(median)
                print(f"{label}: {len(visits)} unbooked visits of {n_all}; candidate days per visit "
                      f"{min(sizes)}-{max(sizes)}")
                print(f"  rank_dates: median {statistics.median(times) * 1000:.0f} ms, slowest "
                      f"{max(times) * 1000:.0f} ms (target < {TARGET_S:.0f} s) "
                      f"{'OK' if max(times) < TARGET_S else 'TOO SLOW'}")
            db.session.rollback()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
