"""Benchmark of the final report (slutrapport) on the demo assignment: figures, PDF, Word and HTML.

Run from the project root:  python benchmarks/bench_final_report.py [--repeats 3] [--out slutrapport.pdf]

Builds the whole demo assignment (`coordinator demo`, as of 2016-10-31) on a temporary SQLite
database migrated like production, then prints for the final report:
  figures  figures.compute("slut"): SQL statements, median time (target <= 3 s)
  PDF      reports/pdf.render: pages, size, median time (target <= 10 s)
  DOCX     reports/docx.render: size, median time (target <= 10 s)
  HTML     templates/reports/_body.html: size, median time
and the peak memory (tracemalloc) of one compute + PDF render (target <= 150 MB).
--out writes the PDF (and the .docx beside it) for a look.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS_S = {"figures": 3.0, "PDF": 10.0, "DOCX": 10.0, "HTML": 3.0}
TARGET_PEAK_MB = 150


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(first, median of the repeats, last result)."""
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times[0], statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-final-"))
    os.environ["COORDINATOR_INSTANCE"] = str(folder)
    os.environ.setdefault("SECRET_KEY", "benchmark")
    from flask import render_template
    from flask_babel import force_locale
    from sqlalchemy import event

    from coordinator import create_app
    from coordinator.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "WTF_CSRF_ENABLED": False,
                      "COORDINATOR_TODAY": "2016-10-31"})
    with app.app_context():
        from coordinator.cli import prepare_database
        from coordinator.demo import build

        prepare_database()
        db.session.commit()
        t = time.perf_counter()
        build.build()
        print(f"demo built in {time.perf_counter() - t:.1f} s")

    count = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))
    with app.test_request_context(), force_locale("sv"):
        from coordinator.reports import docx, figures, pdf
        from coordinator.reports.service import narrative_texts

        texts = narrative_texts("slut")
        count[0] = 0
        first, median, data = timed(lambda: figures.compute("slut"), args.repeats)
        statements = count[0] // args.repeats
        rows = [("figures", first, median, f"{statements} SQL statements")]
        status = {"draft": True}
        first, median, body = timed(lambda: pdf.render(data, texts, status), args.repeats)
        from pypdf import PdfReader
        pages = len(PdfReader(io.BytesIO(body)).pages)
        rows.append(("PDF", first, median, f"{pages} pages, {len(body) / 1024:.0f} KiB"))
        pdf_bytes = body
        first, median, body = timed(lambda: docx.render(data, texts, status), args.repeats)
        rows.append(("DOCX", first, median, f"{len(body) / 1024:.0f} KiB"))
        docx_bytes = body
        first, median, body = timed(lambda: render_template("reports/_body.html", data=data, narratives=texts,
                                                            status=status), args.repeats)
        rows.append(("HTML", first, median, f"{len(body) / 1024:.0f} KiB"))

        tracemalloc.start()
        pdf.render(figures.compute("slut"), texts, status)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"{'':8} {'first':>8} {'median':>8} {'target':>8}")
    for name, first, median, what in rows:
        ok = "ok" if median <= TARGETS_S[name] else "OVER"
        print(f"{name:8} {first:7.2f}s {median:7.2f}s {TARGETS_S[name]:7.1f}s  {ok:4}  {what}")
    peak_mb = peak / 2**20
    print(f"peak memory of compute + PDF (tracemalloc): {peak_mb:.0f} MB (target <= {TARGET_PEAK_MB} MB: "
          f"{'ok' if peak_mb <= TARGET_PEAK_MB else 'OVER'})")
    if args.out:
        args.out.write_bytes(pdf_bytes)
        args.out.with_suffix(".docx").write_bytes(docx_bytes)
        print(f"written: {args.out} and {args.out.with_suffix('.docx')}")


if __name__ == "__main__":
    main()
