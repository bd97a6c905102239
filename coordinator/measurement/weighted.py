"""Design-weighted national figures of a questionnaire: the weights of the sites and the estimates.

Plain words
-----------
*Which answers speak for the country.* One answer per kommun: the kommun's own site. A big city's
central administration answers for the city; its districts are reported separately and are not
part of the national figure (they would count the city two or three times).

*Weights.* Each kommun-site weighs 1/π, π being the design's inclusion probability of the kommun
as stored with the sample (SampleKommun.pi). A replacement that came in after a decline inherits
the weight of the site it replaced (substitution): it stands for the same part of the country as
the kommun that was drawn. A hand-picked sample has no π, so it has no weighted figures.

*Which round.* With ``round`` given, that round's answers. Without it, every site's latest
submitted answers (a kommun is never counted twice).

*The figures* come from estimate.py (Hájek share or mean, local neighbourhood variance, 95 %
interval); shares are fractions 0..1. A figure resting on fewer answers than the setting
ESTIMATE_MIN_BASE (default 5) is suppressed: ``suppressed`` is true and the figures are None.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select

from ..extensions import db
from ..i18n import _
from ..sampling import design
from ..sampling.models import SampleKommun, Site
from . import estimate
from .models import MANY, NUMBER, ONE, Questionnaire
from .results import load_responses, local_date, questions_of
from .tabulate import OTHER, Response, choices, is_answered, parse_number, skipped_ids, tabulate


class UnknownQuestionnaire(LookupError):
    """No questionnaire with that id."""


def min_base() -> int:
    if has_app_context():
        return int(current_app.config.get("ESTIMATE_MIN_BASE", estimate.DEFAULT_MIN_BASE))
    return estimate.DEFAULT_MIN_BASE


def _root(site, by_id: dict):
    """The site as drawn: follow the chain of replacements back to the start."""
    seen = {site.id}
    while site.replaces_id is not None and site.replaces_id in by_id and site.replaces_id not in seen:
        site = by_id[site.replaces_id]
        seen.add(site.id)
    return site


def design_units(sample_ids: Iterable[int] | None = None) -> dict[int, tuple[float, estimate.Unit]]:
    """{site_id: (weight 1/π, estimate.Unit)} for every kommun-site (not districts) with a design π.

    A replacement gets the π and design group of the site it replaced, and its own position."""
    # Plain rows of the few columns used, not ORM objects: a sample has 500 sites at ten times the demo.
    columns = (Site.id, Site.sample_id, Site.kommunkod, Site.enhet, Site.grupp, Site.replaces_id)
    stmt = select(*columns).where(Site.enhet == "")
    if sample_ids is not None:
        stmt = stmt.where(Site.sample_id.in_(list(sample_ids)))
    sites = db.session.execute(stmt).all()
    if not sites:
        return {}
    sample_ids = {s.sample_id for s in sites}
    pis = {(sample_id, kommunkod): pi for sample_id, kommunkod, pi in db.session.execute(
        select(SampleKommun.sample_id, SampleKommun.kommunkod, SampleKommun.pi)
        .where(SampleKommun.sample_id.in_(sample_ids)))}
    all_sites = {s.id: s for s in db.session.execute(select(*columns).where(Site.sample_id.in_(sample_ids)))}
    from ..registry.models import Kommun
    codes = {s.kommunkod for s in all_sites.values()}
    pos = {kod: (lat, lon) for kod, lat, lon in db.session.execute(
        select(Kommun.kommunkod, Kommun.lat, Kommun.lon).where(Kommun.kommunkod.in_(codes)))}
    out: dict[int, tuple[float, estimate.Unit]] = {}
    for s in sites:
        root = _root(s, all_sites)
        pi = pis.get((root.sample_id, root.kommunkod))
        if pi is None or not pi > 0:
            continue
        lat, lon = pos.get(s.kommunkod, (0.0, 0.0))
        out[s.id] = (1.0 / pi, estimate.Unit(pi=min(float(pi), 1.0), group=root.grupp,
                                             x=(lon or 0.0) * design.KM_PER_DEG_LON,
                                             y=(lat or 0.0) * design.KM_PER_DEG_LAT))
    return out


def site_weights(sample_id: int | None = None) -> dict[int, float]:
    """{site_id: 1/π} of the kommun-sites of a sample (default: the adopted one); replacements inherit."""
    if sample_id is None:
        from ..sampling.service import adopted_sample
        sample = adopted_sample()
        if sample is None:
            return {}
        sample_id = sample.id
    return {sid: w for sid, (w, _unit) in design_units([sample_id]).items()}


def method_paragraphs() -> list[str]:
    """The method in plain words, for the results page, the report's appendix and the JSON."""
    return [
        _("Riksskattningarna väger varje besökt kommun med 1/π, där π är kommunens sannolikhet att komma med i "
          "urvalet enligt urvalsdesignen. En kommun som var säker på att komma med (de största städerna) står "
          "bara för sig själv; en kommun i en stor grupp står för flera kommuner som inte besöktes."),
        _("En ersättare som kom in efter att en kommun tackat nej ärver vikten från den kommun den ersatte. "
          "Storstädernas stadsdelar redovisas för sig: stadens centrala förvaltning svarar för kommunen."),
        _("Andelen (eller medelvärdet) för landet räknas som den vägda summan av svaren delad med summan av "
          "vikterna för de kommuner som besvarat frågan (Hájeks skattare). Kommuner som inte svarat räknas inte."),
        _("Osäkerheten räknas med den lokala grannskapsskattaren för spridda urval (Stevens och Olsen 2003, som i "
          "Grafströms BalancedSampling): varje kommun jämförs med sina närmaste urvalsgrannar i samma "
          "ÖJ-grupp. Intervallet är ett 95-procentigt konfidensintervall. En simulering över 2014 års "
          "kommuner har visat att det träffar rätt värde i ungefär 95 av 100 urval."),
        _("Bygger en siffra på färre än %(n)s svar visas ingen riksskattning. Uppdelningar per ÖJ-grupp och per "
          "län är ovägda: de visar de besökta platsernas egna svar.", n=min_base()),
    ]


def _latest_per_site(responses: list[Response], rnd: int | None) -> list[Response]:
    if rnd is not None:
        return [r for r in responses if r.round == rnd]
    best: dict[int, Response] = {}
    for r in responses:
        if r.site_id not in best or (r.round, r.submitted_at) > (best[r.site_id].round, best[r.site_id].submitted_at):
            best[r.site_id] = r
    return list(best.values())


def _est(values: list[float], units: list[estimate.Unit], share: bool, base: int) -> estimate.Estimate:
    return estimate.hajek(values, units, share=share, min_base=base)


def national_estimates(questionnaire_id: int, round: int | None = None, *,  # noqa: A002 (the CLI's word)
                       until: date | None = None, responses: list[Response] | None = None) -> dict[str, Any]:
    """The weighted national figures of every question (see the module docstring), shaped like the CLI's JSON.

    ``until``: only answers submitted on or before that day (the office's calendar), for a report.
    ``responses``: the questionnaire's submitted responses (load_responses), when the caller has read them."""
    questionnaire = db.session.get(Questionnaire, questionnaire_id) if 0 < questionnaire_id < 2**63 else None
    if questionnaire is None:
        raise UnknownQuestionnaire(questionnaire_id)
    base = min_base()
    questions = questions_of(questionnaire)
    if responses is None:
        responses = load_responses(questionnaire_id)
    else:
        responses = [r for r in responses if r.questionnaire_id == questionnaire_id and r.submitted_at is not None]
    if until is not None:
        responses = [r for r in responses if local_date(r.submitted_at) <= until]
    responses = _latest_per_site(responses, round)
    sample_ids = set(db.session.scalars(select(Site.sample_id).where(Site.id.in_({r.site_id for r in responses}))))
    units = design_units(sample_ids) if sample_ids else {}
    kommun_responses = [r for r in responses if r.site_id in units]
    tables = {t.question.id: t for t in tabulate(questions, kommun_responses)}
    out = []
    for q in sorted(questions, key=lambda q: q.position):
        asked = [r for r in kommun_responses if q.id not in skipped_ids(questions, r)]
        answered = [r for r in asked if is_answered(q, r.answers.get(q.id))]
        item: dict[str, Any] = {"question_id": q.id, "position": q.position, "text": q.text, "kind": q.kind,
                                "answered": len(answered), "options": []}
        if q.kind in (ONE, MANY):
            picks = {r.request_id: choices(q, r.answers.get(q.id)) for r in answered}
            u = [units[r.site_id][1] for r in answered]
            for row in tables[q.id].rows:
                ys = [1.0 if (row.label == OTHER and picks[r.request_id][1])
                      or (row.label != OTHER and row.label in picks[r.request_id][0]) else 0.0 for r in answered]
                e = _est(ys, u, True, base)
                item["options"].append({
                    "label": row.label, "answered": len(answered), "count": int(sum(ys)),
                    "unweighted_share": None if e.suppressed else estimate.unweighted(ys),
                    "weighted_share": e.value, "ci95": e.ci95, "suppressed": e.suppressed})
        elif q.kind == NUMBER:
            pairs = [(parse_number(r.answers[q.id].value), units[r.site_id][1]) for r in answered]
            pairs = [(v, unit) for v, unit in pairs if v is not None]
            e = _est([v for v, _u in pairs], [unit for _v, unit in pairs], False, base)
            item.update({"n": len(pairs), "unweighted_mean": None if e.suppressed else
                         estimate.unweighted([v for v, _u in pairs]),
                         "weighted_mean": e.value, "ci95": e.ci95, "suppressed": e.suppressed})
        out.append(item)
    return {"questionnaire_id": questionnaire.id, "questionnaire": questionnaire.name, "round": round,
            "until": until.isoformat() if until else None, "min_base": base,
            "sites": len(kommun_responses), "questions": out, "method": " ".join(method_paragraphs())}
