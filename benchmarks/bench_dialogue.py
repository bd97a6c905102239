"""Benchmark of the dialogue's overview pages and search (server time, both database backends).

Run from the project root:  python benchmarks/bench_dialogue.py [--repeats 30] [--backends sqlite,postgresql]

For each backend it builds a temporary database with the real migrations (SQLite in a
temporary folder; PostgreSQL as a temporary database on postgresql+psycopg://postgres@127.0.0.1:5432,
dropped afterwards), adopts the sample (seed 7), makes its 100 visits and writes a note of 10
passages to each (1000 passages of 40–90 words, 0–3 themes and flags each). Then it times
requests through ``app.test_client()`` as a logged-in staff user: the first (cold) request and
the median and 90th percentile of the repeats. Target: under 100 ms for the overview pages and
for search.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_TMP = tempfile.mkdtemp(prefix="coordinator-bench-")
os.environ.setdefault("COORDINATOR_INSTANCE", _TMP)
os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-not-for-production")

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
EMAIL, PASSWORD = "bench@example.se", "benchmark-lösenord-123"
TARGET_MS = 100

WORDS = (
    "kommunen socialtjänsten barn barnen barnens familjehem familjehemmen familjehemsplacering placering "
    "placeringar placeringen utredning utredningar utredningen socialsekreterare socialsekreterarna personal "
    "personalen rekrytering rekryteringen chef chefer ledningen nämnden politiken budget resurser brist "
    "bristen samverkan skolan skola hälso- sjukvården BUP polisen anmälningar orosanmälningar ökat antal "
    "handläggning handläggare uppföljning uppföljningen systematisk kvalitet god insatser insatserna "
    "öppenvård HVB boende ensamkommande unga ungdomar vårdnadshavare föräldrar delaktighet rättigheter "
    "BBIC dokumentation IT-stöd digitala verktyg välfärdsteknik introduktion nyanställda arbetsmiljö "
    "sjukskrivningar kompetens utbildning specialisering evidens metoder stöd regionalt nationellt "
    "Socialstyrelsen IVO tillsyn lagstiftning krav förutsättningar utveckling mål handlingsplan"
).split()
FILLER = "och att det som för med en på är inte har vi de i av till om men också mycket mer".split()


def passage_text(rng: random.Random) -> str:
    words = [rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(FILLER) for _ in range(rng.randint(40, 90))]
    sentences, i = [], 0
    while i < len(words):
        n = rng.randint(8, 16)
        chunk = words[i:i + n]
        sentences.append(chunk[0].capitalize() + " " + " ".join(chunk[1:]) + ".")
        i += n
    return " ".join(sentences)


def _pg_admin(url: str, *statements: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(db=u.database))


def build(url: str, seed: int = 1):
    """An app on ``url`` with the migrated schema, reference data, 100 visits x 10 passages."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from coordinator import create_app
    from coordinator.auth.models import User
    from coordinator.dialogue.defaults import load_dialogue_defaults
    from coordinator.dialogue.models import FLAGS, QUOTE_REASONS, Note, Passage, Theme
    from coordinator.extensions import db
    from coordinator.registry.reference import load_reference_data
    from coordinator.scheduling.defaults import load_assignment_defaults
    from coordinator.scheduling.models import Visit
    from coordinator.scheduling.service import ensure_visits

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SERVER_NAME": None})
    with app.app_context():
        upgrade()
        load_reference_data()
        load_assignment_defaults()
        load_dialogue_defaults()
        user = User(email=EMAIL, name="Bench", role="staff")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    runner = app.test_cli_runner()
    import json
    drawn = runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json"])
    assert drawn.exit_code == 0, drawn.output
    adopted = runner.invoke(args=["sample", "adopt", str(json.loads(drawn.output)["id"]), "--json"])
    assert adopted.exit_code == 0, adopted.output
    rng = random.Random(seed)
    sections = [f"fraga-{n}" for n in range(1, 8)] + ["fack", "barn", "ovrigt"]
    with app.app_context():
        ensure_visits()
        db.session.commit()
        themes = db.session.scalars(select(Theme)).all()
        visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        for visit in visits:
            note = Note(visit_id=visit.id)
            db.session.add(note)
            db.session.flush()
            for position, section in enumerate(sections):
                flags = {f: rng.random() < 0.15 for f in FLAGS}
                db.session.add(Passage(
                    note_id=note.id, section=section, position=position, text=passage_text(rng),
                    themes=rng.sample(themes, rng.randint(0, 3)),
                    quote_reason=rng.choice(QUOTE_REASONS) if flags["citat"] else None,
                    attribution_cleared=flags["citat"] and rng.random() < 0.3, **flags))
        db.session.commit()
        counts = (len(visits), db.session.query(Passage).count())
    return app, counts


def time_requests(client, url: str, repeats: int) -> tuple[float, float, float, int]:
    t0 = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - t0
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
    times.sort()
    return cold * 1000, statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000, len(response.data)


def run_backend(backend: str, repeats: int) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-dialogue-', dir=_TMP)) / 'bench.sqlite3'}"
    elif backend == "postgresql":
        url = f"{PG_SERVER}/coordinator_bench_dialogue_{os.getpid()}"
        _pg_admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
    else:
        raise SystemExit(f"unknown backend {backend}")
    try:
        t0 = time.perf_counter()
        app, (n_visits, n_passages) = build(url)
        print(f"\n{backend}: {n_visits} visits, {n_passages} passages (built in {time.perf_counter() - t0:.1f} s)")
        from sqlalchemy import select

        from coordinator.dialogue.models import Theme
        from coordinator.extensions import db
        with app.app_context():
            theme = db.session.scalar(select(Theme.id).where(Theme.name == "Brist på familjehem"))
        client = app.test_client()
        login = client.post("/logga-in", data={"email": EMAIL, "password": PASSWORD})
        assert login.status_code == 302, login.status_code
        pages = [
            ("overview  themes x group x round", "/dialog/oversikt"),
            ("overview  one flag (hinder)", "/dialog/oversikt?flagga=hinder"),
            ("flagged   goda exempel", "/dialog/goda-exempel"),
            ("flagged   hinder", "/dialog/hinder"),
            ("flagged   nationella frågor", "/dialog/nationella-fragor"),
            ("flagged   citat", "/dialog/citat"),
            ("codebook  teman with counts", "/dialog/teman"),
            ("search    familjehem", "/dialog/sok?q=familjehem"),
            ("search    barn placering", "/dialog/sok?q=barn+placering"),
            ("search    rekrytering, grupp 2", "/dialog/sok?q=rekrytering&grupp=2"),
            ("search    a rare word (tillsyn IVO)", "/dialog/sok?q=tillsyn+IVO"),
            ("search    no hits (xyzzy)", "/dialog/sok?q=xyzzy"),
            ("listing   theme, group 3, round 1", f"/dialog/sok?tema={theme}&grupp=3&omgang=1"),
            ("listing   flag hinder, page 2", "/dialog/sok?flagga=hinder&sida=2"),
        ]
        print(f"  {'page':<40} {'cold':>8} {'median':>8} {'p90':>8}   {'size':>7}   (ms; target < {TARGET_MS} ms)")
        worst = 0.0
        for label, url_ in pages:
            cold, median, p90, size = time_requests(client, url_, repeats)
            worst = max(worst, median)
            flag = "" if median < TARGET_MS else "  OVER TARGET"
            print(f"  {label:<40} {cold:8.1f} {median:8.1f} {p90:8.1f}   {size / 1024:6.0f}k{flag}")
        verdict = "meets" if worst < TARGET_MS else "MISSES"
        print(f"  slowest median: {worst:.1f} ms -> {verdict} the {TARGET_MS} ms target "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: read the figures with it)")
        with app.app_context():
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            _pg_admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args, _ = parser.parse_known_args()  # benchmarks/run.py passes its arguments to every benchmark
    print(f"Dialogue pages: server time through app.test_client(), {args.repeats} repeats after one cold request")
    try:
        for backend in args.backends.split(","):
            run_backend(backend.strip(), args.repeats)
    finally:
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
