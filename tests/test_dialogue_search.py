"""The dialogue's codebook, questions, search and overview pages.

Every test runs on SQLite and PostgreSQL (the `app` fixture). Data is made directly with the
models: an adopted sample (through the CLI, as in test_visits.py), its 100 visits from
`ensure_visits()`, then notes and passages.
"""
from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import event, select

from coordinator.audit import AuditEvent
from coordinator.dialogue import search as search_service
from coordinator.dialogue.models import FLAGS, DialogueQuestion, Note, Passage, PassageTheme, Theme, ThemeCategory
from coordinator.extensions import db
from coordinator.sampling.models import Sample
from coordinator.scheduling import service as visit_service
from coordinator.scheduling.models import Visit

# --------------------------------------------------------------------------- helpers


def text(response) -> str:
    """Page text with tags removed and spaces made plain."""
    html = response.get_data(as_text=True)
    plain = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"[\s\u00a0\u202f]+", " ", plain)


@pytest.fixture
def visits(app):
    """An adopted sample (CLI) and its visits: {visit id: (group, round, lanskod, site label)}."""
    runner = app.test_cli_runner()
    drawn = runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json"])
    assert drawn.exit_code == 0, drawn.output
    sample_id = json.loads(drawn.output)["id"]
    adopted = runner.invoke(args=["sample", "adopt", str(sample_id), "--json"])
    assert adopted.exit_code == 0, adopted.output
    with app.app_context():
        visit_service.ensure_visits()
        db.session.commit()
        assert db.session.get(Sample, sample_id).adopted
        rows = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        return {v.id: (v.site.grupp, v.round, v.site.kommun.lanskod, v.site.label) for v in rows}


def theme_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Theme.id).where(Theme.name == name))


def add_passages(app, visit_id: int, *passages: dict) -> list[int]:
    """Passages on the visit's note (made if missing): dicts of text, section, themes (ids), flags."""
    with app.app_context():
        note = db.session.scalar(select(Note).where(Note.visit_id == visit_id))
        if note is None:
            note = Note(visit_id=visit_id)
            db.session.add(note)
            db.session.flush()
        made = []
        start = len(note.passages)
        for i, spec in enumerate(passages):
            themes = [db.session.get(Theme, t) for t in spec.get("themes", ())]
            p = Passage(note_id=note.id, section=spec.get("section", "fraga-1"), position=start + i,
                        text=spec["text"], quote_reason=spec.get("quote_reason"),
                        attribution_cleared=spec.get("attribution_cleared", False), themes=themes,
                        **{f: f in spec.get("flags", ()) for f in FLAGS})
            db.session.add(p)
            made.append(p)
        db.session.commit()
        return [p.id for p in made]


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events


def hit_ids(app, q: str = "", **filters) -> set[int]:
    with app.test_request_context():
        result = search_service.search(q, search_service.Filters(**filters), per_page=1000)
        return {h.passage.id for h in result.hits}


def visit_where(visits, **want) -> list[int]:
    keys = ("grupp", "omgang", "lan")
    return [vid for vid, info in visits.items() if all(info[keys.index(k)] == v for k, v in want.items())]


# --------------------------------------------------------------------------- codebook

def test_codebook_lists_the_shipped_themes_with_counts(app, staff, visits):
    vid = next(iter(visits))
    brist = theme_id(app, "Brist på familjehem")
    add_passages(app, vid, {"text": "Det råder brist på familjehem.", "themes": [brist]},
                 {"text": "Familjehemmen räcker inte.", "themes": [brist]})
    page = staff.get("/dialog/teman")
    assert page.status_code == 200
    body = text(page)
    assert "Myndighetsutövning" in body and "Välfärdsteknik" in body
    html = page.get_data(as_text=True)
    assert re.search(rf'href="/dialog/sok\?tema={brist}"[^>]*>2</a>', html)


def test_staff_add_rename_retire_and_reactivate_themes_and_categories(app, staff):
    r = staff.post("/dialog/teman/kategori", {"category_name": "  Ekonomi   och  resurser "})
    assert r.status_code == 302
    with app.app_context():
        category = db.session.scalar(select(ThemeCategory).where(ThemeCategory.name == "Ekonomi och resurser"))
        assert category is not None and not category.retired
        cid = category.id
    # A name already taken (case folded, also å/ä/ö) is refused and nothing is added.
    r = staff.post("/dialog/teman/kategori", {"category_name": "EKONOMI OCH RESURSER"})
    assert r.status_code == 409 and "finns redan en kategori" in text(r)
    r = staff.post("/dialog/teman/nytt", {"category": str(cid), "theme_name": "Kostnader för placeringar"})
    assert r.status_code == 302
    tid = theme_id(app, "Kostnader för placeringar")
    r = staff.post("/dialog/teman/nytt", {"category": str(cid), "theme_name": "kostnader FÖR placeringar"})
    assert r.status_code == 409
    r = staff.post("/dialog/teman/nytt", {"category": str(cid), "theme_name": ""})
    assert r.status_code == 400 and "Ange ett namn på temat" in text(r)

    r = staff.post(f"/dialog/teman/{tid}", {"category": str(cid),
                                            "theme_name": "Kostnader för placeringar utanför hemmet"})
    assert r.status_code == 302
    r = staff.post(f"/dialog/teman/kategori/{cid}", {"category_name": "Ekonomi"})
    assert r.status_code == 302
    assert staff.post(f"/dialog/teman/{tid}/status", {"retired": "1"}).status_code == 302
    with app.app_context():
        theme = db.session.get(Theme, tid)
        assert theme.name == "Kostnader för placeringar utanför hemmet" and theme.retired
        assert theme.category.name == "Ekonomi"
        from coordinator.dialogue.codebook import active_themes
        assert tid not in {t.id for t in active_themes()}
    assert "Inaktivt" in text(staff.get(f"/dialog/teman/{tid}"))
    assert staff.post(f"/dialog/teman/{tid}/status", {"retired": "0"}).status_code == 302
    assert staff.post(f"/dialog/teman/kategori/{cid}/status", {"retired": "1"}).status_code == 302
    with app.app_context():
        assert not db.session.get(Theme, tid).retired
        assert db.session.get(ThemeCategory, cid).retired
    # No new theme in an inactive category.
    r = staff.post("/dialog/teman/nytt", {"category": str(cid), "theme_name": "Något nytt"})
    assert r.status_code == 400

    assert [e.details["name"] for e in audit(app, "theme_category.created")] == ["Ekonomi och resurser"]
    assert audit(app, "theme.created")[0].object_id == str(tid)
    assert audit(app, "theme.updated")[0].details["new"] == "Kostnader för placeringar utanför hemmet"
    assert audit(app, "theme_category.renamed")[0].details == {"old": "Ekonomi och resurser", "new": "Ekonomi"}
    assert len(audit(app, "theme.retired")) == 1 and len(audit(app, "theme.reactivated")) == 1
    assert len(audit(app, "theme_category.retired")) == 1


def test_merge_retags_without_duplicates_after_a_confirmation(app, staff, visits):
    ids = list(visits)
    a = theme_id(app, "Personalrörlighet och rekrytering")
    b = theme_id(app, "Introduktion av nyanställda")
    other = theme_id(app, "Välfärdsteknik")
    only_a = add_passages(app, ids[0], {"text": "Svårt att rekrytera socialsekreterare.", "themes": [a]},
                          {"text": "Hög omsättning av personal.", "themes": [a, other]})
    both = add_passages(app, ids[1], {"text": "Nyanställda slutar snabbt.", "themes": [a, b]})
    only_b = add_passages(app, ids[2], {"text": "Introduktionsprogram finns.", "themes": [b]})

    # The first step only shows what would happen.
    r = staff.post(f"/dialog/teman/{a}/sla-ihop", {"target": str(b)})
    assert r.status_code == 200
    body = text(r)
    assert "3 passager från 2 besök" in body and "1 av dem har redan båda temana" in body
    with app.app_context():
        assert db.session.get(Theme, a).merged_into_id is None
    assert not audit(app, "theme.merged")

    r = staff.post(f"/dialog/teman/{a}/sla-ihop", {"target": str(b), "confirmed": "1"})
    assert r.status_code == 302
    with app.app_context():
        source = db.session.get(Theme, a)
        assert source.retired and source.merged_into_id == b
        rows = db.session.execute(select(PassageTheme.passage_id, PassageTheme.theme_id)).all()
        assert not [r for r in rows if r.theme_id == a]
        tagged_b = [r.passage_id for r in rows if r.theme_id == b]
        assert sorted(tagged_b) == sorted(only_a + both + only_b)  # each once: no duplicate tag
        assert {r.passage_id for r in rows if r.theme_id == other} == {only_a[1]}
        from coordinator.dialogue.codebook import resolve_theme_ids, usage
        assert usage()[b] == (4, 3) and a not in usage()
        assert resolve_theme_ids([a, b, other]) == [b, other]
    event_ = audit(app, "theme.merged")[0]
    assert event_.object_id == str(a)
    assert event_.details == {"into": b, "passages": 3, "retagged": 2, "already_tagged": 1, "plan_goals": 0,
                              "earlier_merges": 0}
    page = staff.get("/dialog/teman").get_data(as_text=True)
    assert re.search(rf'href="/dialog/sok\?tema={b}"[^>]*>4</a>', page)
    assert "Sammanslaget med Introduktion av nyanställda" in unescape(page)

    # A merged theme cannot be merged again, reactivated, or chosen as a target.
    r = staff.post(f"/dialog/teman/{a}/sla-ihop", {"target": str(other), "confirmed": "1"}, follow_redirects=True)
    assert "redan sammanslaget" in text(r)
    r = staff.post(f"/dialog/teman/{a}/status", {"retired": "0"}, follow_redirects=True)
    assert "kan inte göras aktivt igen" in text(r)
    r = staff.post(f"/dialog/teman/{other}/sla-ihop", {"target": str(a)})
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get(Theme, a).merged_into_id == b


# --------------------------------------------------------------------------- questions

def test_admin_edits_and_deactivates_a_question_staff_only_reads(app, admin, staff, reader):
    with app.app_context():
        q = db.session.scalar(select(DialogueQuestion).where(DialogueQuestion.nr == 3))
        qid = q.id
    assert staff.get("/dialog/fragor").status_code == 200
    assert "Ändra" not in text(staff.get("/dialog/fragor"))
    assert staff.get(f"/dialog/fragor/{qid}").status_code == 403
    assert staff.post(f"/dialog/fragor/{qid}", {"fraga": "x"}).status_code == 403
    assert reader.get("/dialog/fragor").status_code == 403

    html = admin.get(f"/dialog/fragor/{qid}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', html).group(1)
    data = {"fraga": "Hur använder ni digitala verktyg?", "lagrum": "3 kap. 3 § SoL",
            "kravtext": "Insatserna ska vara av god kvalitet.", "fingerprint": fingerprint}
    assert admin.post(f"/dialog/fragor/{qid}", data).status_code == 302
    # The same, stale form again (active unticked = deactivate) is refused: no lost update.
    r = admin.post(f"/dialog/fragor/{qid}", {**data, "fraga": "Något annat"})
    assert r.status_code == 409 and "har ändrats av någon annan" in text(r)
    with app.app_context():
        q = db.session.get(DialogueQuestion, qid)
        assert q.fraga == "Hur använder ni digitala verktyg?" and not q.active
    assert audit(app, "dialogue_question.updated")[0].details == {"nr": 3, "fields": ["kravtext", "fraga", "active"]}
    r = admin.post("/dialog/fragor/ny", {"fraga": "Hur når ni barnen?", "lagrum": "1 kap. 2 § SoL",
                                         "kravtext": "Barnets bästa.", "active": "y"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(DialogueQuestion.nr).where(DialogueQuestion.fraga == "Hur når ni barnen?")) == 8


# --------------------------------------------------------------------------- search

INFLECTED = {
    "familjehem": "Kommunen har svårt att hitta familjehemmen som behövs.",
    "placering": "Antalet placeringar har ökat kraftigt.",
    "barn": "Barnens röst ska höras i utredningen.",
}


def test_inflected_swedish_words_are_found(app, staff, visits):
    """On PostgreSQL by the Swedish stemmer (plus prefixes), on SQLite by prefix queries."""
    vid = next(iter(visits))
    ids = dict(zip(INFLECTED, add_passages(app, vid, *({"text": t} for t in INFLECTED.values()))))
    add_passages(app, vid, {"text": "Här står ingenting om det."})
    for word, pid in ids.items():
        assert pid in hit_ids(app, word), word
    r = staff.get("/dialog/sok", query_string={"q": "familjehem"})
    assert r.status_code == 200
    assert "<mark>familjehemmen</mark>" in r.get_data(as_text=True)
    assert "Visar 1–1 av 1 passage." in text(r)
    # Several words: all must be present.
    assert hit_ids(app, "barn utredning") == {ids["barn"]}
    assert hit_ids(app, "barn placering") == set()


def test_words_are_found_by_another_inflection_than_the_text_has(app, visits, backend):
    """Not a prefix of the text's word: PostgreSQL finds it by the Swedish stem, SQLite by stripping
    common endings into a prefix query. Phrases and exclusions are PostgreSQL's websearch syntax."""
    vid = next(iter(visits))
    placeringar, barnen, hem = add_passages(app, vid, {"text": "Placeringar i familjehem ökar."},
                                            {"text": "Barnen kom till tals."},
                                            {"text": "Familjehemmen behöver mer stöd."})
    assert placeringar in hit_ids(app, "placeringen")
    assert barnen in hit_ids(app, "barnens")
    assert hem in hit_ids(app, "familjehem")
    if backend == "postgresql":
        # websearch syntax: a phrase in quotes, minus to exclude.
        assert hit_ids(app, '"familjehem ökar"') == {placeringar} and hit_ids(app, '"ökar familjehem"') == set()
        assert placeringar in hit_ids(app, "familjehem -barnen")
        assert hit_ids(app, "placeringar -familjehem") == set()


def test_search_uses_the_full_text_index(app, visits, backend):
    """PostgreSQL: the GIN index on to_tsvector('swedish', text); SQLite: the FTS5 table."""
    vid = next(iter(visits))
    add_passages(app, vid, {"text": "Familjehemmen behöver mer stöd."})
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "passage" in statement and ("@@" in statement or "MATCH" in statement):
            statements.append((statement, parameters))

    with app.test_request_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            search_service.search("familjehem", search_service.Filters())
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert statements, "the search ran no full-text query"
        statement, parameters = statements[0]
        with engine.connect() as conn:
            if backend == "postgresql":
                assert "to_tsvector('swedish', passage.text)" in statement
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "ix_passage_fts" in plan, plan
            else:
                assert "passage_fts MATCH" in statement
                plan = "\n".join(str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                assert "VIRTUAL TABLE INDEX" in plan, plan


def test_filters_by_theme_group_lan_round_and_flag(app, staff, visits):
    rng = random.Random(4)
    themes = [theme_id(app, n) for n in ("Brist på familjehem", "Välfärdsteknik", "Systematisk uppföljning")]
    expected = []  # (passage id, theme ids, group, round, lan, flags)
    for vid, (grupp, omgang, lan, _label) in list(visits.items())[::3]:
        specs = []
        for _ in range(3):
            chosen = rng.sample(themes, rng.randint(0, 2))
            flags = [f for f in ("gott_exempel", "hinder") if rng.random() < 0.4]
            specs.append({"text": f"Samtal om stöd till barn i omgång {omgang}.", "themes": chosen, "flags": flags})
        for pid, spec in zip(add_passages(app, vid, *specs), specs):
            expected.append((pid, set(spec["themes"]), grupp, omgang, lan, set(spec["flags"])))
    some_lan = expected[0][4]
    cases = [
        ({"tema": themes[0]}, lambda e: themes[0] in e[1]),
        ({"grupp": 2}, lambda e: e[2] == 2),
        ({"lan": some_lan}, lambda e: e[4] == some_lan),
        ({"omgang": 2}, lambda e: e[3] == 2),
        ({"flagga": "hinder"}, lambda e: "hinder" in e[5]),
        ({"tema": themes[1], "omgang": 1, "flagga": "gott_exempel"},
         lambda e: themes[1] in e[1] and e[3] == 1 and "gott_exempel" in e[5]),
    ]
    for filters, keep in cases:
        want = {e[0] for e in expected if keep(e)}
        assert want, filters
        assert hit_ids(app, **filters) == want, filters
        assert hit_ids(app, "barn", **filters) == want, filters  # the same with words
        assert hit_ids(app, "familjehem", **filters) == set()
    # Through the page: the count and the filters kept in the form.
    r = staff.get("/dialog/sok", query_string={"grupp": "2", "omgang": "1"})
    want = len([e for e in expected if e[2] == 2 and e[3] == 1])
    assert f"av {want} passage" in text(r)
    assert re.search(r'<option value="2"\s+selected>Grupp 2</option>', r.get_data(as_text=True))
    # Malformed filters are ignored, not errors.
    assert staff.get("/dialog/sok", query_string={"grupp": "x", "lan": "'; --", "omgang": "9",
                                                  "flagga": "nope", "tema": "1e9"}).status_code == 200


def test_search_pages_list_every_match_once_best_first(app, visits, monkeypatch):
    """Also when there are more matches than PostgreSQL ranks with ts_rank (RANK_CANDIDATES)."""
    monkeypatch.setattr(search_service, "RANK_CANDIDATES", 3)
    vid = next(iter(visits))
    texts = [("Barn " * n + "och annat.").strip() for n in range(1, 10)]
    ids = add_passages(app, vid, *({"text": t} for t in texts), {"text": "Inget om det här."})
    with app.test_request_context():
        pages = [search_service.search("barn", search_service.Filters(), page=n, per_page=4) for n in (1, 2, 3)]
        listed = [h.passage.id for r in pages for h in r.hits]
        assert {r.total for r in pages} == {9}
        assert sorted(listed) == sorted(ids[:9])  # every match once, across the pages
        assert listed[0] == ids[8]  # the passage saying "barn" most often first
        assert search_service.search("barn", search_service.Filters(), page=4, per_page=4).total == 9


@pytest.mark.parametrize("q", ['"familjehem', "(barn OR", "*", "barn*)", "NEAR(barn familjehem", "-", "--",
                               "'; drop table passage; --", "placering:*", "a & | ! <->", "barn AND", "NOT barn",
                               'col:"x"', "^barn", "{barn}", "\\", "ä ö å", "familjehem\"*()"])
def test_search_input_never_breaks_the_query(app, staff, visits, q):
    vid = next(iter(visits))
    add_passages(app, vid, {"text": "Familjehemmen och barnen."})
    r = staff.get("/dialog/sok", query_string={"q": q})
    assert r.status_code == 200, q
    assert "passage" in text(r).lower() or "Skriv ett eller flera sökord" in text(r)


def test_snippets_are_escaped_and_only_marks_are_markup(app, staff, visits):
    vid = next(iter(visits))
    add_passages(app, vid, {"text": 'Familjehem <script>alert("x")</script> & <b>fet</b> text \ue000 udda \ue001.'})
    html = staff.get("/dialog/sok", query_string={"q": "familjehem"}).get_data(as_text=True)
    assert "<mark>Familjehem</mark>" in html
    assert "<script>alert" not in html and "<b>fet</b>" not in html
    assert "\ue000" not in html and "\ue001" not in html
    listing = staff.get("/dialog/sok", query_string={"omgang": "1"}).get_data(as_text=True)
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing


# --------------------------------------------------------------------------- overview pages

def _overview_data(app, visits):
    """Random notes: returns what each (theme, group, round) must count, computed here, not by SQL."""
    rng = random.Random(11)
    with app.app_context():
        all_themes = db.session.scalars(select(Theme.id)).all()
    themes = rng.sample(all_themes, 6)
    passages, sites, notes = defaultdict(set), defaultdict(set), defaultdict(set)
    with app.app_context():
        site_of = {v.id: v.site_id for v in db.session.scalars(select(Visit))}
    for vid in rng.sample(list(visits), 40):
        grupp, omgang, _lan, _label = visits[vid]
        specs = [{"text": f"Passage {i} om arbetet.", "themes": rng.sample(themes, rng.randint(0, 3)),
                  "flags": ["hinder"] if rng.random() < 0.3 else []} for i in range(rng.randint(1, 4))]
        for pid, spec in zip(add_passages(app, vid, *specs), specs):
            notes[(grupp, omgang)].add(vid)
            for t in spec["themes"]:
                passages[(t, grupp, omgang)].add(pid)
                sites[(t, grupp, omgang)].add(site_of[vid])
    return themes, passages, sites, notes


def test_overview_counts_match_counts_computed_independently(app, staff, visits):
    themes, passages, sites, notes = _overview_data(app, visits)
    r = staff.get("/dialog/oversikt")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    shown = {}
    for href, n, s in re.findall(r'<a href="(/dialog/sok\?[^"]+)"[^>]*>(\d+)</a> <span class="sites">\((\d+)\)', html):
        args = {k: int(v[0]) for k, v in parse_qs(urlsplit(unescape(href)).query).items()}
        if "grupp" in args:
            shown[(args["tema"], args["grupp"], args["omgang"])] = (int(n), int(s))
    expected = {k: (len(v), len(sites[k])) for k, v in passages.items()}
    assert shown == expected
    for (g, r_), vids in notes.items():
        assert f'data-denominator="{g}-{r_}">{len(vids)}<' in html
    for r_ in (1, 2):
        total = sum(len(v) for (g, rr), v in notes.items() if rr == r_)
        assert f'data-denominator="alla-{r_}">{total}<' in html
        assert f"{total} " in text(r).split("Nämnare:")[1][:80]
    # Every count leads to exactly the passages behind it.
    for (t, g, r_), pids in list(expected.items())[:5]:
        page = staff.get("/dialog/sok", query_string={"tema": t, "grupp": g, "omgang": r_})
        assert f"av {pids[0]} passage" in text(page)
        assert hit_ids(app, tema=t, grupp=g, omgang=r_) == passages[(t, g, r_)]
    # Restricted to one flag, the links carry the flag.
    assert "flagga=hinder" in staff.get("/dialog/oversikt", query_string={"flagga": "hinder"}).get_data(as_text=True)


def test_flag_pages_group_passages_by_theme(app, staff, visits):
    ids = list(visits)
    brist = theme_id(app, "Brist på familjehem")
    tech = theme_id(app, "Välfärdsteknik")
    add_passages(app, ids[0],
                 {"text": "Ett gott exempel med digitala möten.", "themes": [tech, brist], "flags": ["gott_exempel"]},
                 {"text": "Lagstiftningen är ett hinder.", "flags": ["hinder", "nationell_fraga"]},
                 {"text": "Vanlig passage utan markering.", "themes": [brist]})
    r = staff.get("/dialog/goda-exempel")
    assert r.status_code == 200
    body = text(r)
    assert body.count("Ett gott exempel med digitala möten.") == 2  # under both themes
    assert "Välfärdsteknik" in body and "Vanlig passage" not in body and "Lagstiftningen" not in body
    body = text(staff.get("/dialog/hinder"))
    assert "Utan tema" in body and "Lagstiftningen är ett hinder." in body and "1 passage från 1 besök" in body
    assert "Lagstiftningen är ett hinder." in text(staff.get("/dialog/nationella-fragor"))
    grupp, omgang = visits[ids[0]][0], visits[ids[0]][1]
    assert "Lagstiftningen" not in text(staff.get("/dialog/hinder", query_string={"omgang": 3 - omgang}))
    assert "Lagstiftningen" in text(staff.get("/dialog/hinder", query_string={"grupp": grupp}))


def test_quotes_are_not_attributed_to_a_named_kommun_unless_cleared(app, staff, visits):
    ids = list(visits)
    secret, named = ids[0], ids[5]
    assert visits[secret][3] != visits[named][3]
    add_passages(app, secret, {"text": "Vi har inte råd att vänta.", "flags": ["citat"], "quote_reason": "manga"})
    add_passages(app, named, {"text": "Barnen ska alltid tillfrågas.", "flags": ["citat"], "quote_reason": "unik",
                              "attribution_cleared": True})
    body = text(staff.get("/dialog/citat"))
    assert "Vi har inte råd att vänta." in body and "Många sa det" in body and "En unik synpunkt" in body
    assert f"En kommun i grupp {visits[secret][0]}" in body
    kommun = visits[secret][3].split(",")[0]
    assert kommun not in body
    assert visits[named][3] in body


def test_reader_and_anonymous_are_refused(app, reader, anon, visits):
    theme = theme_id(app, "Välfärdsteknik")
    with app.app_context():
        category = db.session.scalar(select(ThemeCategory.id))
        question = db.session.scalar(select(DialogueQuestion.id))
    gets = ["/dialog/teman", f"/dialog/teman/{theme}", f"/dialog/teman/kategori/{category}", "/dialog/fragor",
            f"/dialog/fragor/{question}", "/dialog/fragor/ny", "/dialog/sok?q=barn", "/dialog/oversikt",
            "/dialog/goda-exempel", "/dialog/hinder", "/dialog/nationella-fragor", "/dialog/citat"]
    posts = ["/dialog/teman/kategori", "/dialog/teman/nytt", f"/dialog/teman/{theme}",
             f"/dialog/teman/{theme}/status", f"/dialog/teman/{theme}/sla-ihop", f"/dialog/teman/kategori/{category}",
             f"/dialog/teman/kategori/{category}/status", f"/dialog/fragor/{question}", "/dialog/fragor/ny"]
    for url in gets:
        assert reader.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
    for url in posts:
        assert reader.post(url, {"category_name": "x", "theme_name": "x", "retired": "1"}).status_code == 403, url
    with app.app_context():
        assert not db.session.scalar(select(ThemeCategory).where(ThemeCategory.name == "x"))


# --------------------------------------------------------------------------- in a browser (axe-core)

@pytest.mark.browser
def test_pages_are_accessible_in_a_browser(app, page, visits):
    from .conftest import SHOTS, assert_accessible, browser_login

    ids = list(visits)
    brist = theme_id(app, "Brist på familjehem")
    tech = theme_id(app, "Välfärdsteknik")
    add_passages(app, ids[0], {"text": "Familjehemmen räcker inte till.", "themes": [brist], "flags": ["hinder"]},
                 {"text": "Digitala möten med barnen fungerar bra.", "themes": [tech],
                  "flags": ["gott_exempel", "citat"], "quote_reason": "unik"})
    add_passages(app, ids[3], {"text": "Staten borde reglera mindre.", "flags": ["nationell_fraga"],
                               "section": "ovrigt"})
    browser_login(page, "admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in [("oversikt", "/dialog/oversikt"), ("sok", "/dialog/sok?q=familjehem"),
                      ("sok-filter", f"/dialog/sok?tema={brist}&omgang={visits[ids[0]][1]}"),
                      ("teman", "/dialog/teman"), ("tema", f"/dialog/teman/{brist}"),
                      ("goda-exempel", "/dialog/goda-exempel"), ("hinder", "/dialog/hinder"),
                      ("nationella-fragor", "/dialog/nationella-fragor"), ("citat", "/dialog/citat"),
                      ("fragor", "/dialog/fragor")]:
        page.goto(url)
        assert_accessible(page, name)
        page.screenshot(path=SHOTS / f"dialogue-{name}.png", full_page=True)
    # The merge's confirmation step, through the form.
    page.goto(f"/dialog/teman/{brist}")
    page.get_by_label("Slå ihop med", exact=True).select_option(label="Välfärdsteknik")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", name=re.compile("Slå ihop Brist på familjehem med Välfärdsteknik"))).to_be_visible()
    assert_accessible(page, "merge confirmation")
    page.screenshot(path=SHOTS / "dialogue-sla-ihop.png", full_page=True)
    page.get_by_role("button", name="Slå ihop").click()
    # expect() waits for the POST's page to arrive; page.content() alone could read it mid-navigation.
    expect(page.get_by_text(re.compile("Brist på familjehem är sammanslaget med Välfärdsteknik"))).to_be_visible()
