"""Time per view of a report draft and of the registry page, cold and warm, on the demo data.

    python benchmarks/report_cache_timing.py --db sqlite:////tmp/demo.sqlite3 --build   # once: demo + a user
    python benchmarks/report_cache_timing.py --db sqlite:////tmp/demo.sqlite3            # the figures

"Cold" forgets the per-process caches before each view (as after any change to the data: the first view of
a new data version); "warm" repeats the view with the data unchanged. Run with PYTHONPATH pointing at
another checkout to time that one (a checkout without the caches has no cold/warm difference).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("COORDINATOR_INSTANCE", tempfile.mkdtemp(prefix="coordinator-bench-"))
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("COORDINATOR_TODAY", "2016-10-31")  # the demo's "today"

EMAIL, PASSWORD = "bench@example.se", "benchmark-lösenord-1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--period", default="2016Q3")
    parser.add_argument("-n", type=int, default=7)
    args = parser.parse_args()

    from coordinator import create_app
    from coordinator.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.db, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    if args.build:
        with app.app_context():
            from coordinator.auth.models import User
            from coordinator.cli import prepare_database
            from coordinator.demo import build

            prepare_database()
            build.build(build.SEED, build.AS_OF)
            db.session.commit()
            user = User(email=EMAIL, name="Bench", role="staff")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
        print("built")
        return

    client = app.test_client()
    response = client.post("/logga-in", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code

    def forget() -> None:
        try:
            from coordinator.reports import drafts
        except ImportError:
            return
        drafts.clear()
        from coordinator.registry import service
        if hasattr(service, "_reference_cache"):
            service._reference_cache.clear()

    def timed(url: str, cold: bool) -> tuple[float, float]:
        """Median wall and CPU milliseconds of this process (CPU: what a loaded machine does not blur)."""
        wall, cpu = [], []
        for _ in range(args.n):
            if cold:
                forget()
            start, start_cpu = time.perf_counter(), time.process_time()
            r = client.get(url)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert r.status_code == 200, (url, r.status_code)
        return statistics.median(wall) * 1000, statistics.median(cpu) * 1000

    from sqlalchemy import event

    def statements(url: str, cold: bool) -> int:
        if cold:
            forget()
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *_a: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    print(f"{'page':24} {'cold wall':>10} {'cold cpu':>9} {'warm wall':>10} {'warm cpu':>9}  (ms, median of {args.n})"
          "  SQL cold/warm")
    for url in (f"/rapporter/{args.period}/", "/register/", "/register/grupper"):
        client.get(url)  # templates compiled, fonts and boundaries read
        cold, warm = timed(url, True), timed(url, False)
        sql = f"{statements(url, True)}/{statements(url, False)}"
        print(f"{url:24} {cold[0]:10.1f} {cold[1]:9.1f} {warm[0]:10.1f} {warm[1]:9.1f}  {sql:>12}")


if __name__ == "__main__":
    main()
