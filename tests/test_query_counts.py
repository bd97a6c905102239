"""SQL statements per page do not grow with the data.

Each list page is read as a logged-in staff user on `coordinator demo`'s data and on ten times that data
(`coordinator demo --scale 10`: ten teams, 500 sites, 1 000 visits), and the statements it sends are counted
with an event listener on the engine. A page that reads its related rows one at a time (a visit's site, a
site's kommun, a kommun's län, a note's passages …) sends more statements on the larger data; a page that
loads them eagerly, or reads its reference data once, sends the same number. Each page is read once before it
is counted, so what a process caches (the first read of the settings, say) is not counted.

Each size is built once per module and backend (the ten-times build is the module's big cost).
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import event, select

from coordinator.extensions import db

from .conftest import USERS, Client, _reset, demo_data

REPORT_PERIOD = "2016Q3"  # the last quarter before the demo's day (2016-10-31): visits, notes and plans in it


@dataclass(frozen=True)
class Page:
    name: str
    url: str  # formatted with the ids of the data set: sample, site, questionnaire
    # Statements allowed on top at ten times the data. Only where a page shows a page of rows (paging) and the
    # larger data fills more of it with rows whose related objects are read per shown row's kind; 0 elsewhere.
    slack: int = 0


PAGES = [
    Page("start page (overview)", "/"),
    Page("visits: what is due", "/besok/"),
    Page("visits list", "/besok/lista"),
    Page("visits calendar", "/besok/kalender"),
    Page("visits map, round 1", "/besok/karta?omgang=1"),
    Page("visits map, round 2", "/besok/karta?omgang=2"),
    Page("dialogue index", "/dialog/"),
    Page("theme overview", "/dialog/oversikt"),
    Page("search", "/dialog/sok?q=barn"),
    Page("action plans", "/handlingsplaner"),
    Page("measurement", "/matningar/"),
    Page("measurement results", "/matningar/{questionnaire}/resultat"),
    Page("contacts", "/kontakter"),
    Page("samples", "/urval/"),
    Page("the sample", "/urval/{sample}"),
    Page("the sample's protocol", "/urval/{sample}/protokoll"),
    Page("quarterly report draft", f"/rapporter/{REPORT_PERIOD}/"),
    Page("sites", "/platser/"),
    Page("site page", "/platser/{site}/"),
    Page("registry", "/register/"),
]


def _ids(app) -> dict[str, int]:
    from coordinator.measurement.models import Questionnaire
    from coordinator.sampling.models import Site
    from coordinator.sampling.service import adopted_sample

    with app.app_context():
        sample = adopted_sample()
        assert sample is not None, "the demo has an adopted sample"
        # The first site of the sample: a base site, with the same visits, notes and plan at both sizes.
        site = db.session.scalar(select(Site.id).where(Site.sample_id == sample.id).order_by(Site.position))
        questionnaire = db.session.scalar(select(Questionnaire.id).order_by(Questionnaire.id))
        return {"sample": sample.id, "site": site, "questionnaire": questionnaire}


def _count(app, client: Client, url: str) -> int:
    statements: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    warm = client.get(url)
    assert warm.status_code == 200, f"{url}: {warm.status_code}"
    event.listen(engine, "before_cursor_execute", listen)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return len(statements)


def _measure(app, args: list[str]) -> dict[str, int]:
    demo_data(app, args)  # the demo of this size, built once per backend and worker (restored if it was)
    ids = _ids(app)
    client = Client(app, USERS["staff"])
    return {page.name: _count(app, client, page.url.format(**ids)) for page in PAGES}


@pytest.fixture(scope="module")
def counts(backend_app):
    """Statements per page at the demo's size and at ten times it: {"1": {page: n}, "10": {page: n}}."""
    app = backend_app
    try:
        yield {"1": _measure(app, ["demo", "--json"]), "10": _measure(app, ["demo", "--scale", "10", "--json"])}
    finally:
        _reset(app)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_statements_do_not_grow_with_the_data(counts, page):
    small, large = counts["1"][page.name], counts["10"][page.name]
    assert small <= large <= small + page.slack, (
        f"{page.name} ({page.url}): {small} SQL statements on the demo's data, {large} on ten times the data"
        + (f" (at most {page.slack} more allowed: the page shows a page of rows)" if page.slack else ""))
