"""Benchmark of the action plan PDF (coordinator/plans/pdf.py).

Run from the project root:  python benchmarks/bench_plans.py [--repeats 10] [--out plan.pdf]

Builds, on a temporary SQLite database migrated like production, one site's plan with
5 goals x 6 activities (realistic Swedish text, comments from the kommun, the follow-up
written) and prints the PDF render time: the first (cold) call and the median of the repeats
(target <= 0.5 s), with the page count. --out writes the PDF for a look.
"""
from __future__ import annotations

import argparse
import io
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

TARGET_S = 0.5
STATUSES = ("genomford", "pagar", "ej_paborjad", "genomford", "avbruten", "pagar")
GOALS = [
    ("Stabil bemanning i barn- och ungdomsvården",
     "Minska personalomsättningen bland socialsekreterare och ge nyanställda ett strukturerat stöd."),
    ("Utredningar inom lagstadgad tid", "Fler utredningar avslutas inom fyra månader enligt 11 kap. 2 § SoL."),
    ("Systematisk uppföljning av placerade barn", "Varje placerat barn följs upp enligt plan, med barnets egen röst."),
    ("Samverkan med skola och hälso- och sjukvård", "Gemensamma rutiner för tidiga insatser kring barn som far illa."),
    ("Ledning och styrning", "Nämnden får regelbunden återrapportering om kvaliteten i barn- och ungdomsvården."),
]
ACTIVITIES = [
    "Ta fram en introduktionsplan med mentor för nyanställda socialsekreterare",
    "Inför BBIC fullt ut i utredningar och uppföljningar, med utbildning för alla handläggare",
    "Se över arbetsfördelningen mellan mottagning, utredning och uppföljning",
    "Upphandla konsultstöd för att arbeta av utredningskön under en övergångsperiod",
    "Gemensam rutin med elevhälsan för orosanmälningar och återkoppling",
    "Kvartalsvis rapport till socialnämnden om handläggningstider och uppföljningar",
]


def build_app():
    instance = tempfile.mkdtemp(prefix="coordinator-bench-")
    os.environ["COORDINATOR_INSTANCE"] = instance  # never the project's instance/
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    from coordinator import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
                      "SERVER_NAME": "localhost"})
    with app.app_context():
        import logging

        from flask_migrate import upgrade

        from coordinator.dialogue.defaults import load_dialogue_defaults
        from coordinator.registry.reference import load_reference_data
        logging.disable(logging.INFO)
        upgrade()
        logging.disable(logging.NOTSET)
        load_reference_data()
        load_dialogue_defaults()
    return app


def build_plan(app) -> int:
    from sqlalchemy import select

    from coordinator.dialogue.models import Theme
    from coordinator.extensions import db
    from coordinator.plans import service
    from coordinator.sampling.models import Sample, Site

    with app.app_context():
        sample = Sample(name="Bench", method="manuellt", reference_year=2014, settings={}, frame_source="bench",
                        software={}, diagnostics={}, status="antaget")
        site = Site(sample=sample, position=1, kommunkod="0561", enhet="", grupp=2)
        db.session.add_all([sample, site])
        db.session.flush()
        themes = db.session.scalars(select(Theme.id).order_by(Theme.id)).all()
        plan = service.save_challenges(site, 0, (
            "Hög personalomsättning bland socialsekreterarna, särskilt i utredningsgruppen, och många "
            "nyanställda utan erfarenhet.\n\nUtredningstiderna överskrids i var tredje utredning. "
            "Uppföljningen av placerade barn är inte systematisk och nämnden får sällan återrapportering."))
        db.session.flush()
        for gi, (title, description) in enumerate(GOALS):
            db.session.flush()
            goal = service.add_goal(site, plan.version, {"title": title, "description": description,
                                                         "theme_id": themes[gi * 3 % len(themes)]})
            db.session.flush()
            for ai, text in enumerate(ACTIVITIES):
                a = service.add_activity(goal, {
                    "description": text, "responsible": ("IFO-chef", "Enhetschef barn och unga", "Socialnämnden",
                                                         "Förvaltningschef", "Elevhälsans chef", "Kvalitetsstrateg")[ai],
                    "decided": ai % 3 != 2, "depends_on_decision": ai % 2 == 1, "depends_on_resources": ai % 3 == 0,
                    "due_date": date(2016, 1, 31) + timedelta(days=30 * ai), "status": STATUSES[(ai + gi) % 6],
                    "comment": "Start efter sommaren; budget finns för halva året." if ai % 2 else ""})
                if ai % 3 == 0:
                    a.kommun_comment = "Arbetet har kommit igång men tar längre tid än planerat."
                    a.kommun_updated_at = service.utcnow()
        db.session.flush()
        service.save_followup(plan, plan.version, "Två av fem mål är på god väg. Bemanningen har stabiliserats.",
                              "Utredningstiderna och beslut om resurser för uppföljningen.",
                              {g.id: "Läget har förbättrats men arbetet är inte klart." for g in plan.goals})
        db.session.commit()
        return site.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args, _unknown = parser.parse_known_args()  # benchmarks/run.py passes its arguments to every script

    app = build_app()
    site_id = build_plan(app)
    from pypdf import PdfReader

    from coordinator.extensions import db
    from coordinator.plans import service
    from coordinator.plans.pdf import render_plan_pdf

    times = []
    with app.test_request_context():
        plan = service.plan_for(site_id)
        n_acts = len(service.activities(plan))
        t0 = time.perf_counter()
        data = render_plan_pdf(plan)
        cold = time.perf_counter() - t0
        for _ in range(args.repeats):
            db.session.expire_all()  # each render loads the plan again, as a request would
            plan = service.plan_for(site_id)
            t0 = time.perf_counter()
            data = render_plan_pdf(plan)
            times.append(time.perf_counter() - t0)
    pages = len(PdfReader(io.BytesIO(data)).pages)
    median = statistics.median(times)
    print(f"plan PDF, {len(plan.goals)} goals x {n_acts // max(1, len(plan.goals))} activities "
          f"({pages} pages, {len(data) // 1024} KiB)")
    print(f"  cold: {cold:.3f} s; median of {args.repeats}: {median:.3f} s (target <= {TARGET_S} s) "
          f"{'OK' if median <= TARGET_S else 'SLOW'}")
    if args.out:
        args.out.write_bytes(data)
        print(f"  written to {args.out}")
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(os.environ["COORDINATOR_INSTANCE"], ignore_errors=True)


if __name__ == "__main__":
    main()
