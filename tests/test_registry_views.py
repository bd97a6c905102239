"""Registry pages: kommun list, kommun page, groups per län, map, population import, settings."""
from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

from sqlalchemy import delete, func, select

from coordinator.audit import AuditEvent
from coordinator.extensions import db
from coordinator.registry import service
from coordinator.registry.models import OjGroup, Population, PopulationImport, SamplingDefaults
from coordinator.registry.reference import DATA_DIR

from .helpers import confirm_through_page

PAGES = ["/register/", "/register/kommun/0180", "/register/grupper", "/register/karta", "/register/import"]


def text(response) -> str:
    """Page text with tags removed and every kind of space made plain (for robust asserts)."""
    html = response.get_data(as_text=True)
    plain = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"[\s\u00a0\u202f]+", " ", plain)


def digits(s: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]", "", s)


def table_rows(html: str, table_index: int = 0) -> list[list[str]]:
    table = re.findall(r"<table.*?</table>", html, re.S)[table_index]
    rows = []
    for tr in re.findall(r"<tr.*?</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", c))).strip() for c in cells])
    return rows


def scb_file(year: int = 2020, *, bad_line: bool = False) -> bytes:
    """An SCB-style export: title, header, riket and län rows, Latin-1, ';', space thousands."""
    with open(DATA_DIR / "population_1950_2019.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = [f"Folkmängd i riket, län och kommuner 31 december {year}", "",
             f'"region";"{year}"', '"00 Riket";"10 379 295"', '"01 Stockholms län";"2 415 139"']
    for i, r in enumerate(rows):
        value = f"{int(r['2019']) + 1:,}".replace(",", " ")
        if bad_line and i == 5:
            value = "12,5"
        lines.append(f'"{r["kommunkod"]} {r["kommun"]}";"{value}"')
    lines += ["", "Källa: SCB"]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def upload(client, data: bytes, name: str = "be0101_2020.csv", year: str = ""):
    return client.post("/register/import", {"file": (io.BytesIO(data), name), "year": year},
                       content_type="multipart/form-data")


def confirm(client, preview_html: str):
    fields = dict(re.findall(r'<input[^>]*name="(token|filename|year)"[^>]*value="([^"]*)"', preview_html))
    fields = {k: unescape(v) for k, v in fields.items()}
    fields.setdefault("year", "")
    return client.post("/register/import/bekrafta", fields)


# --------------------------------------------------------------------------- access

def test_reader_gets_403_on_every_registry_page(reader):
    for url in PAGES + ["/register/installningar"]:
        assert reader.get(url).status_code == 403, url
    assert reader.post("/register/import", {}).status_code == 403
    assert reader.post("/register/installningar", {}).status_code == 403


def test_staff_reaches_the_pages_but_not_the_settings(staff):
    for url in PAGES:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert response.get_data(as_text=True).count("<h1") == 1, url
    assert staff.get("/register/installningar").status_code == 403
    assert staff.post("/register/installningar/aterstall", {}).status_code == 403


def test_post_without_csrf_token_is_refused(staff, admin):
    assert upload(staff, scb_file()).status_code == 200  # sanity: with the token it works
    response = staff.post("/register/import", {"file": (io.BytesIO(scb_file()), "x.csv")},
                          csrf=False, content_type="multipart/form-data")
    assert response.status_code == 400
    assert admin.post("/register/installningar", {"g2_allocation": "9"}, csrf=False).status_code == 400
    assert admin.post("/register/installningar/aterstall", {}, csrf=False).status_code == 400
    assert staff.post("/register/import/bekrafta", {"token": "0" * 64}, csrf=False).status_code == 400


def test_unknown_kommun_is_404(staff):
    assert staff.get("/register/kommun/9999").status_code == 404
    assert staff.get("/register/kommun/abc").status_code == 404


# --------------------------------------------------------------------------- list

def test_list_shows_every_kommun_of_the_reference_year(staff):
    response = staff.get("/register/")
    page = text(response)
    assert "290 av 290 kommuner" in page
    rows = table_rows(response.get_data(as_text=True))[1:]
    assert len(rows) == 290
    stockholm = next(r for r in rows if r[1] == "Stockholm")
    assert stockholm[0] == "0180" and stockholm[2] == "Stockholms län"
    assert digits(stockholm[3]) == "911989" and stockholm[4] == "5"
    assert "Storstäder" in stockholm[5]
    # Swedish alphabetical order: Å, Ä, Ö last.
    names = [r[1] for r in rows]
    assert names[-1].startswith("Ö") and names.index("Åmål") < names.index("Älmhult") < names.index("Örebro")
    assert 'href="/register/kommun/0180"' in response.get_data(as_text=True)


def test_list_filters_by_lan_and_group_and_sorts_by_population(staff):
    response = staff.get("/register/?ar=2014&lan=01&grupp=4&sort=-folkmangd")
    assert "av 290 kommuner" in text(response)
    rows = table_rows(response.get_data(as_text=True))[1:]
    assert rows and all(r[2] == "Stockholms län" and r[4] == "4" for r in rows)
    populations = [int(digits(r[3])) for r in rows]
    assert populations == sorted(populations, reverse=True)
    assert f"{len(rows)} av 290 kommuner" in text(response)

    rows = table_rows(staff.get("/register/?ar=2014&grupp=5&sort=folkmangd").get_data(as_text=True))[1:]
    assert [r[1] for r in rows] == ["Uppsala", "Malmö", "Göteborg", "Stockholm"]

    rows = table_rows(staff.get("/register/?ar=2014&sort=kod").get_data(as_text=True))[1:]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)

    rows = table_rows(staff.get("/register/?ar=2014&grupp=1").get_data(as_text=True))[1:]
    assert len(rows) == 136


def test_list_year_changes_the_figures_and_an_unknown_year_falls_back(staff):
    rows = table_rows(staff.get("/register/?ar=1950&q=stockholm").get_data(as_text=True))[1:]
    assert [r[1] for r in rows] == ["Stockholm"]
    assert digits(rows[0][3]) != "911989"
    response = staff.get("/register/?ar=1900")
    assert response.status_code == 200
    assert "inga befolkningssiffror för alla kommuner år 1900" in text(response)
    assert "290 av 290 kommuner" in text(response)


# --------------------------------------------------------------------------- kommun page

def test_kommun_page_shows_facts_series_districts_and_map(staff):
    response = staff.get("/register/kommun/0180")
    html = response.get_data(as_text=True)
    page = text(response)
    assert "Stockholm" in page and "Stockholms län" in page
    assert "911989" in digits(page)
    assert "Rinkeby-Kista" in page  # a district
    assert "A1" in page  # SKR kommungrupp
    series = table_rows(html, -1)
    years = {r[0]: digits(r[1]) for r in series[1:]}
    assert years["2014"] == "911989"
    assert "1950" in years and "2019" in years and len(years) == 70
    assert all("SCB" in r[3] for r in series[1:])
    # The map of the län: Stockholm highlighted, the others link to their pages.
    assert 'data-kommunkod="0180" fill="#b3261e"' in html
    assert 'href="/register/kommun/0114"' in html
    assert html.count("<svg") >= 1


# --------------------------------------------------------------------------- groups per län

def test_group_table_2014_has_the_known_totals(staff):
    response = staff.get("/register/grupper?ar=2014")
    html = response.get_data(as_text=True)
    totals = re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0)
    counts = [int(n) for n in re.findall(r'data-grupp="[^"]+"><a[^>]*>(\d+)</a>', totals)]
    assert counts == [136, 72, 52, 26, 4, 290]
    rows = table_rows(html)
    assert len(rows) == 1 + 21 + 1
    gotland = next(r for r in rows if r[0] == "Gotlands län")
    assert gotland[1:] == ["0", "0", "1", "0", "0", "1"]
    # Each row adds up to its total.
    for r in rows[1:-1]:
        assert sum(int(c) for c in r[1:6]) == int(r[6])
    assert 'href="/register/?ar=2014&amp;lan=01&amp;grupp=5"' in html


# --------------------------------------------------------------------------- map

def test_map_colours_all_290_kommuner_with_a_legend(staff):
    response = staff.get("/register/karta?ar=2014")
    html = response.get_data(as_text=True)
    svg = re.search(r"<svg[^>]*class=\"karta\".*?</svg>", html, re.S).group(0)
    fills = re.findall(r'<path id="karta-\d{4}" data-kommunkod="\d{4}" fill="(#[0-9a-f]{6})"', svg)
    assert len(fills) == 290
    palette = list(service.GROUP_COLOURS.values())
    assert [fills.count(c) for c in palette] == [136, 72, 52, 26, 4]
    assert svg.count("<title") == 290 + 1
    assert svg.count('<a href="/register/kommun/') == 290
    legend = re.search(r'<ul class="legend">.*?</ul>', html, re.S).group(0)
    assert [int(n) for n in re.findall(r'class="legend-count">(\d+)', legend)] == [136, 72, 52, 26, 4]
    assert "Visa som tabell" in html
    assert len(table_rows(html)) == 291  # the table alternative under <details>


# --------------------------------------------------------------------------- import

def test_import_of_a_latin1_semicolon_file_adds_a_year(app, staff):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Population))
        assert 2020 not in service.available_years()

    preview = upload(staff, scb_file(2020))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Granska import" in html and "cp1252" in html
    with app.app_context():  # nothing written before the confirmation
        assert db.session.scalar(select(func.count()).select_from(Population)) == before

    response = confirm(staff, html)
    assert response.status_code == 302
    result = staff.get(response.headers["Location"])
    assert "290" in text(result) and "2020" in text(result)

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Population)) == before + 290
        imp = db.session.scalar(select(PopulationImport))
        assert (imp.filnamn, imp.years, imp.rows, imp.replaced) == ("be0101_2020.csv", "2020", 290, 0)
        assert imp.delimiter == ";" and imp.encoding == "cp1252" and len(imp.sha256) == 64
        assert imp.imported_by_id is not None
        assert 2020 in service.available_years()
        assert service.population(2020)["0180"] == 974073 + 1
        assert len(service.groups(2020)) == 290
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registry.population_imported"))
        assert event.actor == "staff@test.se" and event.details["rows"] == 290

    page = text(staff.get("/register/kommun/0180"))
    assert "be0101_2020.csv" in page and "974074" in digits(page)
    history = text(staff.get("/register/import"))
    assert "be0101_2020.csv" in history and "staff@test.se" in history
    assert "Grupp 5" in text(staff.get("/register/grupper?ar=2020"))


def test_import_replacing_a_year_shows_the_changed_figures(app, staff):
    data = scb_file(2019)
    preview = upload(staff, data, "revidering_2019.csv")
    page = text(preview)
    assert "Ersätter tidigare siffror" in page
    assert "Siffror som ändras" in page
    response = confirm(staff, preview.get_data(as_text=True))
    result = text(staff.get(response.headers["Location"]))
    assert "Siffror som ändrades" in result
    with app.app_context():
        imp = db.session.scalar(select(PopulationImport))
        assert imp.replaced == 290
        assert service.population(2019)["0180"] == 974073 + 1
        assert db.session.scalar(select(func.count()).select_from(Population).where(Population.year == 2019)) == 290


def test_import_with_a_bad_line_shows_every_problem_and_writes_nothing(app, staff):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Population))
    response = upload(staff, scb_file(2020, bad_line=True))
    page = text(response)
    assert response.status_code == 422
    assert re.search(r"Rad 11: folkmängden '12,5' är inte ett heltal", page), page[:2000]
    assert "Inget har sparats" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Population)) == before
        assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 0
        assert 2020 not in service.available_years()


def test_import_of_a_two_column_file_needs_the_year(app, staff):
    lines = ["kommunkod;folkmängd"] + [f"{kod};{n}" for kod, n in sorted(_pop(app, 2019).items())]
    data = "\n".join(lines).encode("utf-8-sig")
    response = upload(staff, data, "tva_kolumner.csv")
    assert response.status_code == 422
    assert "Filen saknar kolumn för år" in text(response)
    response = upload(staff, data, "tva_kolumner.csv", year="20x0")
    assert response.status_code == 422
    assert "Ange ett årtal" in text(response)
    preview = upload(staff, data, "tva_kolumner.csv", year="2021")
    assert preview.status_code == 200
    assert confirm(staff, preview.get_data(as_text=True)).status_code == 302
    with app.app_context():
        assert 2021 in service.available_years()


def test_import_page_without_a_file_names_the_problem(staff):
    response = staff.post("/register/import", {"year": ""}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Välj en fil att importera." in text(response)


def _pop(app, year):
    with app.app_context():
        return service.population(year)


def test_cli_import_with_json(app, tmp_path):
    path = tmp_path / "folkmangd_2020.csv"
    path.write_bytes(scb_file(2020))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["years"] == [2020] and out["rows"] == 290 and out["replaced"] == 0 and out["import_id"]
    with app.app_context():
        imp = db.session.get(PopulationImport, out["import_id"])
        assert imp.filnamn == "folkmangd_2020.csv" and imp.imported_by_id is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registry.population_imported"))
        assert event.actor.startswith("kommandorad:")

    bad = tmp_path / "trasig.csv"
    bad.write_bytes(scb_file(2021, bad_line=True))
    result = runner.invoke(args=["registry", "import", str(bad), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert any(p.startswith("Rad 11:") for p in out["problems"])
    with app.app_context():
        assert 2021 not in service.available_years()
        assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 1


def test_loading_the_reference_data_again_brings_back_shipped_figures_and_keeps_imported_ones(app, tmp_path):
    """`coordinator registry load` (and setup) puts back a shipped figure that is missing, whatever else the table
    holds (a year of its own, imported; a shipped year replaced by an import), and never touches an import."""
    with open(DATA_DIR / "population_1950_2019.csv", encoding="utf-8") as f:
        shipped = {r["kommunkod"]: r for r in csv.DictReader(f)}
    runner = app.test_cli_runner()
    for year in (2019, 2020):  # 2019 replaces shipped figures, 2020 adds a year: 290 more rows than shipped
        (tmp_path / f"{year}.csv").write_bytes(scb_file(year))
        assert runner.invoke(args=["registry", "import", str(tmp_path / f"{year}.csv"), "--json"]).exit_code == 0
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Population))
        db.session.execute(delete(Population).where(Population.kommunkod == "0114", Population.year == 2014))
        db.session.execute(delete(Population).where(Population.kommunkod == "2584", Population.year == 1950))
        db.session.commit()

    result = runner.invoke(args=["registry", "load"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["population"] == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Population)) == total
        assert service.population(2014)["0114"] == int(shipped["0114"]["2014"])
        assert service.population(1950)["2584"] == int(shipped["2584"]["1950"])
        for year in (2019, 2020):  # the imported figures, still from their imports
            assert service.population(year)["0180"] == int(shipped["0180"]["2019"]) + 1
            assert db.session.scalar(select(func.count()).select_from(Population).where(
                Population.year == year, Population.import_id.isnot(None))) == 290
    again = runner.invoke(args=["registry", "load"])
    assert json.loads(again.output)["population"] == 0  # nothing missing: nothing added
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Population)) == total


# --------------------------------------------------------------------------- settings

def settings_form(admin) -> dict[str, str]:
    html = admin.get("/register/installningar").get_data(as_text=True)
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "y"
        else:
            data[name.group(1)] = unescape(value.group(1)) if value else ""
    year = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', html)
    data["reference_year"] = next(g for g in year.groups() if g)
    return data


def test_admin_changes_an_allocation_and_it_is_stored_and_audited(app, admin):
    data = settings_form(admin)
    assert data["g2_allocation"] == "10" and data["g5_allocation"] == "" and data["g5_upper"] == ""
    data["g2_allocation"] = "9"
    response = admin.post("/register/installningar", data)
    assert response.status_code == 302
    assert "sparade" in text(admin.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(OjGroup, 2).allocation == 9
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registry.settings_changed"))
        assert event.actor == "admin@test.se"
        assert event.details == {"old": {"g2.allocation": 10}, "new": {"g2.allocation": 9}}


def test_settings_change_defaults_and_blank_allocation_means_all(app, admin):
    data = settings_form(admin)
    data.update(g4_allocation="", reference_year="2019", g1_lower="0")
    data.pop("balance_skr", None)
    data["balance_skr"] = "y"
    assert admin.post("/register/installningar", data).status_code == 302
    with app.app_context():
        assert db.session.get(OjGroup, 4).allocation is None
        assert db.session.get(OjGroup, 1).lower == 0
        d = db.session.get(SamplingDefaults, 1)
        assert d.reference_year == 2019 and d.balance_skr is True and d.require_all_lan is True


def test_invalid_thresholds_show_errors_and_keep_what_was_typed(app, admin):
    data = settings_form(admin)
    data.update(g1_lower="5", g2_lower="16 000", g3_upper="20000", g5_upper="900000", g2_allocation="tio")
    response = admin.post("/register/installningar", data)
    html = response.get_data(as_text=True)
    page = text(response)
    assert response.status_code == 422
    assert "Grupp 1 ska börja på 0 eller 1 invånare." in page
    assert "Ska vara 15000, en mer än grupp 1 övre gräns" in page and "glapp" in page
    assert "Den övre gränsen får inte vara lägre än den nedre" in page
    assert "Den sista gruppen ska vara öppen uppåt" in page
    assert "Ange ett heltal" in page
    for name, value in [("g1_lower", "5"), ("g2_lower", "16 000"), ("g3_upper", "20000"),
                        ("g5_upper", "900000"), ("g2_allocation", "tio")]:
        assert re.search(rf'id="{name}"[^>]*value="{value}"|value="{value}"[^>]*id="{name}"', html), name
    assert 'aria-invalid="true"' in html and 'href="#g1_lower"' in html
    with app.app_context():
        assert db.session.get(OjGroup, 1).lower == 1
        assert db.session.get(OjGroup, 2).allocation == 10
        assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action.startswith("registry.settings")))


def test_concurrent_settings_edit_is_refused_with_the_current_values(app, admin):
    mine = settings_form(admin)
    theirs = dict(mine, g3_allocation="7")
    assert admin.post("/register/installningar", theirs).status_code == 302
    mine["g2_allocation"] = "9"
    response = admin.post("/register/installningar", mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "har ändrats av någon annan" in text(response)
    assert re.search(r'id="g3_allocation"[^>]*value="7"|value="7"[^>]*id="g3_allocation"', html)
    assert "Grupp 2, antal att välja" in text(response)  # what this user typed is listed
    with app.app_context():
        assert db.session.get(OjGroup, 2).allocation == 10
        assert db.session.get(OjGroup, 3).allocation == 7


def test_reset_restores_the_default_groups_and_is_audited(app, admin):
    data = settings_form(admin)
    data.update(g2_allocation="3", g4_upper="150000", g5_lower="150001")
    assert admin.post("/register/installningar", data).status_code == 302
    step = admin.get("/register/installningar/aterstall")  # says what changes, changes nothing
    assert "Grupp 2, antal att välja: 3 blir 10." in text(step) and "Kan inte ångras" in text(step)
    with app.app_context():
        assert db.session.get(OjGroup, 2).allocation == 3
    response = confirm_through_page(admin, "/register/installningar/aterstall")
    assert response.status_code == 302
    with app.app_context():
        assert [(g.number, g.lower, g.upper, g.allocation) for g in service.group_rules()] == [
            (1, 1, 14999, 10), (2, 15000, 29999, 10), (3, 30000, 69999, 10), (4, 70000, 199999, 10),
            (5, 200000, None, None)]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "registry.settings_reset"))
        assert event.details["old"]["g2.allocation"] == 3 and event.details["new"]["g2.allocation"] == 10


def test_confirming_the_same_import_twice_imports_once(app, staff):
    html = upload(staff, scb_file(2020)).get_data(as_text=True)
    first = confirm(staff, html)
    second = confirm(staff, html)
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 1


def test_settings_refuse_a_year_without_figures(app, admin):
    data = settings_form(admin)
    data["reference_year"] = "1900"
    response = admin.post("/register/installningar", data)
    assert response.status_code == 422
    assert "Välj ett år med befolkningssiffror för alla kommuner." in text(response)
    with app.app_context():
        assert db.session.get(SamplingDefaults, 1).reference_year == 2014


def test_cli_dry_run_writes_nothing(app, tmp_path):
    path = tmp_path / "folkmangd_2020.csv"
    path.write_bytes(scb_file(2020))
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Skulle importera 290 rader för år 2020" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 0
        assert 2020 not in service.available_years()
