"""What the report says, in order: the cover, the summary and the numbered sections as plain blocks.

The PDF (pdf.py) and the accessible HTML (templates/reports/_body.html) both lay out the same
Document built here from the figures dict (figures.py) and the staff's narratives, so the two
never say different things. Blocks: Para, Subheading, Table (caption, header, rows; numbers
right-aligned), Figure (a chart or the map, with its caption, a description and the table that is
its text alternative), Quotes (passages with their source) and Text (a staff narrative).
The template reaches the Document through the Jinja globals registered at the end of this module.

Tables and figures are numbered through the report ("Tabell 3", "Figur 2"); every count that is
part of a whole is printed with its denominator ("8 av 10").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..i18n import _
from . import bp
from .figures import ROUNDS, locale, num, pct, share
from .models import FINAL, NARRATIVE_SECTIONS
from .wording import sentence, words


def of(part, whole) -> str:
    """ "8 av 10" """
    return _("%(part)s av %(whole)s", part=num(part), whole=num(whole))


def of_pct(part, whole) -> str:
    """ "8 av 10 (80 %)"; without a denominator just "0 av 0". """
    text = of(part, whole)
    return f"{text} ({pct(share(part, whole))})" if whole else text


def passages(n: int) -> str:
    """ "1 passage", "12 passager" """
    from flask_babel import ngettext
    return ngettext("%(count)s passage", "%(count)s passager", n, count=num(n))


def span(start: str, end: str) -> str:
    return f"{start}\u2013{end}"


# --------------------------------------------------------------------------- blocks

@dataclass
class Para:
    text: str
    style: str = "body"     # body | small
    kind: str = "para"


@dataclass
class Subheading:
    text: str
    anchor: str
    kind: str = "subheading"
    level: int = 2                    # 2 under a section's heading; 3 under a numbered subsection (2.1 …)


@dataclass
class Table:
    number: int
    caption: str
    head: list[str]
    rows: list[list[Any]]
    weights: list[float]              # relative column widths (the PDF's)
    numeric: tuple[int, ...] = ()     # right-aligned columns
    total: bool = False               # the last row sums the others
    row_headers: bool = True          # the first cell of a row names it (th scope=row)
    kind: str = "table"

    @property
    def label(self) -> str:
        return _("Tabell %(n)s.", n=self.number) + " " + self.caption


@dataclass
class Figure:
    number: int
    chart: str                        # progress | themes | map
    caption: str
    desc: str                         # what the picture shows, in words
    alternative: Table | None
    labels: dict[str, str] = field(default_factory=dict)
    kind: str = "figure"

    @property
    def label(self) -> str:
        return _("Figur %(n)s.", n=self.number) + " " + self.caption


@dataclass
class Quotes:
    items: list[dict[str, Any]]
    quote: bool                       # spoken quotes (in quotation marks) or described examples
    kind: str = "quotes"


@dataclass
class Text:
    """A staff narrative: paragraphs, or the note that nothing was written."""
    paragraphs: list[str]
    empty: str
    kind: str = "text"


@dataclass
class Section:
    number: int | str                 # 1, 2, ... or "Bilaga 1" for an appendix
    title: str
    anchor: str
    blocks: list = field(default_factory=list)
    new_page: bool = False            # the PDF starts the section on a new page (the final report's chapters)


@dataclass
class Document:
    kind: str
    lang: str
    title: str
    period: str
    period_span: str
    assignment: str
    recipient: str
    date: str
    draft: bool
    status_line: str
    facts: list[tuple[str, str]]
    summary: list[str]
    sections: list[Section]
    footer: str


def paragraphs(text: str | None) -> list[str]:
    """Free text as paragraphs: a blank line starts a new one."""
    return [p.strip() for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if p.strip()]


class _Numbers:
    def __init__(self):
        self.tables = 0
        self.figures = 0

    def table(self) -> int:
        self.tables += 1
        return self.tables

    def figure(self) -> int:
        self.figures += 1
        return self.figures


# --------------------------------------------------------------------------- the sections

def _visits(d: dict, n: _Numbers, final: bool) -> list:
    v = d["visits"]
    w = words(d["period"])
    blocks: list = [Para(_(
        "Planen: varje aktiv besöksplats i det antagna urvalet ska besökas en gång i varje omgång, alltså "
        "%(target)s besök per omgång. Schemat: besök som inte är inställda och har ett datum till och med "
        "periodens slut räknas som planerade. Genomförda är besök med status genomförd och ett datum inom "
        "perioden.", target=num(v["target"])))]
    if final:
        head = [_("Omgång"), _("Målet"), _("Planerade besök"), _("Genomförda besök"), _("Andel av målet")]
        keys = ("target", "planned_to_date", "held_to_date")
        weights = [2, 1, 1, 1, 1.2]
    else:
        head = [_("Omgång"), _("Målet"), _("Planerade under %(the_period)s", the_period=w.the_period),
                _("Genomförda under %(the_period)s", the_period=w.the_period),
                _("Planerade till och med %(the_period)s", the_period=w.the_period),
                _("Genomförda till och med %(the_period)s", the_period=w.the_period), _("Andel av målet")]
        keys = ("target", "planned_period", "held_period", "planned_to_date", "held_to_date")
        weights = [1.65, 0.75, 1.1, 1.1, 1.1, 1.1, 0.95]
    rows = [[_("Omgång %(n)s", n=r["round"]), *[num(r[k]) for k in keys], pct(r["share_held"])] for r in v["period"]]
    rows.append([_("Båda omgångarna"), *[num(v["total"][k]) for k in keys], pct(v["total"]["share_held"])])
    blocks.append(Table(n.table(), _("Besök per omgång mot planen. Andel av målet: genomförda till och med "
                                     "periodens slut av målet."), head, rows, weights,
                        numeric=tuple(range(1, len(head))), total=True))

    prog = v["progress"]
    months = prog["months"]
    in_words = " ".join(_("Omgång %(n)s: %(held)s av %(target)s genomförda vid periodens slut, %(planned)s planerade.",
                          n=r["round"], held=num(r["held_to_date"]), target=num(r["target"]),
                          planned=num(r["planned_to_date"])) for r in v["period"])
    alt_rows = [[m, *[num(s[key][i]) if s[key][i] is not None else "–" for s in prog["series"]
                      for key in ("planned", "held")]] for i, m in enumerate(months)]
    alt_head = [_("Månad")] + [label for s in prog["series"] for label in (
        _("Omgång %(n)s planerade", n=s["round"]), _("Omgång %(n)s genomförda", n=s["round"]))]
    blocks.append(Figure(
        n.figure(), "progress",
        _("Besök per månad, sammanlagt: planerade enligt schemat (streckat) och genomförda (heldraget) i varje "
          "omgång. Målet är %(target)s besök per omgång (prickat).", target=num(v["target"])),
        _("Linjediagram per månad från %(first)s till %(last)s. %(summary)s", first=months[0] if months else "–",
          last=months[-1] if months else "–", summary=in_words),
        Table(0, _("Besök per månad, sammanlagt (diagrammets värden)"), alt_head, alt_rows, [1.2, 1, 1, 1, 1],
              numeric=(1, 2, 3, 4)),
        labels={"planned": _("Omgång %(n)s planerade"), "held": _("Omgång %(n)s genomförda"),
                "target": _("Mål: %(n)s per omgång", n=num(v["target"])), "period_end": _("Periodens slut")}))

    def breakdown(rows_in, name, first_head, caption):
        head = [first_head, _("Besöksplatser")]
        if not final:
            head.append(_("Genomförda under %(the_period)s", the_period=w.the_period))
        head += [_("Omgång 1 genomförda"), _("Omgång 2 genomförda"), _("Planerade till och med periodens slut")]
        rows = []
        for row in rows_in:
            cells = [name(row), num(row["sites"])]
            if not final:
                cells.append(num(row["held_period"]))
            cells += [of(rr["held"], row["sites"]) for rr in row["rounds"]]
            cells.append(of(sum(rr["planned"] for rr in row["rounds"]), 2 * row["sites"]))
            rows.append(cells)
        weights = [1.5, 1.05] + ([1] if not final else []) + [1, 1, 1.2]
        return Table(n.table(), caption, head, rows, weights, numeric=tuple(range(1, len(head))))

    blocks.append(breakdown(v["by_group"], lambda r: _("Grupp %(g)s", g=r["group"]), _("ÖJ-grupp"),
                            _("Besök per ÖJ-grupp (Öppna jämförelsers befolkningsgrupper). Genomförda i en omgång av "
                              "gruppens besöksplatser; planerade av två besök per plats.")))
    blocks.append(breakdown(v["by_lan"], lambda r: r["lan"], _("Län"), _("Besök per län.")))
    return blocks


def _map_and_not_visited(d: dict, n: _Numbers, final: bool) -> list:
    m = d["map"]
    end = d["period"]["end"]
    blocks: list = []
    alt = Table(0, _("Besöksplatsernas läge vid periodens slut"),
                [_("Besöksplats"), _("Län"), _("ÖJ-grupp"), _("Läge"), _("Omgång 1"), _("Omgång 2")],
                [[s["site"], s["lan"], num(s["group"]), s["label"],
                  *[next((f"{vv['date'] or _('inget datum')}, {vv['status_label']}" for vv in s["visits"]
                          if vv["round"] == r), "–") for r in ROUNDS]] for s in m["sites"]],
                [1.6, 1.4, 0.7, 1.6, 1.5, 1.5])
    legend = "; ".join(f"{e['label']}: {num(e['count'])}" for e in m["legend"])
    blocks.append(Figure(
        n.figure(), "map",
        _("Besöksplatserna på Sveriges karta, läget vid periodens slut (%(end)s). En kommun med flera besöksplatser "
          "visas med den plats som har kommit kortast. Varje läge har en egen symbol.", end=end),
        _("Karta över Sveriges kommuner. Besöksplatser per läge: %(legend)s.", legend=legend),
        alt, labels={"legend": _("Läge vid periodens slut"), "outside": _("Kommun utan besöksplats"),
                     "note": _("Symbolen sitter mitt i kommunen.")}))
    if not d["not_visited"]:
        blocks.append(Para(_("Ingen besöksomgång hade börjat vid periodens slut.")))
    for nv in d["not_visited"]:
        blocks.append(Subheading(_("Omgång %(r)s: %(n)s besöksplatser har inte haft sitt besök", r=nv["round"],
                                   n=of(nv["count"], nv["of"])), f"rapport-ej-besokta-{nv['round']}"))
        if not nv["count"]:
            blocks.append(Para(_("Alla besöksplatser har haft sitt besök i omgång %(r)s.", r=nv["round"])))
            continue
        blocks.append(Table(
            n.table(), _("Besöksplatser utan genomfört besök i omgång %(r)s vid periodens slut, med besökets datum "
                         "och status i dag.", r=nv["round"]),
            [_("Besöksplats"), _("Län"), _("ÖJ-grupp"), _("Datum"), _("Status")],
            [[s["site"], s["lan"], num(s["group"]), s["date"] or _("inget datum"), s["status_label"]]
             for s in nv["sites"]], [2, 1.8, 0.8, 1, 1.1], numeric=(2,)))
    return blocks


def _declines(d: dict, n: _Numbers, final: bool) -> list:
    dec = d["declines"]
    w = words(d["period"])
    if not dec["to_date"]:
        return [Para(_("Ingen besöksplats har avböjt till och med periodens slut."))]
    text = _("Besöksplatser som har avböjt till och med periodens slut: %(total)s; %(replaced)s av %(total)s har fått "
             "en ersättare ur reservlistan.", total=num(dec["to_date"]), replaced=num(dec["replaced"]))
    if not final:
        text = _("Avböjanden under %(the_period)s: %(n)s.", the_period=w.the_period, n=num(dec["period"])) + " " + text
    head = [_("Datum"), _("Besöksplats som avböjde"), _("ÖJ-grupp"), _("Län"), _("Ersattes av")]
    if not final:
        head.append(_("Under %(the_period)s", the_period=w.the_period))
    rows = [[r["date"], r["site"], num(r["group"]), r["lan"], r["replacement"] or _("ingen ersättare"),
             *([_("ja") if r["in_period"] else _("nej")] if not final else [])] for r in dec["rows"]]
    return [Para(text), Table(n.table(), _("Avböjanden och ersättare."), head, rows,
                              [1, 1.8, 0.8, 1.5, 1.8] + ([0.9] if not final else []), numeric=(2,),
                              row_headers=False)]


def _upcoming(d: dict, n: _Numbers) -> list:
    up = d["upcoming"]
    p = up["period"]
    blocks: list = [Para(_("%(label)s (%(span)s): %(n)s besök är inplanerade; %(booked)s av dem är bokade med "
                           "kommunen (inbjudan skickad eller bekräftad).", label=p["label"],
                           span=span(p["start"], p["end"]), n=num(up["count"]), booked=num(up["booked"])))]
    if up["rows"]:
        blocks.append(Table(n.table(), _("Besök under %(next_period)s.", next_period=words(d["period"]).next_period),
                            [_("Datum"), _("Besöksplats"), _("Län"), _("Omgång"), _("Status")],
                            [[r["date"], r["site"], r["lan"], num(r["round"]), r["status_label"]] for r in up["rows"]],
                            [1, 2, 1.8, 0.7, 1], numeric=(3,), row_headers=False))
    return blocks


def _tally_cells(t: dict) -> list[str]:
    return [num(t["total"]), of_pct(t["done"], t["total"]), of_pct(t["decided"], t["total"]),
            of_pct(t["decided_done"], t["decided"])]


def _plans(d: dict, n: _Numbers) -> list:
    p = d["plans"]
    o = p["overall"]
    blocks: list = [Para(_(
        "Läget den %(as_of)s. %(plans)s besöksplatser har en handlingsplan (%(visited)s har haft sitt första besök "
        "vid periodens slut). En aktivitet räknas som beslutad när kommunen har fattat beslut om den; aktiviteter "
        "som aldrig beslutas är där mål oftast inte nås. Andelarna räknas på alla aktiviteter, även avbrutna.",
        as_of=p["as_of"], plans=of(p["with_plan"], p["sites"]), visited=of(p["visited"], p["sites"])))]
    if not o["total"]:
        blocks.append(Para(_("Handlingsplanerna har inga aktiviteter än.")))
        return blocks
    rows = [[a["area"], num(a["goals"]), *_tally_cells(a["tally"])] for a in p["by_area"]]
    rows.append([_("Alla målområden"), num(sum(a["goals"] for a in p["by_area"])), *_tally_cells(o)])
    blocks.append(Table(n.table(), _("Handlingsplanernas aktiviteter per målområde (målets tema)."),
                        [_("Målområde"), _("Mål"), _("Aktiviteter"), _("Genomförda"), _("Beslutade"),
                         _("Genomförda av beslutade")], rows, [1.75, 0.5, 0.9, 1.5, 1.5, 1.5],
                        numeric=(1, 2, 3, 4, 5), total=True))
    return blocks


def _measurement(d: dict, n: _Numbers, final: bool) -> list:
    tables = d["measurement"]["tables"]
    if not tables:
        return [Para(_("Inga svar på förmätningen har kommit in till och med periodens slut."))]
    national = _national(d, n)  # first: its tables come first and are numbered so
    blocks: list = [Para(_("Svar som kommunerna har skickat in till och med %(end)s. Andelarna räknas på dem som "
                           "svarade på frågan; frågor som hoppades över enligt formulärets regler räknas för sig och "
                           "inte som obesvarade. Fritextsvar redovisas inte.", end=d["measurement"]["until"]))]
    for t in tables:
        where = _("%(name)s, omgång %(r)s", name=t["questionnaire"], r=t["round"]) if t["round"] \
            else t["questionnaire"]
        caption = f"{where}: {t['position']}. {t['question']}"
        facts = _("Svarade: %(answered)s. Hoppade över enligt regel: %(skipped)s.",
                  answered=of(t["answered"], t["asked"]), skipped=num(t["skipped"]))
        if t["rows"]:
            blocks.append(Table(n.table(), sentence(caption) + " " + facts, [_("Svar"), _("Antal"), _("Andel av de svarande")],
                                [[r["label"], num(r["count"]), pct(r["share"])] for r in t["rows"]],
                                [3, 1, 1.3], numeric=(1, 2)))
        else:
            extra = ""
            if t["mean"] is not None:
                extra = " " + _("Medelvärde %(mean)s, median %(median)s.", mean=_dec(t["mean"]),
                                median=_dec(t["median"]))
            blocks.append(Para(f"{sentence(caption)} {facts}{extra}"))
    if final:
        blocks += _measurement_rounds(tables, n)
    return national + blocks


def _dec_or_dash(x: float | None) -> str:
    return "–" if x is None else _dec(x)


def _share_cell(x: float | None) -> str:
    return "–" if x is None else pct(x)


def _national(d: dict, n: _Numbers) -> list:
    """The design-weighted national figures (data["national"]) and the method in words. Reports issued before
    the key existed lack it."""
    nat = d.get("national")
    if not nat or not nat["estimates"]:
        return []
    blocks: list = [Subheading(_("Vägda riksskattningar"), "rapport-riksskattningar"),
                    Para(_("Siffror som gäller hela landet är vägda med urvalsdesignens vikter (1/π) och har ett "
                           "95-procentigt konfidensintervall (KI). Bredvid står den ovägda andelen bland de besökta "
                           "kommuner som svarade. Hur det räknas står sist i avsnittet."))]
    too_few = _("För få svar (n < %(n)s) för en riksskattning", n=nat["min_base"])
    for e in nat["estimates"]:
        where = _("%(name)s, omgång %(r)s", name=e["questionnaire"], r=e["round"]) if e["round"] \
            else e["questionnaire"]
        for q in e["questions"]:
            caption = sentence(f"{where}: {q['position']}. {q['text']}") + " " + _("Vägt och ovägt, %(n)s kommuner svarade.",
                                                                    n=num(q["answered"]))
            short = f"n < {nat['min_base']}"
            if q["kind"] in ("en", "flera") and q["options"]:
                if any(o["suppressed"] for o in q["options"]):
                    caption += " " + too_few + "."
                rows = [[o["label"], "–", short, "–"] if o["suppressed"] else
                        [o["label"], _share_cell(o["unweighted_share"]), _share_cell(o["weighted_share"]),
                         f"{_share_cell(o['ci95'][0])}–{_share_cell(o['ci95'][1])}"] for o in q["options"]]
                blocks.append(Table(n.table(), caption, [_("Svar"), _("Ovägd andel"), _("Vägd andel"), _("95 % KI")],
                                    rows, [2.6, 1, 1, 1.5], numeric=(1, 2, 3)))
            elif q["kind"] == "tal":
                if q["suppressed"]:
                    caption += " " + too_few + "."
                row = [_("Medelvärde"), "–", short, "–"] if q["suppressed"] else \
                    [_("Medelvärde"), _dec_or_dash(q["unweighted_mean"]), _dec_or_dash(q["weighted_mean"]),
                     f"{_dec_or_dash(q['ci95'][0])}–{_dec_or_dash(q['ci95'][1])}"]
                blocks.append(Table(n.table(), caption, [_("Mått"), _("Ovägt"), _("Vägt"), _("95 % KI")],
                                    [row], [2.6, 1, 1, 1.5], numeric=(1, 2, 3)))
    blocks.append(Subheading(_("Så räknas riksskattningarna"), "rapport-riksskattningar-metod"))
    blocks += [Para(p) for p in nat["method"]]
    blocks.append(Subheading(_("Svar per besöksplats (ovägda)"), "rapport-matning-ovagda"))
    return blocks


def _dec(x) -> str:
    from ..formatting import fmt_dec
    return fmt_dec(x, 1) if locale().startswith("sv") else f"{x:.1f}"


def _measurement_rounds(tables: list[dict], n: _Numbers) -> list:
    """Questions answered in both rounds, side by side (the same questionnaire and position)."""
    by_key: dict[tuple, dict[int, dict]] = {}
    for t in tables:
        if t["round"] in ROUNDS and t["rows"]:
            by_key.setdefault((t["questionnaire"], t["position"]), {})[t["round"]] = t
    blocks: list = []
    for (name, position), rounds in by_key.items():
        if len(rounds) < 2:
            continue
        if not blocks:
            blocks.append(Subheading(_("Förmätningen: omgång 1 jämfört med omgång 2"), "rapport-matning-omgangar"))
        one, two = rounds[1], rounds[2]
        counts2 = {r["label"]: r for r in two["rows"]}
        labels = [r["label"] for r in one["rows"]] + [r["label"] for r in two["rows"] if r["label"] not in
                                                      {x["label"] for x in one["rows"]}]
        counts1 = {r["label"]: r for r in one["rows"]}
        rows = [[label, *[f"{num(c[label]['count'])} ({pct(c[label]['share'])})" if label in c else "–"
                          for c in (counts1, counts2)]] for label in labels]
        rows.append([_("Svarade"), of(one["answered"], one["asked"]), of(two["answered"], two["asked"])])
        blocks.append(Table(n.table(), f"{name}: {position}. {one['question']}",
                            [_("Svar"), _("Omgång 1"), _("Omgång 2")], rows, [3, 1.3, 1.3], numeric=(1, 2),
                            total=True))
    return blocks


def _theme_table(rows: list[dict], notes: dict, number: int, caption: str) -> Table:
    head = [_("Tema"), _("Besöksanteckningar"), _("Passager"), _("Anteckningar från dialogforum")]
    return Table(number, caption, head,
                 [[r["theme"], of_pct(r["notes"], notes["visits"]), num(r["passages"]),
                   of(r["event_notes"], notes["events"])] for r in rows],
                 [2.6, 1.4, 0.8, 1.4], numeric=(1, 2, 3))


FLAG_ORDER = (("gott_exempel", "rapport-goda-exempel"), ("hinder", "rapport-hinder"),
              ("nationell_fraga", "rapport-nationella-fragor"), ("citat", "rapport-citat"))


def _dialogue(d: dict, n: _Numbers, final: bool) -> list:
    dl = d["dialogue"]
    notes = dl["notes"]
    w = words(d["period"])
    if final:
        intro = _("Anteckningar finns från %(v)s besök och %(e)s dialogforum under uppdraget.",
                  v=num(notes["to_date"]["visits"]), e=num(notes["to_date"]["events"]))
    else:
        intro = _("Under %(the_period)s finns anteckningar från %(v)s besök och %(e)s dialogforum; till och med "
                  "%(period_end)s från %(vt)s besök och %(et)s dialogforum.", the_period=w.the_period,
                  period_end=w.period_end, v=num(notes["period"]["visits"]),
                  e=num(notes["period"]["events"]), vt=num(notes["to_date"]["visits"]),
                  et=num(notes["to_date"]["events"]))
    blocks: list = [Para(intro + " " + _(
        "Ett tema räknas en gång i varje anteckning där det förekommer, av antalet anteckningar; passagerna (stycken "
        "i anteckningarna) räknas för sig. Anteckningar från dialogforum (nationell dialog, hearingar, "
        "rundabordssamtal, samråd) redovisas i en egen kolumn."))]
    if not final:
        if dl["themes_period"]:
            blocks.append(_theme_table(dl["themes_period"], notes["period"], n.table(),
                                       _("De vanligaste temana under %(the_period)s.", the_period=w.the_period)))
        else:
            blocks.append(Para(_("Inga anteckningar med teman under %(the_period)s.", the_period=w.the_period)))
    if dl["themes_to_date"]:
        blocks.append(_theme_table(dl["themes_to_date"], notes["to_date"], n.table(),
                                   _("De vanligaste temana under hela uppdraget.") if final
                                   else _("De vanligaste temana till och med %(period_end)s.",
                                          period_end=w.period_end)))
    bg = dl["by_group"]
    if bg["themes"]:
        in_words = " ".join(f"{t['theme']}: " + ", ".join(
            _("grupp %(g)s %(v)s", g=g, v=pct(share(c, nn)))
            for g, c, nn in zip(bg["groups"], t["counts"], bg["notes"])) + "." for t in bg["themes"])
        blocks.append(Figure(
            n.figure(), "themes",
            _("De vanligaste temana per ÖJ-grupp till och med periodens slut: andel av gruppens besöksanteckningar där "
              "temat förekommer."),
            _("Liggande stapeldiagram, en kolumn per ÖJ-grupp och en rad per tema. %(rows)s", rows=in_words),
            Table(0, _("Andel av besöksanteckningarna per ÖJ-grupp där temat förekommer"),
                  [_("Tema")] + [_("Grupp %(g)s", g=g) for g in bg["groups"]],
                  [[t["theme"], *[of_pct(c, nn) for c, nn in zip(t["counts"], bg["notes"])]] for t in bg["themes"]],
                  [2.2] + [1] * len(bg["groups"]), numeric=tuple(range(1, len(bg["groups"]) + 1))),
            labels={"group": _("Grupp %(g)s"), "notes": _("anteckningar: %(n)s")}))
    headings = {"gott_exempel": _("Goda exempel"), "hinder": _("Hinder"),
                "nationell_fraga": _("Frågor för nationell nivå"), "citat": _("Citat")}
    span_key = "to_date" if final else "period"
    for flag, anchor in FLAG_ORDER:
        f = dl["flags"][flag]
        c = f[span_key]
        blocks.append(Subheading(headings[flag], anchor))
        text = _("%(passages)s i %(n)s av %(notes)s besöksanteckningar och %(events)s från dialogforum.",
                 passages=passages(c["passages"]), n=num(c["notes"]), notes=num(notes[span_key]["visits"]),
                 events=passages(c["event_passages"]))
        text = (_("Under uppdraget:") if final else _("Under %(the_period)s:", the_period=w.the_period)) + " " + text
        if not final:
            t = f["to_date"]
            text += " " + _("Till och med %(period_end)s: %(passages)s och %(events)s från dialogforum.",
                            period_end=w.period_end, passages=passages(t["passages"]),
                            events=passages(t["event_passages"]))
        if f["items"]:
            text += " " + _("Här visas högst %(n)s.", n=num(len(f["items"])))
        blocks.append(Para(text))
        if f["items"]:
            blocks.append(Quotes(f["items"], quote=flag == "citat"))
    blocks.append(Para(_("Citat och exempel anges utan kommunens namn, som ”en kommun i grupp 2”, om inte kansliet "
                         "har bedömt att namnet kan anges. Kommunens namn är då också borttaget ur texten. Långa "
                         "passager är förkortade (…)."), style="small"))
    return blocks


def _action_state(x: dict, as_of: str) -> str:
    if x["done_on"]:
        return _("klar %(day)s", day=x["done_on"])
    return _("försenad") if x["due"] < as_of else _("pågår")


def _avstamningar(d: dict, n: _Numbers) -> list:
    """The avstämningar held in the period, each with its actions and their outcome, then the actions of
    earlier avstämningar that were open when the period began."""
    av = d["avstamningar"]
    as_of = d["as_of"]
    if not av["held"] and not av["carried"]:
        return [Para(_("Inga avstämningar med statsrådet hölls under perioden, och inga åtgärder från tidigare "
                       "avstämningar var öppna när den började."))]
    head = [_("Åtgärd"), _("Klar senast"), _("Läge"), _("Utfall")]
    blocks: list = [Para(_("Åtgärderna som följde av avstämningarna med statsrådet, som de står den %(as_of)s. "
                           "Samordnarens kansli ansvarar för dem.", as_of=as_of))]
    if not av["held"]:
        blocks.append(Para(_("Inga avstämningar med statsrådet hölls under perioden.")))
    for a in av["held"]:
        blocks.append(Subheading(_("Avstämningen den %(day)s", day=a["held_on"]), f"rapport-avstamning-{a['held_on']}"))
        if a["report"]:
            blocks.append(Para(_("Rapport som diskuterades: %(report)s.", report=a["report"])))
        if not a["actions"]:
            blocks.append(Para(_("Avstämningen ledde inte till några åtgärder.")))
            continue
        blocks.append(Table(n.table(), _("Åtgärder efter avstämningen den %(day)s.", day=a["held_on"]), head,
                            [[x["title"], x["due"], _action_state(x, as_of), x["outcome"] or "–"]
                             for x in a["actions"]], [2.4, 1, 1, 2.6]))
    if av["carried"]:
        blocks.append(Subheading(_("Åtgärder från tidigare avstämningar"), "rapport-avstamningar-tidigare"))
        blocks.append(Table(n.table(), _("Åtgärder från tidigare avstämningar som var öppna när perioden började."),
                            [_("Åtgärd"), _("Avstämning"), *head[1:]],
                            [[x["title"], x["from"], x["due"], _action_state(x, as_of), x["outcome"] or "–"]
                             for x in av["carried"]], [2.2, 1, 1, 1, 2.4]))
    return blocks


def _comparison(d: dict, n: _Numbers) -> list:
    f = d["final"]
    rows = [[_("Grupp %(g)s", g=r["group"]), num(r["sites"]), *[of_pct(rr["held"], r["sites"]) for rr in r["rounds"]]]
            for r in f["by_group_round"]]
    total_sites = sum(r["sites"] for r in f["by_group_round"])
    rows.append([_("Alla grupper"), num(total_sites),
                 *[of_pct(sum(r["rounds"][i]["held"] for r in f["by_group_round"]), total_sites)
                   for i in range(len(ROUNDS))]])
    blocks: list = [Table(n.table(), _("Genomförda besök per ÖJ-grupp och omgång."),
                          [_("ÖJ-grupp"), _("Besöksplatser"), _("Omgång 1"), _("Omgång 2")], rows, [1.5, 1, 1.4, 1.4],
                          numeric=(1, 2, 3), total=True)]
    tr = f["themes_by_round"]
    if tr and tr["themes"]:
        blocks.append(Table(n.table(), _("De vanligaste temana i omgång 1 och omgång 2: besöksanteckningar där temat "
                                         "förekommer, av omgångens anteckningar."),
                            [_("Tema"), _("Omgång 1"), _("Omgång 2")],
                            [[t["theme"], *[of_pct(c, nn) for c, nn in zip(t["counts"], tr["notes"])]]
                             for t in tr["themes"]], [3, 1.4, 1.4], numeric=(1, 2)))
    return blocks


def _plans_by_site(d: dict, n: _Numbers) -> list:
    rows_in = d["final"]["plans_by_site"]
    if not rows_in:
        return [Para(_("Ingen besöksplats har en handlingsplan."))]
    rows = []
    for r in rows_in:
        t = r["tally"]
        followup = [x for x in (r["followup_summary"],
                                _("Mest angeläget: %(text)s", text=r["most_urgent"]) if r["most_urgent"] else "") if x]
        rows.append([r["site"], of_pct(t["done"], t["total"]), of_pct(t["decided"], t["total"]),
                     "\n".join(followup) or _("Ingen uppföljning skriven.")])
    return [Para(_("Läget den %(as_of)s: %(n)s besöksplatser har en handlingsplan.", as_of=d["plans"]["as_of"],
                   n=of(len(rows_in), d["plans"]["sites"]))),
            Table(n.table(), _("Handlingsplanernas uppföljning per besöksplats: genomförda och beslutade aktiviteter, "
                               "av planens aktiviteter, och uppföljningen i korthet."),
                  [_("Besöksplats"), _("Genomförda"), _("Beslutade"), _("Uppföljningen i korthet")], rows,
                  [1.3, 1.1, 1.1, 3.2], numeric=(1, 2))]


def _narratives(narratives: dict[str, str]) -> list:
    from .service import SECTION_TITLES
    blocks: list = []
    for section in NARRATIVE_SECTIONS:
        blocks.append(Subheading(str(SECTION_TITLES.get(section, section)), f"rapport-{section}"))
        blocks.append(Text(paragraphs(narratives.get(section)), _("Ingen text är skriven för detta avsnitt.")))
    return blocks


# --------------------------------------------------------------------------- the document

def document(data: dict[str, Any], narratives: dict[str, str] | None, status: dict[str, Any] | None) -> Document:
    from ..formatting import fmt_dt
    narratives = narratives or {}
    status = status or {"draft": True}
    final = data["kind"] == FINAL
    if final and (data.get("final") or {}).get("report") is not None:
        from .final import document as final_document  # the full final report (slutrapport)
        return final_document(data, narratives, status)
    p = data["period"]
    draft = bool(status.get("draft")) or "version" not in status
    w = words(p)
    title = w.title
    if draft:
        day = fmt_dt(_parse(data["generated_at"]), fmt="%Y-%m-%d")
        status_line = _("Utkast, inte utfärdat. Siffrorna är framräknade %(at)s och ändras när uppgifterna ändras.",
                        at=fmt_dt(_parse(data["generated_at"])))
    else:
        day = fmt_dt(_parse(status["issued_at"]), fmt="%Y-%m-%d")
        status_line = _("Version %(n)s, utfärdad %(at)s av %(who)s.", n=status["version"],
                        at=fmt_dt(_parse(status["issued_at"])), who=status.get("issued_by") or "–")
    sample = data["sample"]
    facts = [(_("Period"), f"{p['label']} ({span(p['start'], p['end'])})"), (_("Datum"), day),
             (_("Status"), status_line)]
    if not draft and status.get("comment"):
        facts.append((_("Ändringar i denna version"), status["comment"]))
    facts.append((_("Underlag"), _("Besöken räknas till och med periodens slut (%(end)s). Handlingsplaner, bokningar "
                                   "och status visas som de är %(as_of)s.", end=p["end"], as_of=data["as_of"])))
    if sample:
        facts.append((_("Urval"), _("%(sites)s besöksplatser i %(kommuner)s kommuner (referensår %(year)s).",
                                    sites=num(sample["sites"]), kommuner=num(sample["kommuner"]),
                                    year=sample["reference_year"])))

    n = _Numbers()
    parts: list[tuple[str, str, list]] = []
    if sample is None:
        parts.append((_("Besök"), "rapport-besok", [Para(_("Inget urval av besöksplatser är antaget än."))]))
    else:
        parts.append((_("Besök enligt plan"), "rapport-besok", _visits(data, n, final)))
        parts.append((_("Besöksplatser som inte har besökts"), "rapport-ej-besokta",
                      _map_and_not_visited(data, n, final)))
        parts.append((_("Avböjanden och ersättare"), "rapport-avbojanden", _declines(data, n, final)))
        if data["upcoming"] is not None:
            parts.append((_("Besök under %(next_period)s", next_period=w.next_period), "rapport-kommande",
                          _upcoming(data, n)))
        parts.append((_("Handlingsplaner"), "rapport-handlingsplaner", _plans(data, n)))
    parts.append((_("Förmätning före besöken"), "rapport-matning", _measurement(data, n, final)))
    parts.append((_("Vad dialogerna visade"), "rapport-dialoger", _dialogue(data, n, final)))
    if final and sample is not None:
        parts.append((_("Omgång 1 jämfört med omgång 2"), "rapport-omgangar", _comparison(data, n)))
        parts.append((_("Handlingsplanernas uppföljning per besöksplats"), "rapport-uppfoljning",
                      _plans_by_site(data, n)))
    parts.append((_("Iakttagelser, analys och förslag till åtgärder"), "rapport-bedomning", _narratives(narratives)))
    if "avstamningar" in data:  # reports issued before the avstämningar were logged lack the key
        parts.append((_("Avstämningar med statsrådet"), "rapport-avstamningar", _avstamningar(data, n)))
    sections = [Section(i, t, a, b) for i, (t, a, b) in enumerate(parts, start=1)]

    footer = f"{title}: {p['label']}"
    footer += " – " + (_("UTKAST") if draft else _("version %(n)s", n=status["version"]))
    return Document(kind=data["kind"], lang=locale().replace("_", "-"), title=title, period=p["label"],
                    period_span=span(p["start"], p["end"]), assignment=data["assignment"]["name"],
                    recipient=_("Rapport till statsrådet"), date=day, draft=draft, status_line=status_line,
                    facts=facts, summary=list(data["summary"]), sections=sections, footer=footer)


def _parse(iso: str):
    from datetime import datetime
    return datetime.fromisoformat(iso)


# --------------------------------------------------------------------------- charts for both media

def chart(figure: Figure, data: dict[str, Any]):
    """The drawing of a figure (charts.py), for the page and the PDF alike."""
    from . import charts

    if figure.chart == "progress":
        return charts.progress(data, figure.labels)
    if figure.chart == "themes":
        return charts.themes_by_group(data, figure.labels)
    return charts.sweden(data, figure.labels)


def drawing(figure: Figure, data: dict[str, Any]):
    """The reportlab Drawing of a figure, for the PDF and the Word file (reportlab is loaded here, by the
    first document printed: the page draws its SVG without it)."""
    from . import charts

    return charts.to_reportlab(chart(figure, data))


@bp.app_template_global("report_document")
def report_document(data, narratives=None, status=None) -> Document:
    return document(data, narratives, status)


QUOTE_MARKS = "”“„\"«»'’‘"


@bp.app_template_global("report_quoted")
def quoted(text: str) -> str:
    """A quote between Swedish quotation marks (”…”), once: marks the text already has around it are dropped.

    Plain words: a passage flagged as a quote may have been typed with its own quotation marks; the report
    adds its own, so without this it would print ””…””."""
    return f"”{text.strip().strip(QUOTE_MARKS).strip()}”"


@bp.app_template_global("report_item_meta")
def item_meta(item: dict[str, Any], quote: bool) -> str:
    """The line under a quoted passage: its source, round, themes and (for quotes) why it was chosen."""
    meta = [item["source"]]
    if item.get("round"):
        meta.append(_("omgång %(n)s", n=item["round"]))
    if item["themes"]:
        meta.append(_("Teman: %(themes)s", themes=", ".join(item["themes"])))
    if quote and item.get("reason"):
        meta.append(item["reason"])
    return " · ".join(meta)


@bp.app_template_global("report_draft_body")
def report_draft_body(data, narratives, status) -> Markup:
    """reports/_body.html for a draft: laid out once per cached figures dict and texts (drafts.py)."""
    from flask import render_template

    from . import drafts

    return drafts.body(data, narratives, status, lambda: render_template(
        "reports/_body.html", data=data, narratives=narratives, status=status))


@bp.app_template_global("report_figure_svg")
def report_figure_svg(figure: Figure, data) -> Markup:
    """The figure as inline SVG; a draft's figures dict from drafts.compute has its charts drawn once."""
    from . import charts, drafts

    key = (figure.chart, figure.number, str(figure.label), str(figure.desc), tuple(sorted(figure.labels.items())))
    return drafts.chart_svg(key, data, lambda: charts.svg(chart(figure, data), figure.label, figure.desc,
                                                          f"rapport-figur-{figure.number}"))
