"""Measurement results across kommuner (to be written). The report calls report_tables()."""
from __future__ import annotations

from datetime import date
from typing import Any


def report_tables(start: date | None, end: date) -> list[dict[str, Any]]:
    """Tables for the quarterly report: answers submitted up to `end` (from `start` if given).

    One dict per question, JSON-serialisable:
      {"questionnaire": str, "round": int | None, "position": int, "question": str, "kind": str,
       "asked": int,      # requests submitted (the denominator of 'answered')
       "answered": int,   # gave an answer
       "skipped": int,    # skipped by rule (not counted as unanswered)
       "rows": [{"label": str, "count": int, "share": float | None}],  # share of answered
       "mean": float | None, "median": float | None}   # for number questions
    """
    return []
