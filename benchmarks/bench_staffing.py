"""Benchmark of the staff assignment (who travels) on a large invented plan.

Run from the project root:  python benchmarks/bench_staffing.py [--visits 600] [--staff 10] [--repeats 20]

Prints, for 1, 2 and 3 companions per visit: the median time of ``assign`` and of
``check`` (target: ``assign`` well under 1 s for 600 visits and 10 staff), the
spread of the workload (largest minus smallest number of visits of a staff member
other than the coordinator) and how many trips kept one team throughout.

The plan is invented, reproducibly: each week a trip Monday-Wednesday (out the
evening before, home the day after) and a day visit on Friday; every staff member
has three absences of up to two weeks at random dates (seed 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# staffing.py is plain Python: load it from its file, without Flask or the app.
_spec = importlib.util.spec_from_file_location("staffing", ROOT / "coordinator" / "scheduling" / "staffing.py")
S = importlib.util.module_from_spec(_spec)
sys.modules["staffing"] = S  # dataclasses look the module up by name
_spec.loader.exec_module(S)


def invented(n_visits: int, n_staff: int, seed: int = 1):
    rng = random.Random(seed)
    visits, d = [], date(2015, 1, 5)
    while len(visits) < n_visits:
        if d.weekday() in (0, 1, 2):
            visits.append(S.StaffVisit((len(visits), 1), d, trip=d.toordinal() // 7,
                                       overnight_before=d.weekday() == 0, overnight_after=d.weekday() == 2))
        elif d.weekday() == 4:
            visits.append(S.StaffVisit((len(visits), 1), d))
        d += timedelta(days=1)
    first, span = visits[0].date, (visits[-1].date - visits[0].date).days
    staff = [S.StaffMember(1, "Samordnaren", coordinator=True)]
    for i in range(2, n_staff + 2):
        absences = []
        for _ in range(3):
            s = first + timedelta(days=rng.randrange(span))
            absences.append((s, s + timedelta(days=rng.randint(0, 13))))
        staff.append(S.StaffMember(i, f"Medarbetare {i}", absences=tuple(absences)))
    return visits, staff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=600)
    parser.add_argument("--staff", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    visits, staff = invented(args.visits, args.staff)
    print(f"{len(visits)} visits, the coordinator and {args.staff} staff members")
    for need in (1, 2, 3):
        times, checks = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            a = S.assign(visits, staff, need)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            problems = S.check(visits, staff, need, a)
            checks.append(time.perf_counter() - t0)
        assert not problems, problems[:3]
        loads = [a.load[s.id] for s in staff if not s.coordinator]
        trips: dict[int, set[tuple[int, ...]]] = {}
        for v in visits:
            if v.trip is not None:
                trips.setdefault(v.trip, set()).add(a.staff[v.key])
        whole = sum(1 for teams in trips.values() if len(teams) == 1)
        print(f"  {need} per visit: assign {statistics.median(times) * 1000:6.1f} ms (target < 1000),"
              f" check {statistics.median(checks) * 1000:5.1f} ms, workload {min(loads)}-{max(loads)}"
              f" (spread {max(loads) - min(loads)}), one team on {whole} of {len(trips)} trips")


if __name__ == "__main__":
    main()
