"""Benchmark of the office's day: the start page, a site page, its briefing PDF and the weekly digest.

Run from the project root:  python benchmarks/bench_overview.py [--repeats 5]

Builds the whole demo assignment (`coordinator demo`, as of 2016-10-31) on a temporary SQLite
database migrated like production, then grows it tenfold where these pages could grow: ten times
the action-plan activities (overdue ones included), the tasks and the site's time line (audit
events). For both sizes it prints the SQL statements and the median time of:
  GET /              the start page (staff), target <= 0.5 s
  GET /platser/<id>/ the site page of the site with the longest time line, target <= 0.5 s
  briefing PDF       the one-page briefing, target <= 1 s
  digest             `coordinator digest --json` (compute only)
The statements must not grow with the data (lists are read with a fixed number of queries; the time
line's words take one per kind of object on the page).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"start page": 0.5, "site page": 0.5, "briefing PDF": 1.0, "digest": 0.5}


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
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-overview-"))
    os.environ["COORDINATOR_INSTANCE"] = str(folder)
    os.environ.setdefault("SECRET_KEY", "benchmark")
    from sqlalchemy import event, func, select

    from coordinator import create_app
    from coordinator.audit import AuditEvent
    from coordinator.auth.models import User
    from coordinator.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "WTF_CSRF_ENABLED": False})
    try:
        with app.app_context():
            from coordinator.cli import prepare_database
            from coordinator.demo import build

            prepare_database()
            user = User(email="bench@example.se", name="Bench", role="staff")
            user.set_password("benchmark-password")
            db.session.add(user)
            db.session.commit()
            t = time.perf_counter()
            build.build()
            print(f"demo built in {time.perf_counter() - t:.1f} s")
            user_id = user.id
            site_id = db.session.scalar(select(AuditEvent.site_id).where(AuditEvent.site_id.isnot(None))
                                        .group_by(AuditEvent.site_id).order_by(func.count().desc()).limit(1))

        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(user_id), True
        count = [0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))

        def measure(label: str) -> dict[str, tuple[int, float]]:
            out = {}
            client.get("/")  # the app's own tasks are synced once, outside the figures

            def get(url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            def digest():
                with app.app_context():
                    from coordinator.overview import digest as letters
                    from coordinator.overview import due
                    return letters.as_json(due.compute(date(2016, 10, 31)))

            for name, fn in (("start page", lambda: get("/")), ("site page", lambda: get(f"/platser/{site_id}/")),
                             ("briefing PDF", lambda: get(f"/platser/{site_id}/underlag.pdf")), ("digest", digest)):
                count[0] = 0
                fn()
                statements = count[0]
                seconds, _ = timed(fn, args.repeats)
                out[name] = (statements, seconds)
            print(f"-- {label}")
            for name, (statements, seconds) in out.items():
                verdict = "ok" if seconds <= TARGETS[name] else "OVER TARGET"
                print(f"  {name:<13} {statements:>4} SQL statements  {seconds * 1000:7.1f} ms median "
                      f"(target {TARGETS[name] * 1000:.0f} ms: {verdict})")
            return out

        small = measure("demo data (50 sites, 100 visits, 244 activities)")
        with app.app_context():
            grow(site_id)
        large = measure("grown tenfold (activities, tasks and the site's time line)")
        # The time line reads its objects with one statement per kind of object on the page: bounded, not per row.
        flat = all(large[k][0] <= small[k][0] for k in small)
        print("statements do not grow with the data:", "yes" if flat else "NO")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def grow(site_id: int) -> None:
    """Ten times the activities, tasks and the site's audit events."""
    from sqlalchemy import select

    from coordinator.audit import AuditEvent
    from coordinator.extensions import db
    from coordinator.plans.models import PlanActivity, PlanGoal
    from coordinator.tasks.models import Task

    goals = list(db.session.scalars(select(PlanGoal)))
    n = len(list(db.session.scalars(select(PlanActivity.id))))
    for i in range(9 * n):
        goal = goals[i % len(goals)]
        db.session.add(PlanActivity(goal_id=goal.id, position=100 + i, description=f"Extra aktivitet {i}",
                                    due_date=date(2016, 6, 1) + timedelta(days=i % 200)))
    for i in range(400):
        db.session.add(Task(title=f"Uppgift {i}", due_date=date(2016, 10, 1) + timedelta(days=i % 60),
                            site_id=site_id if i % 2 else None))
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.site_id == site_id)))
    for _ in range(9):
        for e in events:
            db.session.add(AuditEvent(at=e.at, actor=e.actor, action=e.action, object_type=e.object_type,
                                      object_id=e.object_id, details=e.details, site_id=site_id))
    db.session.commit()


if __name__ == "__main__":
    main()
