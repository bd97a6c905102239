"""Skip rules, shared by the kommun's form, validation and the results (plain Python, no Flask).

A one-choice question may carry rules {option: position}: answering that option jumps to the
question at that position, and the questions in between are skipped. Skipped questions are
neither required nor counted as unanswered: the results count them separately.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class QuestionLike(Protocol):
    id: int
    position: int
    kind: str
    skip_rules: Mapping[str, int]


def skipped(questions: Sequence[QuestionLike], answers: Mapping[int, Any]) -> set[int]:
    """Ids of the questions skipped by rule, given answers {question id: value}, walking in order."""
    skip_until = 0  # questions with a position below this are skipped
    out: set[int] = set()
    for q in sorted(questions, key=lambda q: q.position):
        if q.position < skip_until:
            out.add(q.id)
            continue
        value = answers.get(q.id)
        if q.kind == "en" and isinstance(value, str) and q.skip_rules:
            target = q.skip_rules.get(value)
            if target is not None and int(target) > q.position:
                skip_until = int(target)
    return out


def check_rules(questions: Sequence[QuestionLike]) -> list[tuple[int, str]]:
    """Problems with a questionnaire's rules: (position, Swedish message); empty when all is well."""
    positions = {q.position for q in questions}
    problems = []
    for q in sorted(questions, key=lambda q: q.position):
        for option, target in (q.skip_rules or {}).items():
            if q.kind != "en":
                problems.append((q.position, f"Fråga {q.position}: hoppregler finns bara för frågor med ett svar."))
            elif int(target) <= q.position:
                problems.append((q.position, f"Fråga {q.position}: ”{option}” kan bara hoppa framåt."))
            elif int(target) not in positions and int(target) != max(positions, default=0) + 1:
                problems.append((q.position, f"Fråga {q.position}: fråga {target} finns inte."))
    return problems
