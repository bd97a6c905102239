"""Measurement results pages (staff only): the tabulation with its breakdowns, the answers per
visit site, round 1 against round 2, and the CSV exports. Thin: the counting is in tabulate.py,
the reading and the CSV in results.py.

Every page takes the same GET filters: omgang (1, 2), grupp (ÖJ group), lan (länskod); the
tabulation page also fordelning (grupp, lan) for a table per group or län beside the whole.
"""
from __future__ import annotations

import io
from datetime import datetime

from flask import g, render_template, request, send_file
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from ..audit import record
from ..auth import staff_required
from ..extensions import db
from ..registry.models import Lan, OjGroup
from . import bp, results_cache
from .models import MeasurementRequest, Questionnaire
from .results import TZ, answers_csv, csv_filename, load_responses, questions_of, tables_csv
from .tabulate import OTHER, breakdown, compare, match_questions, matrix, submitted, tabulate

BREAKDOWNS = ("grupp", "lan")


@bp.app_template_filter("results_pct")
def results_pct(share: float | None) -> str:
    """A share as a Swedish percentage with one decimal (33,3 %)."""
    return "–" if share is None else format_percent(share, "#,##0.0\u00a0%")


@bp.app_template_filter("results_num")
def results_num(x: float | None) -> str:
    if x is None:
        return "–"
    if abs(x) >= 1e15:  # beyond what the pattern can show (1e305 raises in babel): scientific notation
        return f"{x:.3e}"
    return format_decimal(x, "#,##0.##")


@bp.context_processor
def results_helpers():
    return {"option_label": lambda label: _("Annat, ange") if label == OTHER else label}


def _filters() -> dict:
    """The GET filters, anything unknown dropped (a hand-edited URL shows everything)."""
    omgang = request.args.get("omgang", type=int)
    grupp = request.args.get("grupp", type=int)
    lan = request.args.get("lan", "")
    fordelning = request.args.get("fordelning", "")
    return {"omgang": omgang if omgang in (1, 2) else None,
            "grupp": grupp if grupp in _group_numbers() else None,
            "lan": lan if db.session.get(Lan, lan) is not None else None,
            "fordelning": fordelning if fordelning in BREAKDOWNS else ""}


def _group_numbers() -> list[int]:
    """The ÖJ groups' numbers, read once per request (the filters check against them, the form lists them)."""
    if "results_groups" not in g:
        g.results_groups = list(db.session.scalars(select(OjGroup.number).order_by(OjGroup.number)))
    return g.results_groups


def _filtered(responses, filters):
    return [r for r in responses
            if (filters["omgang"] is None or r.round == filters["omgang"])
            and (filters["grupp"] is None or r.grupp == filters["grupp"])
            and (filters["lan"] is None or r.lanskod == filters["lan"])]


def _context(questionnaire: Questionnaire, filters: dict) -> dict:
    """What every results page shows: the questionnaire, the filters, and how many have submitted."""
    requests = _filtered(load_responses(questionnaire.id, submitted_only=False), filters)
    responses = submitted(requests)
    return {"questionnaire": questionnaire, "questions": questions_of(questionnaire), "filters": filters,
            "requests": requests, "responses": responses,
            "groups": _group_numbers(), "lans": list(db.session.scalars(select(Lan).order_by(Lan.lanskod))),
            "filter_args": {k: v for k, v in filters.items() if v}}


def _breakdown(questions, responses, how: str):
    if how == "grupp":
        return breakdown(questions, responses, lambda r: r.grupp, lambda r: _("Grupp %(n)s", n=r.grupp))
    return breakdown(questions, responses, lambda r: r.lanskod, lambda r: r.lan)


@bp.route("/matningar/<int:questionnaire_id>/resultat")
@staff_required
def results(questionnaire_id: int):
    from .weighted import method_paragraphs, min_base

    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    filters = _filters()

    def body() -> Markup:
        return Markup(render_template(
            "measurement/_results_body.html", questionnaire=questionnaire, filters=filters,
            **_figures(questionnaire, filters), groups=_group_numbers(),
            lans=list(db.session.scalars(select(Lan).order_by(Lan.lanskod))),
            filter_args={k: v for k, v in filters.items() if v}, method=method_paragraphs(),
            # Formatted here, not in the template: a translated template string is not escaped, and this one
            # has a "<".
            too_few=_("För få svar (n < %(n)s) för en riksskattning", n=min_base())))

    # The tabulation and the national figures laid out: the page's whole cost, kept while the data is unchanged
    # (the same for every staff user: nothing in it depends on who asks).
    key = ("results", questionnaire.id, tuple(sorted(filters.items())), min_base())
    return render_template("measurement/results.html", questionnaire=questionnaire, body=results_cache.get(key, body))


def _figures(questionnaire: Questionnaire, filters: dict) -> dict:
    """What the results page computes from the answers: the counts, a table per question (and per ÖJ group or
    län when asked for), and the design-weighted national figures (weighted.py), shown when the page is not
    narrowed to a group or a län: a group's or län's cell stays unweighted."""
    from .weighted import national_estimates

    everything = load_responses(questionnaire.id, submitted_only=False)
    requests = _filtered(everything, filters)
    responses = submitted(requests)
    questions = questions_of(questionnaire)
    how = filters["fordelning"]
    out = {"questions": questions, "request_count": len(requests), "submitted_count": len(responses),
           "tables": tabulate(questions, responses),
           "breakdowns": _breakdown(questions, responses, how) if how else None,
           "national": None, "national_sites": 0, "no_weights": False}
    if filters["grupp"] is None and filters["lan"] is None:
        result = national_estimates(questionnaire.id, filters["omgang"], responses=everything)
        out["national_sites"] = result["sites"]
        if result["sites"] or not responses:
            out["national"] = {q["question_id"]: q for q in result["questions"]}
        else:  # answers, but none from a kommun with a design π (a hand-picked sample)
            out["no_weights"] = True
    return out


@bp.route("/matningar/<int:questionnaire_id>/resultat/besoksplatser")
@staff_required
def results_sites(questionnaire_id: int):
    ctx = _context(db.get_or_404(Questionnaire, questionnaire_id), _filters())
    ctx["rows"] = matrix(ctx["questions"], ctx["responses"])
    return render_template("measurement/results_sites.html", **ctx)


def _round_two_candidates() -> list[tuple[Questionnaire, int]]:
    """Questionnaires with submitted round-2 answers, and how many."""
    stmt = (select(MeasurementRequest.questionnaire_id, func.count())
            .where(MeasurementRequest.round == 2, MeasurementRequest.submitted_at.isnot(None))
            .group_by(MeasurementRequest.questionnaire_id))
    return sorted(((db.session.get(Questionnaire, qid), n) for qid, n in db.session.execute(stmt)),
                  key=lambda c: (c[0].name, c[0].id))


@bp.route("/matningar/<int:questionnaire_id>/jamforelse")
@staff_required
def results_compare(questionnaire_id: int):
    """Round 1 of this questionnaire against round 2 of itself or (a copy) of another one."""
    questionnaire = db.get_or_404(Questionnaire, questionnaire_id)
    filters = _filters()
    filters["omgang"] = None  # both rounds, by definition
    first = [r for r in _filtered(load_responses(questionnaire.id), filters) if r.round == 1]
    candidates = _round_two_candidates()
    chosen = request.args.get("med", type=int)
    later = None
    if chosen is not None:
        later = next((q for q, _n in candidates if q.id == chosen), None)
    if later is None and candidates:
        # The questionnaire itself when round 2 used it, else the one most of round 1's sites answered.
        sites = {r.site_id for r in first}
        later = max(candidates, key=lambda c: (c[0].id == questionnaire.id, sum(
            r.site_id in sites for r in load_responses(c[0].id) if r.round == 2)))[0]
    ctx = _context(questionnaire, filters)
    ctx.update(candidates=candidates, later=later, first=first, comparisons=[], pairs=0, unmatched=[])
    if later is not None:
        second_questions = questions_of(later)
        second = [r for r in _filtered(load_responses(later.id), filters) if r.round == 2]
        ctx["pairs"], ctx["comparisons"] = compare(ctx["questions"], first, second_questions, second)
        matched = {q2.id for _q1, q2 in match_questions(ctx["questions"], second_questions)}
        ctx["unmatched"] = [q for q in second_questions if q.id not in matched]
        ctx["second"] = second
    return render_template("measurement/results_compare.html", **ctx)


def _send_csv(questionnaire: Questionnaire, what: str, data: bytes, rows: int, filters: dict):
    record("measurement.exported", questionnaire, export=what, rows=rows,
           filters={k: v for k, v in filters.items() if v})
    db.session.commit()
    today = datetime.now(TZ).date()
    return send_file(io.BytesIO(data), mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=csv_filename(questionnaire, what, today), max_age=0)


@bp.route("/matningar/<int:questionnaire_id>/resultat/svar.csv")
@staff_required
def results_answers_csv(questionnaire_id: int):
    """Raw answers: one row per submitted request × question (respects the filters)."""
    ctx = _context(db.get_or_404(Questionnaire, questionnaire_id), _filters())
    data, rows = answers_csv(ctx["questions"], ctx["responses"])
    return _send_csv(ctx["questionnaire"], "svar", data, rows, ctx["filters"])


@bp.route("/matningar/<int:questionnaire_id>/resultat/tabell.csv")
@staff_required
def results_table_csv(questionnaire_id: int):
    """The tabulation as on the page: the whole, and per group or län when a breakdown is chosen."""
    ctx = _context(db.get_or_404(Questionnaire, questionnaire_id), _filters())
    questions, responses, how = ctx["questions"], ctx["responses"], ctx["filters"]["fordelning"]
    whole = _("Samtliga")
    if how:
        items = _breakdown(questions, responses, how)
        labels = [label for _key, label, _t in items[0].parts] if items else []
        parts = [(label, [b.parts[i][2] for b in items]) for i, label in enumerate(labels)]
        parts.append((whole, [b.total for b in items]))
    else:
        parts = [(whole, tabulate(questions, responses))]
    heading = {"grupp": _("ÖJ-grupp"), "lan": _("Län")}.get(how, _("Omfattning"))
    data, rows = tables_csv(parts, heading)
    return _send_csv(ctx["questionnaire"], "tabell", data, rows, ctx["filters"])
