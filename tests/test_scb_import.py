"""SCB population file parsing (coordinator/registry/scb.py), built from the shipped 1950-2019 figures.

The module is loaded by file path so these tests need neither Flask nor the app package.
"""
from __future__ import annotations

import ast
import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "coordinator" / "registry" / "scb.py"
DATA = ROOT / "coordinator" / "registry" / "data"
if not (DATA / "population_1950_2019.csv").exists():
    DATA = Path("/work/shared/data")


def _load_module():
    name = "_scb_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scb = _load_module()


def _read(name):
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


KOMMUNER = {r["kommunkod"]: r["kommun"] for r in _read("kommuner.csv")}
LAN = {r["kommunkod"][:2] for r in _read("kommuner.csv")}
POP_ROWS = _read("population_1950_2019.csv")
POP = {int(y): {r["kommunkod"]: int(r[y]) for r in POP_ROWS} for y in POP_ROWS[0] if y.isdigit()}
CODES = sorted(KOMMUNER)
KNOWN = set(CODES)


def spaced(n: int, sep: str = " ") -> str:
    return f"{n:,}".replace(",", sep)


def parse(data, known=KNOWN, year=None):
    return scb.parse_population_file(data, known, year)


def problems(data, known=KNOWN, year=None):
    with pytest.raises(scb.PopulationImportError) as info:
        parse(data, known, year)
    return info.value.problems, info.value.messages()


def simple_file():
    """Lines of a valid 2019 file (header on line 1, kommun i on line i + 2) to break in tests."""
    return ["kommunkod;folkmängd 2019"] + [f"{c};{POP[2019][c]}" for c in CODES]


# --------------------------------------------------------------------------- valid files

def test_scb_semicolon_latin1_with_titles_aggregates_and_footnotes():
    lines = [
        "Folkmängd i riket, län och kommuner 31 december 2019",
        "Antal personer",
        "",
        "region;Folkmängd 2019",
        f"00 Riket;{spaced(sum(POP[2019].values()))}",
    ]
    for lan in sorted(LAN):
        lines.append(f"{lan} Länet;{spaced(sum(v for c, v in POP[2019].items() if c[:2] == lan))}")
    data_start = len(lines) + 1
    lines += [f"{c} {KOMMUNER[c]};{spaced(POP[2019][c])}" for c in CODES]
    lines += ["", "Källa: SCB, befolkningsstatistik", "Uppgifterna avser förhållandet den 31 december."]
    data = "\r\n".join(lines).encode("cp1252")
    assert b"\xe4" in data  # really Latin-1 ("ä")

    result = parse(data, KOMMUNER)
    assert result.encoding == "cp1252"
    assert result.delimiter == ";"
    assert result.layout == "wide"
    assert result.years == [2019]
    assert result.rows == {2019: POP[2019]}
    assert result.header_line == 4
    assert result.skipped_lines[:3] == [1, 2, 3]
    assert len(lines) - 1 in result.skipped_lines  # "Källa: SCB"
    assert result.aggregate_lines == list(range(5, data_start))
    assert sum(result.rows[2019].values()) == 10_327_589  # SOURCES.md: the 2019 national figure


def test_px_web_comma_export_utf8_bom():
    lines = ['"Folkmängd efter region, ålder, kön och år"', "", '"region","ålder","kön","2019"']
    lines += [f'"{c} {KOMMUNER[c]}","totalt ålder","totalt",{POP[2019][c]}' for c in CODES]
    data = ("\n".join(lines) + "\n").encode("utf-8-sig")
    result = parse(data)
    assert result.encoding == "utf-8-sig"
    assert result.delimiter == ","
    assert result.header_line == 3
    assert result.rows == {2019: POP[2019]}


def test_shipped_wide_file_parses_to_all_70_years():
    result = parse((DATA / "population_1950_2019.csv").read_bytes())
    assert result.encoding == "utf-8"
    assert result.delimiter == ","
    assert result.layout == "wide"
    assert result.years == list(range(1950, 2020))
    assert result.rows == POP


def test_wide_multi_year_tab_file_with_px_headers_and_year_selection():
    years = [2017, 2018, 2019]
    lines = ["region\t" + "\t".join(f"{y}M12" for y in years)]
    lines += [f"{c} {KOMMUNER[c]}\t" + "\t".join(spaced(POP[y][c], "\u00a0") for y in years) for c in CODES]
    data = "\n".join(lines).encode("utf-8")
    result = parse(data)
    assert result.delimiter == "\t"
    assert result.rows == {y: POP[y] for y in years}
    only = parse(data, year=2018)
    assert only.years == [2018] and only.rows == {2018: POP[2018]}
    _, messages = problems(data, year=2014)
    assert messages == ["Filen innehåller inga uppgifter för år 2014"]


def test_wide_semicolon_px_export_quoted():
    lines = ['"region";"2020";"2021"'] + [f'"{c} {KOMMUNER[c]}";"{POP[2018][c]}";"{POP[2019][c]}"' for c in CODES]
    result = parse("\n".join(lines).encode())
    assert result.rows == {2020: POP[2018], 2021: POP[2019]}


def test_pivot_export_with_empty_region_header():
    lines = [";2019"] + [f"{c} {KOMMUNER[c]};{POP[2019][c]}" for c in CODES]
    assert parse("\n".join(lines).encode()).rows == {2019: POP[2019]}


def test_other_measures_for_the_year_are_ignored():
    lines = ["region;Folkmängd 2019;Folkökning 2019;Folkmängd per km2 2019"]
    lines += [f"{c} {KOMMUNER[c]};{POP[2019][c]};12;3,5" for c in CODES]
    assert parse("\n".join(lines).encode()).rows == {2019: POP[2019]}


def test_long_file_with_riket():
    years = [2015, 2016, 2017, 2018, 2019]
    lines = ["region;år;Folkmängd"]
    for y in years:
        lines.append(f"00 Riket;{y};{sum(POP[y].values())}")
        lines += [f"{c} {KOMMUNER[c]};{y};{POP[y][c]}" for c in CODES]
    data = "\n".join(lines).encode("cp1252")
    result = parse(data)
    assert result.layout == "long"
    assert result.rows == {y: POP[y] for y in years}
    assert len(result.aggregate_lines) == len(years)
    assert parse(data, year=2016).rows == {2016: POP[2016]}


def test_long_file_with_separate_code_column_and_english_headers():
    lines = ["Region code,Municipality,Year,Population"]
    lines += [f"{c},{KOMMUNER[c]},2019,{POP[2019][c]}" for c in CODES]
    assert parse("\n".join(lines).encode()).rows == {2019: POP[2019]}


def test_two_column_file_needs_year_parameter():
    lines = ["kommunkod;folkmängd"] + [f"{c};{POP[2014][c]}" for c in CODES]
    data = "\n".join(lines).encode()
    assert parse(data, year=2014).rows == {2014: POP[2014]}
    assert parse(data, year=2014).layout == "single"
    probs, messages = problems(data)
    assert messages == ["Filen saknar kolumn för år"]
    assert probs[0].line is None


def test_file_without_header_and_codes_without_leading_zero():
    lines = [f"{int(c)};{POP[2014][c]}" for c in CODES]  # "114;41816" as Excel writes it
    result = parse("\n".join(lines).encode(), year=2014)
    assert result.header_line is None
    assert result.rows == {2014: POP[2014]}


def test_name_only_regions_when_names_are_known():
    lines = ["Kommun;Invånare 2016"] + [f"{KOMMUNER[c]};{POP[2016][c]}" for c in CODES]
    assert parse("\n".join(lines).encode(), KOMMUNER).rows == {2016: POP[2016]}
    # Without names a plain name cannot be resolved.
    _, messages = problems("\n".join(lines[:2]).encode())
    assert messages[0] == "Rad 2: kan inte tolka 'Upplands Väsby' som en kommunkod"


@pytest.mark.parametrize("cell, expected", [
    ("46786", 46786), ("46 786", 46786), ("46\u00a0786", 46786), ("46\u202f786", 46786),
    ("46\u2009786", 46786), ("46.786", 46786), ("46'786", 46786), ('"46 786"', 46786),
    ("1 046 786", 1046786), ("1.046.786", 1046786), ("46786,0", 46786), (" 46786 ", 46786), ("0", 0),
])
def test_number_formats(cell, expected):
    lines = ["kod;antal"] + [f"{c};{cell if c == '0114' else POP[2019][c]}" for c in CODES]
    assert parse("\n".join(lines).encode(), year=2019).rows[2019]["0114"] == expected


def test_comma_file_with_quoted_thousands_and_semicolon_file_with_decimal_commas():
    # Comma-delimited: the thousands comma only exists inside quotes.
    lines = ["kommunkod,kommun,folkmängd"] + [f'{c},"{KOMMUNER[c]}","{POP[2019][c]:,}"' for c in CODES]
    result = parse("\n".join(lines).encode(), year=2019)
    assert result.delimiter == "," and result.rows == {2019: POP[2019]}
    # Semicolon file whose other column has decimal commas must not be read as comma-delimited.
    lines = ["Folkmängd efter region, ålder och kön", "region;Folkmängd 2019;Medelålder 2019"]
    lines += [f"{c} {KOMMUNER[c]};{POP[2019][c]};41,{int(c) % 10}" for c in CODES]
    result = parse("\n".join(lines).encode())
    assert result.delimiter == ";" and result.rows == {2019: POP[2019]}


def test_crlf_and_cr_line_endings_keep_line_numbers():
    lines = simple_file()
    lines[7] = lines[7].split(";")[0] + ";12a4"
    for eol in ("\r\n", "\r", "\n"):
        _, messages = problems(eol.join(lines).encode())
        assert messages == ["Rad 8: folkmängden '12a4' är inte ett heltal"]


# --------------------------------------------------------------------------- errors

def test_unknown_code_line_number():
    lines = simple_file()
    lines[6] = "0199;1234"
    probs, messages = problems("\n".join(lines).encode())
    assert messages[0] == "Rad 7: okänd kommunkod 0199"
    assert probs[0].line == 7 and probs[0].key == "unknown_code" and probs[0].params["code"] == "0199"


def test_not_an_integer_line_number():
    lines = simple_file()
    lines[11] = lines[11].split(";")[0] + ";12a4"
    probs, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 12: folkmängden '12a4' är inte ett heltal"]


@pytest.mark.parametrize("cell", ["12,5", "1 23", "12.34", "1e4", "abc"])
def test_other_non_integers(cell):
    lines = simple_file()
    lines[3] = lines[3].split(";")[0] + ";" + cell
    _, messages = problems("\n".join(lines).encode())
    assert messages == [f"Rad 4: folkmängden '{cell}' är inte ett heltal"]


def test_negative_and_missing_values():
    lines = simple_file()
    c4, c5, c6 = (lines[i].split(";")[0] for i in (3, 4, 5))
    lines[3] = f"{c4};-12"
    lines[4] = f"{c5};.."
    lines[5] = f"{c6};"
    _, messages = problems("\n".join(lines).encode())
    assert messages == [
        "Rad 4: folkmängden '-12' är negativ",
        f"Rad 5: folkmängd saknas för kommun {c5} år 2019",
        f"Rad 6: folkmängd saknas för kommun {c6} år 2019",
    ]


def test_duplicate_code_in_year():
    lines = ["region;år;folkmängd", f"0114 Upplands Väsby;2020;{POP[2019]['0114']}", "0114;2020;5"]
    lines += [f"{c};2020;{POP[2019][c]}" for c in CODES if c != "0114"]
    probs, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 3: kommunkod 0114 förekommer två gånger för år 2020"]
    assert probs[0].params["first_line"] == 2


def test_missing_kommuner_lists_five_and_count():
    lines = simple_file()
    dropped = {"0114", "0115", "0117"}
    kept = [l for l in lines if l.split(";")[0] not in dropped]
    _, messages = problems("\n".join(kept).encode(), KOMMUNER)
    assert messages == ["Filen saknar kommuner för år 2019: 0114 Upplands Väsby, 0115 Vallentuna, 0117 Österåker (3 st)"]
    _, messages = problems("\n".join(lines[:11]).encode(), KOMMUNER)  # header + 10 kommuner
    listed = ", ".join(f"{c} {KOMMUNER[c]}" for c in CODES[10:15])
    assert messages == [f"Filen saknar kommuner för år 2019: {listed}, … (280 st)"]
    # With only a set of codes the codes are listed.
    _, messages = problems("\n".join(kept).encode(), KNOWN)
    assert messages == ["Filen saknar kommuner för år 2019: 0114, 0115, 0117 (3 st)"]


def test_every_problem_is_reported_and_nothing_partial_is_returned():
    lines = simple_file()
    lines[2] = "0199;1"
    lines[5] = lines[5].split(";")[0] + ";x"
    lines.append(lines[9])  # duplicate at the end
    probs, messages = problems("\n".join(lines).encode(), KOMMUNER)
    assert [p.line for p in probs] == [3, 6, len(lines), None]
    assert [p.key for p in probs] == ["unknown_code", "not_integer", "duplicate", "missing_kommuner"]
    replaced = CODES[1]  # the kommun whose line became 0199
    assert messages[-1] == f"Filen saknar kommuner för år 2019: {replaced} {KOMMUNER[replaced]} (1 st)"


def test_empty_and_blank_files():
    for data in (b"", b"\n\n", b" ;;\r\n;;\r\n", "\ufeff".encode("utf-8")):
        _, messages = problems(data)
        assert messages == ["Filen är tom"]


def test_header_only_file_has_no_data():
    _, messages = problems(b"region;2019\n\nK\xe4lla: SCB\n")
    assert messages == ["Filen innehåller inga rader med kommuner"]


def test_no_header_found():
    _, messages = problems(b"Detta ar inte en befolkningsfil\nbara text\n")
    assert messages == ["Filen saknar en rubrikrad med kolumner för kommun och folkmängd"]


def test_excel_file_is_rejected_with_advice():
    _, messages = problems(b"PK\x03\x04\x14\x00\x06\x00rest-of-xlsx")
    assert messages[0].startswith("Filen verkar vara en Excel-fil")


def test_text_between_data_lines_is_an_error_but_footnotes_are_skipped():
    lines = simple_file()
    lines.insert(100, "Se fotnot 1")
    lines += ["", "Källa: SCB"]
    _, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 101: oväntad textrad bland kommunraderna: 'Se fotnot 1'"]


def test_data_looking_lines_are_never_skipped():
    lines = simple_file()
    lines.append("0114")  # a truncated data line at the end, not a footnote
    _, messages = problems("\n".join(lines).encode())
    assert messages == [f"Rad {len(lines)}: raden har 1 fält men rubrikraden har 2"]
    lines[-1] = "Upplands Väsby;abc"  # two cells in a semicolon file: checked as data
    _, messages = problems("\n".join(lines).encode())
    assert messages == [f"Rad {len(lines)}: kan inte tolka 'Upplands Väsby' som en kommunkod"]


def test_bad_year_in_long_file():
    lines = ["region;år;folkmängd"] + [f"{c};2019;{POP[2019][c]}" for c in CODES]
    lines[4] = lines[4].replace(";2019;", ";tjugo;")
    _, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 5: 'tjugo' är inte ett årtal"]


def test_duplicate_year_columns():
    lines = ["region;2019;Folkmängd 2019"] + [f"{c};{POP[2019][c]};{POP[2019][c]}" for c in CODES]
    _, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 1: år 2019 förekommer i flera kolumner"]


def test_aggregates_are_ignored_but_other_short_codes_are_not_kommuner():
    lines = simple_file()
    lines.insert(1, "00;10327589")
    lines.insert(2, "01;2377081")
    lines.insert(3, "Riket;10327589")
    lines.insert(4, "Stockholms län;2377081")
    result = parse("\n".join(lines).encode())
    assert result.aggregate_lines == [2, 3, 4, 5]
    lines.insert(5, "99999;5")
    _, messages = problems("\n".join(lines).encode())
    assert messages == ["Rad 6: kan inte tolka '99999' som en kommunkod"]


# --------------------------------------------------------------------------- messages

def test_describe_translates_template_then_formats():
    problem = scb.Problem("unknown_code", 7, {"code": "0199"})
    assert scb.describe(problem) == "Rad 7: okänd kommunkod 0199"
    english = {scb.MESSAGES["unknown_code"]: "Line %(line)s: unknown municipality code %(code)s"}
    assert scb.describe(problem, lambda s: english.get(s, s)) == "Line 7: unknown municipality code 0199"
    error = scb.PopulationImportError([problem])
    assert error.messages(lambda s: english.get(s, s)) == ["Line 7: unknown municipality code 0199"]
    assert str(error) == "Rad 7: okänd kommunkod 0199"


def test_message_templates_are_literal_strings_marked_for_extraction():
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    marked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
            assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
            marked.add(node.args[0].value)
    assert set(scb.MESSAGES.values()) <= marked
    for template in scb.MESSAGES.values():
        template % {k: 1 for k in ("line", "code", "value", "year", "text", "found", "expected", "kommuner", "count")}


def test_module_has_no_flask_or_sqlalchemy_import():
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"flask", "flask_babel", "sqlalchemy", "flask_sqlalchemy"}
    assert imported <= {"__future__", "codecs", "csv", "re", "collections", "dataclasses"}
