"""Measurement results from the database: the submitted responses, the quarterly report's tables, CSV.

The counting itself is in tabulate.py (plain Python over simple data); this module reads the
requests and answers into that shape and writes the exports. The report calls report_tables().
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..csvexport import csv_bytes
from ..extensions import db
from ..registry.models import Kommun, Lan
from ..sampling.models import Site
from .models import NUMBER, TEXT, MeasurementAnswer, MeasurementRequest, Questionnaire
from .tabulate import OTHER, Answer, Q, Response, Table, format_number, matrix, tabulate

TZ = ZoneInfo("Europe/Stockholm")


def questions_of(questionnaire: Questionnaire) -> list[Q]:
    return [Q.of(q) for q in questionnaire.questions]


def local_date(dt: datetime) -> date:
    """The office's calendar date of a stored timestamp (SQLite gives naive UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(TZ).date()


def load_responses(questionnaire_id: int | None = None, *, submitted_only: bool = True) -> list[Response]:
    """The requests (of one questionnaire, or all) as responses; unsubmitted ones have submitted_at None
    and are only included when asked for (the tabulation never counts them).

    Two statements whatever the number of requests: the requests with their site, kommun and län as plain
    rows, then every answer of those requests. Plain rows, not ORM objects: a questionnaire at ten times
    the demo has a thousand requests and ten thousand answers, and nothing here is changed or navigated."""
    conditions = []
    if questionnaire_id is not None:
        conditions.append(MeasurementRequest.questionnaire_id == questionnaire_id)
    if submitted_only:
        conditions.append(MeasurementRequest.submitted_at.isnot(None))
    rows = db.session.execute(
        select(MeasurementRequest.id, MeasurementRequest.site_id, MeasurementRequest.round,
               MeasurementRequest.submitted_at, MeasurementRequest.questionnaire_id, Site.enhet, Site.grupp,
               Kommun.namn, Kommun.kommunkod, Kommun.lanskod, Lan.namn.label("lan_namn"))
        .join(Site, Site.id == MeasurementRequest.site_id)
        .join(Kommun, Kommun.kommunkod == Site.kommunkod)
        .join(Lan, Lan.lanskod == Kommun.lanskod)
        .where(*conditions).order_by(MeasurementRequest.id)).all()
    if not rows:
        return []
    answers: dict[int, dict[int, Answer]] = defaultdict(dict)
    for request_id, question_id, value, other_text, comment in db.session.execute(
            select(MeasurementAnswer.request_id, MeasurementAnswer.question_id, MeasurementAnswer.value,
                   MeasurementAnswer.other_text, MeasurementAnswer.comment)
            .join(MeasurementRequest, MeasurementRequest.id == MeasurementAnswer.request_id).where(*conditions)):
        answers[request_id][question_id] = Answer(value, other_text or "", comment or "")
    return [Response(request_id=r.id, site_id=r.site_id, site=f"{r.namn}, {r.enhet}" if r.enhet else r.namn,
                     kommun=r.namn, kommunkod=r.kommunkod, lanskod=r.lanskod, lan=r.lan_namn, grupp=r.grupp,
                     round=r.round, submitted_at=r.submitted_at, questionnaire_id=r.questionnaire_id,
                     answers=answers.get(r.id, {}))
            for r in rows]


def report_tables(start: date | None, end: date) -> list[dict[str, Any]]:
    """Tables for the quarterly report: answers submitted up to `end` (from `start` if given).

    Both dates are inclusive, in the office's time zone (Europe/Stockholm). National figures: one
    table per questionnaire, round and question, sorted by questionnaire (name), round, position.
    Only counts and number summaries: free-text answers are never included (quotes are chosen by hand).

    One dict per question, JSON-serialisable:
      {"questionnaire": str, "round": int | None, "position": int, "question": str, "kind": str,
       "asked": int,      # requests submitted (the denominator of 'answered')
       "answered": int,   # gave an answer
       "skipped": int,    # skipped by rule (not counted as unanswered)
       "rows": [{"label": str, "count": int, "share": float | None}],  # share of answered
       "mean": float | None, "median": float | None}   # for number questions

    "round" is the round the answers belong to (the requests' round). "asked" excludes the requests
    whose skip rules jumped over the question: those are in "skipped". For several-choice questions
    the shares may sum to more than 1. "rows" is empty for number and text questions; the
    "Annat, ange" choice is a row labelled "Annat, ange".
    """
    responses = [r for r in load_responses()
                 if (start is None or start <= local_date(r.submitted_at)) and local_date(r.submitted_at) <= end]
    parts: dict[tuple[int, int], list[Response]] = defaultdict(list)
    for r in responses:
        parts[(r.questionnaire_id, r.round)].append(r)
    questionnaires = {qid: db.session.get(Questionnaire, qid) for qid, _ in parts}
    out = []
    for qid, rnd in sorted(parts, key=lambda k: (questionnaires[k[0]].name, k[0], k[1])):
        questionnaire = questionnaires[qid]
        for t in tabulate(questions_of(questionnaire), parts[(qid, rnd)]):
            q = t.question
            stats = t.numbers if q.kind == NUMBER else None
            out.append({
                "questionnaire": questionnaire.name, "round": rnd, "position": q.position, "question": q.text,
                "kind": q.kind, "asked": t.asked, "answered": t.answered, "skipped": t.skipped,
                "rows": [{"label": row.label, "count": row.count, "share": row.share} for row in t.rows],
                "mean": stats.mean if stats else None, "median": stats.median if stats else None,
            })
    return out


# --------------------------------------------------------------------------- CSV for Swedish Excel

def csv_filename(questionnaire: Questionnaire, what: str, today: date) -> str:
    """matning-3-infor-besoket-svar-2026-11-23.csv: ASCII, so every browser and OS keeps it."""
    ascii_name = unicodedata.normalize("NFKD", questionnaire.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "formular"
    return f"matning-{questionnaire.id}-{slug}-{what}-{today.isoformat()}.csv"


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}".replace(".", ",")


def _num(x: float | None) -> str:
    return "" if x is None else format_number(x)


def answers_csv(questions: Sequence[Q], responses: Iterable[Response]) -> tuple[bytes, int]:
    """Raw answers, one row per submitted request × question, and the number of rows."""
    from flask_babel import gettext as _
    from flask_babel import pgettext

    header = [_("Besöksplats"), _("Kommun"), _("Kommunkod"), _("Län"), _("ÖJ-grupp"), _("Omgång"),
              _("Frågenummer"), _("Fråga"), pgettext("mätning", "Svar"), _("Annat, ange (text)"), _("Kommentar"),
              _("Överhoppad enligt regel"), _("Inskickad")]
    ordered = sorted(questions, key=lambda q: q.position)
    rows = []
    for response, cells in matrix(ordered, responses):
        submitted = response.submitted_at.replace(tzinfo=response.submitted_at.tzinfo or timezone.utc)
        for q, cell in zip(ordered, cells):
            rows.append([response.site, response.kommun, response.kommunkod, response.lan, response.grupp,
                         response.round, q.position, q.text, cell.text, cell.other_text, cell.comment,
                         _("ja") if cell.status == "skipped" else _("nej"),
                         submitted.astimezone(TZ).strftime("%Y-%m-%d %H:%M")])
    return csv_bytes(header, rows), len(rows)


def tables_csv(parts: Sequence[tuple[str, Sequence[Table]]], part_heading: str) -> tuple[bytes, int]:
    """The tabulation: per part (a group, a län, or the whole) and question, one row per option
    (number questions: one row per summary figure; text questions: one row with the count)."""
    from flask_babel import gettext as _

    header = [part_heading, _("Frågenummer"), _("Fråga"), _("Svarsalternativ"), _("Antal"),
              _("Andel av besvarade (%)"), _("Värde"), _("Besvarade"), _("Tillfrågade"), _("Utan svar"),
              _("Överhoppade enligt regel")]
    rows = []
    for part, tables in parts:
        for t in tables:
            q = t.question
            tail = [t.answered, t.asked, t.no_answer, t.skipped]
            if q.kind == NUMBER:
                s = t.numbers
                for label, value in ((_("Antal värden"), s.n), (_("Medelvärde"), s.mean), (_("Median"), s.median),
                                     (_("Minsta"), s.min), (_("Största"), s.max)):
                    rows.append([part, q.position, q.text, label, "", "", _num(value), *tail])
            elif q.kind == TEXT:
                rows.append([part, q.position, q.text, _("Fritextsvar"), t.answered, "", "", *tail])
            else:
                for row in t.rows:
                    label = _("Annat, ange") if row.label == OTHER else row.label
                    rows.append([part, q.position, q.text, label, row.count, _pct(row.share), "", *tail])
    return csv_bytes(header, rows), len(rows)
