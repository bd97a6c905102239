"""Quotes once and anonymised consistently; the regional summary per län and the good-examples digest.

A sample is drawn and adopted through the CLI; in one län, four visit sites of four different kommuner
have their first visit held in 2015 Q3 and a dialogue note:
- site A: a good example that is also a quote, NOT cleared, naming its own kommun in the text;
- sites B and C: the same words (naming B's kommun) in both notes: cleared at B, not cleared at C;
- site E: a good example cleared for attribution.
The tests look for the names of A's, B's and C's kommuner everywhere a quote is shown (the report's
quotes, /dialog/citat, the search, the regional summary's examples, the digest as page and PDF) and
find them nowhere; each planted passage appears once. Both backends.
"""
from __future__ import annotations

import io
import json
import re
from datetime import date
from html import unescape

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coordinator.dialogue.models import FLAGS, Note, Passage, Theme
from coordinator.dialogue.quotes import key, present, redact
from coordinator.extensions import db
from coordinator.sampling.models import Sample
from coordinator.scheduling.models import Visit
from coordinator.scheduling.service import ensure_visits

from .test_report_rhythm import statements

SECRET = "HEMLIGT-EXEMPEL"
COPY = "KOPIERAT-CITAT"
CLEARED = "GODKÄNT-EXEMPEL"
NBSP = "\u00a0"


def page_text(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"[\s\u00a0\u202f]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages).replace(NBSP, " "))


def names_in(text: str, names) -> list[str]:
    """The names that stand in the text as whole words."""
    return [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]


@pytest.fixture
def world(app):
    runner = app.test_cli_runner()
    drawn = runner.invoke(args=["sample", "draw", "--year", "2014", "--seed", "7", "--save", "--json"])
    assert drawn.exit_code == 0, drawn.output
    sample_id = json.loads(drawn.output)["id"]
    assert runner.invoke(args=["sample", "adopt", str(sample_id)]).exit_code == 0
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        ensure_visits()
        db.session.flush()
        by_lan: dict[str, list] = {}
        for s in sample.active_sites:
            if not s.enhet and len(s.kommun.namn) >= 4:
                by_lan.setdefault(s.kommun.lanskod, []).append(s)
        lanskod, sites = next((k, v) for k, v in sorted(by_lan.items(), key=lambda kv: -len(kv[1])))
        assert len(sites) >= 4
        a, b, c, e = sites[:4]
        themes = db.session.scalars(select(Theme).order_by(Theme.id)).all()

        def note(site, day, *passages):
            visit = db.session.scalar(select(Visit).where(Visit.site_id == site.id, Visit.round == 1))
            visit.date, visit.status = day, "genomford"
            n = Note(visit_id=visit.id)
            db.session.add(n)
            db.session.flush()
            for i, (text, flags) in enumerate(passages):
                db.session.add(Passage(note_id=n.id, section="fraga-1", position=i, text=text,
                                       themes=[themes[i % 3]], **flags))

        note(a, date(2015, 8, 3), (f"{SECRET}: I {a.kommun.namn} har vi ett eget familjehemsteam.",
                                   {"gott_exempel": True, "citat": True, "quote_reason": "manga"}))
        copy = f"{COPY}: I {b.kommun.namn}s socialtjänst ringer vi varje placerat barn varje månad."
        note(b, date(2015, 8, 4), (copy, {"gott_exempel": True, "citat": True, "quote_reason": "unik",
                                          "attribution_cleared": True}))
        note(c, date(2015, 8, 5), (copy, {"citat": True, "quote_reason": "unik"}))
        note(e, date(2015, 8, 6), (f"{CLEARED}: en gemensam rutin med elevhälsan.",
                                   {"gott_exempel": True, "attribution_cleared": True}))
        db.session.commit()
        return {"lanskod": lanskod, "lan": a.kommun.lan.namn, "hidden": [a.kommun.namn, b.kommun.namn, c.kommun.namn],
                "cleared_label": e.label, "a_group": a.grupp}


# --------------------------------------------------------------------------- quotes.present

def test_present_shows_a_text_once_and_names_no_kommun_if_one_use_is_not_cleared(app, world):
    with app.app_context():
        rows = db.session.scalars(select(Passage).order_by(Passage.id)).all()
        assert len(rows) == 4
        quotes = present(rows)
        assert len(quotes) == 3  # the copy is one quote
        by_text = {key(q.passage.text)[:14]: q for q in quotes}
        copy = next(q for q in quotes if COPY in q.text)
        assert len(copy.uses) == 2 and not copy.attributed
        assert copy.flags == ["gott_exempel", "citat"]
        assert names_in(copy.text, world["hidden"]) == [] and "[kommunen]" in copy.text
        assert copy.source().startswith("En kommun i grupp")
        # Shown alone, the cleared use is still not attributed: its uncleared copy is found in the database.
        cleared_use = next(p for p in rows if COPY in p.text and p.attribution_cleared)
        alone = present([cleared_use])[0]
        assert not alone.attributed and names_in(alone.text + alone.source(), world["hidden"]) == []
        secret = next(q for q in quotes if SECRET in q.text)
        assert not secret.attributed and secret.source() == f"En kommun i grupp {world['a_group']}"
        ok = next(q for q in quotes if CLEARED in q.text)
        assert ok.attributed and ok.source() == world["cleared_label"]
        assert len(by_text) == 3


def test_redact_blanks_whole_words_and_the_genitive_only():
    assert redact("Malmös barn och Malmö stad, inte Malmöhus.", [("Malmö", "[kommunen]")]) == \
        "[kommunen] barn och [kommunen] stad, inte Malmöhus."


# --------------------------------------------------------------------------- everywhere quotes are shown

def test_the_report_quotes_each_passage_once_and_never_name_an_uncleared_kommun(app, world):
    from coordinator.reports import figures

    with app.test_request_context():
        data = figures.compute("2015Q3")
    items = [(flag, item) for flag in FLAGS for item in data["dialogue"]["flags"][flag]["items"]]
    texts = [i["text"] for _f, i in items]
    assert sum(SECRET in t for t in texts) == 1 and sum(COPY in t for t in texts) == 1
    assert sum(CLEARED in t for t in texts) == 1
    # A passage with two flags stands in the first list of its flags (good examples before quotes).
    assert [f for f, i in items if SECRET in i["text"]] == ["gott_exempel"]
    for _flag, item in items:
        assert names_in(item["text"] + " " + item["source"], world["hidden"]) == [], item
    copy = next(i for _f, i in items if COPY in i["text"])
    assert not copy["attributed"] and copy["source"].startswith("En kommun i grupp")
    assert next(i for _f, i in items if CLEARED in i["text"])["source"] == world["cleared_label"]


def test_the_report_pdf_quotes_each_passage_once_without_the_names(app, staff, world):
    response = staff.get("/rapporter/2015Q3/utkast.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert text.count(SECRET) == 1 and text.count(COPY) == 1 and text.count(CLEARED) == 1
    # The report lists visited sites by name elsewhere; around the quotes no uncleared kommun is named.
    for marker in (SECRET, COPY):
        at = text.index(marker)
        assert names_in(text[at - 20:at + 200], world["hidden"]) == [], text[at - 20:at + 200]
    assert "[kommunen]" in text


def test_the_quote_list_and_the_search_name_no_uncleared_kommun(app, staff, world):
    body = page_text(staff.get("/dialog/citat"))
    assert SECRET in body and body.count(COPY) == 2  # two notes' passages, both anonymised
    assert names_in(body, world["hidden"]) == []
    assert f"En kommun i grupp {world['a_group']}" in body
    found = page_text(staff.get("/dialog/sok", query_string={"q": "månad"}))
    assert found.count("socialtjänst ringer vi") == 2  # the search lists both notes' passages, both anonymised
    assert "[kommunen]" in found
    assert names_in(found, world["hidden"]) == []


def test_the_regional_summary_lists_the_sites_and_only_cleared_examples(app, staff, world):
    response = staff.get(f"/aterkoppling/lan/{world['lanskod']}")
    assert response.status_code == 200
    body = page_text(response)
    assert f"Regional sammanfattning: {world['lan']}" in body
    sites, examples = body.split("Goda exempel från länet", 1)
    # The visited sites are listed by name (which sites were visited is no secret) ...
    assert names_in(sites, world["hidden"]) == world["hidden"]
    assert "omgång 1: genomförd" in body.lower() or "Omgång 1: genomförd" in body
    # ... but of the examples only the cleared one, attributed, stands there.
    assert CLEARED in examples and world["cleared_label"] in examples
    assert SECRET not in body and COPY not in body
    assert names_in(examples, world["hidden"]) == []

    document = staff.get(f"/aterkoppling/lan/{world['lanskod']}.pdf")
    assert document.status_code == 200 and document.headers["Content-Type"] == "application/pdf"
    text = pdf_text(document.data)
    assert f"Regional sammanfattning: {world['lan']}" in text
    assert CLEARED in text and SECRET not in text and COPY not in text
    assert names_in(text.split("Goda exempel från länet", 1)[1], world["hidden"]) == []


def test_the_digest_has_every_good_example_once_and_names_no_uncleared_kommun(app, staff, world):
    body = page_text(staff.get("/aterkoppling/goda-exempel"))
    assert body.count(SECRET) == 1 and body.count(COPY) == 1 and body.count(CLEARED) == 1
    assert names_in(body, world["hidden"]) == []
    assert world["cleared_label"] in body and f"En kommun i grupp {world['a_group']}" in body
    assert "3 goda exempel" in body and "Öppna anteckningen" not in body  # publishable: no way into the notes
    text = pdf_text(staff.get("/aterkoppling/goda-exempel.pdf").data)
    assert text.count(SECRET) == 1 and text.count(COPY) == 1 and CLEARED in text
    assert names_in(text, world["hidden"]) == []


def test_the_region_list_counts_sites_and_visits(app, staff, world):
    body = page_text(staff.get("/aterkoppling/lan/"))
    assert "Regionala sammanfattningar" in body and world["lan"] in body
    assert "Goda exempel från hela landet" in page_text(staff.get("/rapporter/"))


# --------------------------------------------------------------------------- access, bad input, commands

def test_staff_and_readers_may_read_them_and_others_must_log_in(app, staff, reader, anon, world):
    urls = ["/aterkoppling/lan/", f"/aterkoppling/lan/{world['lanskod']}", f"/aterkoppling/lan/{world['lanskod']}.pdf",
            "/aterkoppling/goda-exempel", "/aterkoppling/goda-exempel.pdf"]
    for url in urls:
        assert staff.get(url).status_code == 200, url
        assert reader.get(url).status_code == 200, url
        response = anon.get(url)
        assert response.status_code == 302 and "/logga-in" in response.headers["Location"], url
    # The pages sit under "Rapporter" in the main menu.
    for url in urls[:2] + urls[3:4]:
        html = staff.get(url).get_data(as_text=True)
        assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)</a>', html)[0] == "Rapporter", url
    # A reader sees the sites but no link into the office's site pages.
    assert "/platser/" not in reader.get(f"/aterkoppling/lan/{world['lanskod']}").get_data(as_text=True)
    for bad in ("99", "1", "abc", "01x", "%00", "0" * 40):
        assert staff.get(f"/aterkoppling/lan/{bad}").status_code == 404, bad
        assert staff.get(f"/aterkoppling/lan/{bad}.pdf").status_code == 404, bad


def test_the_commands_write_the_pdfs_and_refuse_bad_input_in_swedish(app, world, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "lan.pdf"
    result = runner.invoke(args=["feedback", "region", world["lanskod"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert world["lan"] in text and CLEARED in text and SECRET not in text
    digest = tmp_path / "exempel.pdf"
    result = runner.invoke(args=["feedback", "examples", "--out", str(digest)])
    assert result.exit_code == 0, result.output
    text = pdf_text(digest.read_bytes())
    assert SECRET in text and names_in(text, world["hidden"]) == []

    result = runner.invoke(args=["feedback", "region", "99", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "inget län med koden" in result.output
    assert not (tmp_path / "x.pdf").exists()
    result = runner.invoke(args=["feedback", "examples", "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 2 and "PDF" in result.output
    result = runner.invoke(args=["feedback", "examples", "--out", str(tmp_path / "saknas" / "x.pdf")])
    assert result.exit_code == 1 and "Kunde inte skriva" in result.output


def test_the_pages_read_the_same_number_of_statements_with_more_rows(app, staff, world):
    urls = [f"/aterkoppling/lan/{world['lanskod']}", "/aterkoppling/goda-exempel", "/aterkoppling/lan/",
            "/dialog/citat"]

    def counted() -> list[int]:
        out = []
        for url in urls:
            staff.get(url)
            with statements(app) as seen:
                assert staff.get(url).status_code == 200
            out.append(len(seen))
        return out

    few = counted()
    with app.app_context():
        lanskod = world["lanskod"]
        from coordinator.registry.models import Kommun
        from coordinator.sampling.models import Site
        visits = db.session.scalars(
            select(Visit).join(Site, Site.id == Visit.site_id).join(Kommun, Kommun.kommunkod == Site.kommunkod)
            .where(Kommun.lanskod == lanskod, Visit.round == 2)).all()
        themes = db.session.scalars(select(Theme).order_by(Theme.id)).all()
        for i, visit in enumerate(visits):
            visit.date, visit.status = date(2016, 3, 1 + i % 28), "genomford"
            n = Note(visit_id=visit.id)
            db.session.add(n)
            db.session.flush()
            for j in range(3):
                db.session.add(Passage(note_id=n.id, section="fraga-2", position=j, text=f"Fler exempel {i}-{j}.",
                                       themes=themes[j:j + 2], gott_exempel=True, citat=j == 0,
                                       quote_reason="manga" if j == 0 else None, attribution_cleared=j == 1))
        db.session.commit()
        assert len(visits) >= 4
    assert counted() == few


# --------------------------------------------------------------------------- in a browser (axe-core)

@pytest.mark.browser
def test_the_pages_are_accessible_in_a_browser_at_two_widths(app, page, world):
    from .conftest import SHOTS, assert_accessible, browser_login

    browser_login(page, "staff")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in [("lan", "/aterkoppling/lan/"), ("region", f"/aterkoppling/lan/{world['lanskod']}"),
                          ("goda-exempel", "/aterkoppling/goda-exempel")]:
            page.goto(url)
            assert_accessible(page, f"{name} at {width} px")
            # Nothing is wider than the page but the sites' table, which scrolls in its own region.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=SHOTS / f"feedback-{name}-{width}.png", full_page=True)
    page.goto("/aterkoppling/lan/")
    page.get_by_role("link", name=world["lan"]).click()
    page.get_by_role("link", name="Goda exempel från hela landet").first.click()
    assert "Goda exempel från hela landet" in page.title()
