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


def N_(message: str) -> str:
    """Mark a message for extraction; the pages translate it (rule_problems gives msgid and params)."""
    return message


NOT_ONE_CHOICE = N_("Fråga %(nr)s: hoppregler finns bara för frågor med ett svar.")
NOT_FORWARD = N_("Fråga %(nr)s: ”%(option)s” kan bara hoppa framåt.")
NO_TARGET = N_("Fråga %(nr)s: fråga %(target)s finns inte.")
NO_OPTION = N_("Fråga %(nr)s: det finns inget svarsalternativ ”%(option)s”.")


def rule_problems(questions: Sequence[QuestionLike]) -> list[tuple[int, str, dict[str, Any]]]:
    """Problems with a questionnaire's rules as (position, msgid, params), for the caller to translate.

    A rule may jump to any later question, or to the end (one past the last position).
    """
    positions = {q.position for q in questions}
    end = max(positions, default=0) + 1
    problems: list[tuple[int, str, dict[str, Any]]] = []
    for q in sorted(questions, key=lambda q: q.position):
        options = getattr(q, "options", None)
        for option, target in (q.skip_rules or {}).items():
            params = {"nr": q.position, "option": option, "target": target}
            try:
                target = int(target)
            except (TypeError, ValueError):
                problems.append((q.position, NO_TARGET, params))
                continue
            if q.kind != "en":
                problems.append((q.position, NOT_ONE_CHOICE, params))
            elif options is not None and option not in options:
                problems.append((q.position, NO_OPTION, params))
            elif target <= q.position:
                problems.append((q.position, NOT_FORWARD, params))
            elif target not in positions and target != end:
                problems.append((q.position, NO_TARGET, params))
    return problems


def check_rules(questions: Sequence[QuestionLike]) -> list[tuple[int, str]]:
    """Problems with a questionnaire's rules: (position, Swedish message); empty when all is well."""
    return [(position, message % params) for position, message, params in rule_problems(questions)]
