"""Tabulating submitted questionnaires across kommuner (plain Python over simple data, no Flask).

Denominators follow the field's reporting habit (DOMAIN.md: always state the denominator):
  submitted = requests the kommun has submitted (unsubmitted requests are never passed in here);
  skipped   = submitted requests where a skip rule jumped over the question;
  asked     = submitted - skipped: the question was shown;
  answered  = asked and given an answer; no answer = asked - answered.
Shares of options are of `answered`. With several choices ("flera") one kommun counts under every
option it ticked, so those shares may sum to more than 100 %.

An answer stored for a question that a rule skips (the kommun answered, then changed an earlier
answer) is ignored: the rule decides what was asked.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .models import MANY, NUMBER, ONE, OTHER_OPTION, TEXT
from .rules import skipped as skipped_by_rule

# The label of the "Annat, ange" row: the value the kommun's form stores for that choice.
OTHER = OTHER_OPTION


@dataclass(frozen=True)
class Q:
    """A question as the tabulation needs it."""
    id: int
    position: int
    text: str
    kind: str
    options: tuple[str, ...] = ()
    other_option: bool = False
    comment: bool = False
    skip_rules: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, question: Any) -> Q:
        return cls(id=question.id, position=question.position, text=question.text, kind=question.kind,
                   options=tuple(question.options or ()), other_option=bool(question.other_option),
                   comment=bool(question.comment), skip_rules=dict(question.skip_rules or {}))


@dataclass(frozen=True)
class Answer:
    value: Any = None
    other_text: str = ""
    comment: str = ""


@dataclass
class Response:
    """One submitted request: the site that answered, its kommun, län and ÖJ group, and its answers."""
    request_id: int
    site_id: int
    site: str
    kommun: str
    kommunkod: str
    lanskod: str
    lan: str
    grupp: int
    round: int
    submitted_at: datetime | None
    answers: dict[int, Answer] = field(default_factory=dict)  # {question id: answer}
    questionnaire_id: int = 0


@dataclass
class OptionRow:
    label: str
    count: int
    share: float | None  # of answered; None when nobody answered
    other: bool = False  # the "Annat, ange" row


@dataclass
class NumberStats:
    n: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None


@dataclass
class Table:
    """One question tabulated over a set of submitted responses."""
    question: Q
    asked: int = 0
    answered: int = 0
    skipped: int = 0
    rows: list[OptionRow] = field(default_factory=list)
    other_texts: list[str] = field(default_factory=list)
    numbers: NumberStats | None = None
    invalid_numbers: int = 0  # number answers that do not read as a number (counted as answered)
    texts: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def no_answer(self) -> int:
        return self.asked - self.answered

    @property
    def submitted(self) -> int:
        return self.asked + self.skipped

    @property
    def several(self) -> bool:
        """Several choices per kommun: shares can sum over 100 %."""
        return self.question.kind == MANY

    def row(self, label: str) -> OptionRow:
        for r in self.rows:
            if r.label == label:
                return r
        return OptionRow(label, 0, None if not self.answered else 0.0)


# --------------------------------------------------------------------------- reading one answer

# A number in canonical form, as the kommun's form stores it ("1234.5").
NUMBER_RE = re.compile(r"[+-]?\d+(?:\.\d+)?")


def number_text(text: str | None) -> str | None:
    """A number as typed in Sweden ("1 234,5", "12", "-3,25"; a point also works) in canonical form
    ("1234.5"), or None when it is not a number. The one reading of typed numbers: the form stores
    this, the tabulation reads it."""
    compact = re.sub(r"\s", "", text or "").replace("\u2212", "-").replace(",", ".")
    if not NUMBER_RE.fullmatch(compact):
        return None
    number = Decimal(compact)
    return "0" if number == 0 else format(number.normalize(), "f")


def parse_number(value: Any) -> float | None:
    """A number answer as typed ('3,5', '1 200', '−2') -> float; None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = number_text(str(value))
        if text is None:
            return None
        number = float(text)
    return number if math.isfinite(number) else None


def choices(q: Q, a: Answer | None) -> tuple[list[str], bool]:
    """The options an answer picked (one or several choice) and whether it chose "Annat, ange"."""
    if a is None:
        return [], False
    raw = a.value if isinstance(a.value, list) else ([a.value] if isinstance(a.value, str) else [])
    picked, other = [], bool((a.other_text or "").strip())
    for v in raw:
        if not isinstance(v, str) or not v.strip():
            continue
        if v in q.options:
            picked.append(v)
        elif v == OTHER or q.other_option:
            other = True  # the "Annat, ange" choice itself
        else:
            picked.append(v)  # an option no longer offered: still counted, under its own label
    return picked, other


def is_answered(q: Q, a: Answer | None) -> bool:
    if a is None:
        return False
    if q.kind in (ONE, MANY):
        picked, other = choices(q, a)
        return bool(picked) or other
    return a.value is not None and str(a.value).strip() != ""


def submitted(responses: Iterable[Response]) -> list[Response]:
    """Only submitted requests count: a saved draft is not an answer."""
    return [r for r in responses if r.submitted_at is not None]


def skipped_ids(questions: Sequence[Q], response: Response) -> set[int]:
    return skipped_by_rule(questions, {qid: a.value for qid, a in response.answers.items()})


# --------------------------------------------------------------------------- tabulation

def tabulate(questions: Iterable[Q], responses: Iterable[Response]) -> list[Table]:
    """Every question (in order) tabulated over the given responses; unsubmitted ones are not counted."""
    questions = sorted(questions, key=lambda q: q.position)
    responses = submitted(responses)
    tables = {q.id: Table(q) for q in questions}
    counts: dict[int, Counter] = defaultdict(Counter)
    numbers: dict[int, list[float]] = defaultdict(list)
    for response in responses:
        skipped = skipped_ids(questions, response)
        for q in questions:
            t = tables[q.id]
            if q.id in skipped:
                t.skipped += 1
                continue
            t.asked += 1
            a = response.answers.get(q.id)
            if a is not None and (a.comment or "").strip():
                t.comments.append(a.comment.strip())
            if not is_answered(q, a):
                continue
            t.answered += 1
            if q.kind in (ONE, MANY):
                picked, other = choices(q, a)
                counts[q.id].update(set(picked))
                if other:
                    counts[q.id][OTHER] += 1
                    if (a.other_text or "").strip():
                        t.other_texts.append(a.other_text.strip())
            elif q.kind == NUMBER:
                number = parse_number(a.value)
                if number is None:
                    t.invalid_numbers += 1
                else:
                    numbers[q.id].append(number)
            elif q.kind == TEXT:
                t.texts.append(str(a.value).strip())
    for q in questions:
        t = tables[q.id]
        if q.kind in (ONE, MANY):
            labels = list(q.options) + sorted(k for k in counts[q.id] if k not in q.options and k != OTHER)
            if q.other_option or counts[q.id][OTHER]:
                labels.append(OTHER)
            t.rows = [OptionRow(label, counts[q.id][label], share(counts[q.id][label], t.answered), label == OTHER)
                      for label in labels]
        elif q.kind == NUMBER:
            t.numbers = number_stats(numbers[q.id])
    return [tables[q.id] for q in questions]


def share(count: int, of: int) -> float | None:
    return count / of if of else None


def number_stats(values: Sequence[float]) -> NumberStats:
    if not values:
        return NumberStats(0, None, None, None, None)
    # Plain Python (no numpy: a questionnaire has some fifty answers, and the web worker stays lean). A plain
    # sum, not math.fsum: answers near the float limit add up to inf (shown as no figure), not to an error.
    xs = sorted(float(v) for v in values)
    n, mid = len(xs), len(xs) // 2
    median = xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
    return NumberStats(n, sum(xs) / n, median, xs[0], xs[-1])


@dataclass
class Breakdown:
    """One question tabulated per part (ÖJ group, län) beside the whole."""
    question: Q
    parts: list[tuple[Any, str, Table]]  # (key, label, table)
    total: Table


def breakdown(questions: Iterable[Q], responses: Iterable[Response],
              key: Callable[[Response], Hashable], label: Callable[[Response], str]) -> list[Breakdown]:
    """Per question: a table for every value of key(response) (sorted by key) and the total."""
    questions = sorted(questions, key=lambda q: q.position)
    responses = submitted(responses)
    parts: dict[Hashable, list[Response]] = defaultdict(list)
    labels: dict[Hashable, str] = {}
    for r in responses:
        parts[key(r)].append(r)
        labels[key(r)] = label(r)
    by_part = {k: tabulate(questions, rs) for k, rs in parts.items()}
    total = tabulate(questions, responses)
    return [Breakdown(q, [(k, labels[k], by_part[k][i]) for k in sorted(parts)], total[i])
            for i, q in enumerate(questions)]


# --------------------------------------------------------------------------- one kommun's answer

def answer_text(q: Q, a: Answer | None) -> str:
    """An answer as one line of text (the kommun matrix, the raw CSV): options joined with '; '."""
    if a is None:
        return ""
    if q.kind in (ONE, MANY):
        picked, other = choices(q, a)
        return "; ".join(picked + ([OTHER] if other else []))
    if q.kind == NUMBER:
        number = parse_number(a.value)
        if number is None:
            return "" if a.value is None else str(a.value).strip()
        return format_number(number)
    return "" if a.value is None else str(a.value).strip()


def format_number(x: float, digits: int = 2) -> str:
    """Swedish decimal comma, no grouping (reads as a number in Swedish Excel); trailing zeros dropped."""
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"
    return "0" if text in ("-0", "") else text.replace(".", ",")


@dataclass
class Cell:
    status: str  # "answered", "skipped" (by rule), "none" (asked, no answer)
    text: str = ""
    other_text: str = ""
    comment: str = ""


def matrix(questions: Iterable[Q], responses: Iterable[Response]) -> list[tuple[Response, list[Cell]]]:
    """Per response (sorted by län, kommun, site, round), its answer to every question in order."""
    questions = sorted(questions, key=lambda q: q.position)
    out = []
    for r in sorted(submitted(responses), key=lambda r: (r.lanskod, r.kommun, r.site, r.round)):
        skipped = skipped_ids(questions, r)
        cells = []
        for q in questions:
            a = r.answers.get(q.id)
            if q.id in skipped:
                cells.append(Cell("skipped"))
            elif is_answered(q, a):
                cells.append(Cell("answered", answer_text(q, a), (a.other_text or "").strip(),
                                  (a.comment or "").strip()))
            else:
                cells.append(Cell("none", comment=(a.comment or "").strip() if a else ""))
        out.append((r, cells))
    return out


# --------------------------------------------------------------------------- round 1 against round 2

def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def match_questions(first: Iterable[Q], second: Iterable[Q]) -> list[tuple[Q, Q]]:
    """Round 1's questions paired with round 2's: the same question, or (a copied questionnaire)
    a question of the same kind with identical text. In round 1's order."""
    second = list(second)
    by_id = {q.id: q for q in second}
    by_text = {(_norm(q.text), q.kind): q for q in second}
    pairs = []
    for q in sorted(first, key=lambda q: q.position):
        other = by_id.get(q.id) or by_text.get((_norm(q.text), q.kind))
        if other is not None:
            pairs.append((q, other))
    return pairs


@dataclass
class CompareRow:
    label: str
    first: int    # sites choosing it in round 1
    second: int   # in round 2
    share_first: float | None   # of the sites answering in round 1
    share_second: float | None
    other: bool = False


@dataclass
class Comparison:
    """One question, round 1 against round 2, over the sites that submitted both rounds."""
    first: Q
    second: Q
    sites: int            # sites with both rounds submitted: the denominator
    answered_first: int   # of those, answered in round 1 (not skipped, not blank)
    answered_second: int
    both: int             # answered in both rounds: the denominator of `changed`
    changed: int          # answered both rounds, and the answer differs
    rows: list[CompareRow] = field(default_factory=list)
    changes: list[tuple[str, str, int]] = field(default_factory=list)  # (from, to, sites), most first
    mean_first: float | None = None   # number questions: over the sites answering both rounds
    mean_second: float | None = None
    median_first: float | None = None
    median_second: float | None = None

    @property
    def unchanged(self) -> int:
        return self.both - self.changed


def pair_responses(first: Iterable[Response], second: Iterable[Response]) -> list[tuple[Response, Response]]:
    """Sites that submitted in both rounds, as (round 1, round 2), sorted like the matrix."""
    later = {r.site_id: r for r in submitted(second)}
    pairs = [(r, later[r.site_id]) for r in submitted(first) if r.site_id in later]
    return sorted(pairs, key=lambda p: (p[0].lanskod, p[0].kommun, p[0].site))


def _value_key(q: Q, a: Answer | None) -> Any:
    """What counts as 'the same answer' across rounds."""
    if q.kind in (ONE, MANY):
        picked, other = choices(q, a)
        return frozenset(picked + ([OTHER] if other else []))
    if q.kind == NUMBER:
        return parse_number(a.value if a else None)
    return _norm(str(a.value)) if a and a.value is not None else ""


def compare(first_questions: Iterable[Q], first: Iterable[Response],
            second_questions: Iterable[Q], second: Iterable[Response]) -> tuple[int, list[Comparison]]:
    """Round 1 against round 2 for the same sites: (sites with both submitted, one Comparison per
    matched question). Only sites whose requests of both rounds are submitted are counted."""
    first_questions, second_questions = list(first_questions), list(second_questions)
    pairs = pair_responses(first, second)
    skipped = [(skipped_ids(first_questions, a), skipped_ids(second_questions, b)) for a, b in pairs]
    out = []
    for q1, q2 in match_questions(first_questions, second_questions):
        answered1 = answered2 = 0
        c = Comparison(q1, q2, len(pairs), 0, 0, 0, 0)
        count1: Counter = Counter()
        count2: Counter = Counter()
        changes: Counter = Counter()
        numbers: list[tuple[float, float]] = []
        for (r1, r2), (skip1, skip2) in zip(pairs, skipped):
            a1 = None if q1.id in skip1 else r1.answers.get(q1.id)
            a2 = None if q2.id in skip2 else r2.answers.get(q2.id)
            ok1, ok2 = is_answered(q1, a1), is_answered(q2, a2)
            answered1 += ok1
            answered2 += ok2
            k1, k2 = (_value_key(q1, a1) if ok1 else None), (_value_key(q2, a2) if ok2 else None)
            if q1.kind in (ONE, MANY):
                count1.update(k1 or ())
                count2.update(k2 or ())
            if not (ok1 and ok2):
                continue
            c.both += 1
            if k1 != k2:
                c.changed += 1
                if q1.kind == ONE:
                    changes[(answer_text(q1, a1), answer_text(q2, a2))] += 1
            if q1.kind == NUMBER and k1 is not None and k2 is not None:
                numbers.append((k1, k2))
        c.answered_first, c.answered_second = answered1, answered2
        if q1.kind in (ONE, MANY):
            labels = list(q1.options) + [o for o in q2.options if o not in q1.options]
            labels += sorted(k for k in (count1 | count2) if k not in labels and k != OTHER)
            if q1.other_option or q2.other_option or count1[OTHER] or count2[OTHER]:
                labels.append(OTHER)
            c.rows = [CompareRow(label, count1[label], count2[label], share(count1[label], answered1),
                                 share(count2[label], answered2), label == OTHER) for label in labels]
            c.changes = [(f, t, n) for (f, t), n in sorted(changes.items(), key=lambda kv: (-kv[1], kv[0]))]
        if numbers:
            s1, s2 = number_stats([a for a, _ in numbers]), number_stats([b for _, b in numbers])
            c.mean_first, c.mean_second, c.median_first, c.median_second = s1.mean, s2.mean, s1.median, s2.median
        out.append(c)
    return len(pairs), out
