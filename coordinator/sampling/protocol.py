"""The sample protocol (urvalsprotokoll) as a PDF, for paper and for the ministry's files.

Same content and order as templates/sampling/_protocol_body.html; the data comes from
service.protocol_context(). The strings are the Swedish source strings of the HTML version, so
an English user gets the English PDF from the same catalogue.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from .. import pdf
from ..i18n import _, locale
from ..pdf import esc
from .design import REFERENCES


def _num(n) -> str:
    if n is None:
        return "–"
    if locale().startswith("sv"):
        return pdf.fmt_int(n)
    from flask_babel import format_decimal
    return format_decimal(n)


def _dec(x, digits: int) -> str:
    if x is None:
        return "–"
    if locale().startswith("sv"):
        return pdf.fmt_dec(x, digits)
    from flask_babel import format_decimal
    return format_decimal(x, format="#,##0." + "0" * digits)


def _dt(dt) -> str:
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm") if has_app_context() \
        else "Europe/Stockholm"
    return pdf.fmt_dt(dt, tz=tz)


def _muted(text: str) -> str:
    return f'<font color="#555555">{text}</font>'


def render_pdf(ctx: dict) -> bytes:
    """The protocol of one sample; ctx is service.protocol_context(sample)."""
    st = pdf.styles()
    sample = ctx["sample"]
    drawn = ctx["drawn"]
    groups = ctx["groups"]
    story: list = []

    # --- title ---------------------------------------------------------------------------------
    story.append(Paragraph(esc(_("Urvalsprotokoll")), st["title"]))
    story.append(Paragraph(esc(sample.name), st["subtitle"]))

    # --- Urvalet i korthet ---------------------------------------------------------------------
    story.append(Paragraph(esc(_("Urvalet i korthet")), st["h1"]))
    facts: list[tuple[str, object]] = [
        (_("Metod"), _("Kontrollerat urval med spridning (dragning)") if drawn
         else _("Handplockat urval, prövat mot reglerna")),
        (_("Referensår"), f"{sample.reference_year} ({_('folkmängd 31 december')})"),
        (_("Urvalsram"), _("%(n)d kommuner i %(l)d län.", n=ctx["frame_size"], l=ctx["lan_count"])
         + " " + (sample.frame_source or "")),
    ]
    if drawn:
        facts.append((_("Slumpfrö"), str(sample.seed)))
    facts.append((_("Programvara"), ", ".join(f"{k} {v}" for k, v in (sample.software or {}).items())))
    created = _dt(sample.created_at)
    if sample.created_by:
        created += f" {_('av')} {sample.created_by.name}"
    facts.append((_("Skapat"), created))
    if sample.adopted:
        who = sample.adopted_by.name if sample.adopted_by else _("kommandoraden")
        status = Paragraph("<b>" + esc(_("Antaget %(when)s av %(who)s", when=_dt(sample.adopted_at), who=who))
                           + "</b>", st["cell"])
    else:
        status = Paragraph(f'<font color="#a4000f"><b>{esc(_("Utkast, inte antaget"))}</b></font>', st["cell"])
    facts.append((_("Status"), status))
    facts.append((_("Besöksplatser"), str(ctx["active_count"])))
    story.append(pdf.facts(facts))

    # --- Metod ---------------------------------------------------------------------------------
    if ctx.get("method_text"):
        story.append(Paragraph(esc(_("Metod")), st["h1"]))
        for para in ctx["method_text"].split("\n\n"):
            story.append(Paragraph(esc(para), st["body"]))
        story.append(Paragraph(esc(_("Referenser")), st["h3"]))
        for ref in REFERENCES:
            story.append(Paragraph(esc(ref), st["list"]))
            story.append(Spacer(0, 2))

    # --- Grupper och fördelning ----------------------------------------------------------------
    story.append(Paragraph(esc(_("Grupper och fördelning")), st["h1"]))
    story.append(Paragraph(esc(_("Öppna jämförelsers befolkningsgrupper år %(y)s", y=sample.reference_year)),
                           st["caption"]))
    rows = [[_("Grupp"), _("Invånare"), _("Kommuner i gruppen"), _("Ska väljas"), _("Valda kommuner"),
             _("Besöksplatser")]]
    for g in groups:
        band = _("minst %(n)s", n=_num(g["lower"])) if g["upper"] is None \
            else f"{_num(g['lower'])}–{_num(g['upper'])}"
        rows.append([str(g["number"]), band, str(g["size"]), _("alla") if g["take_all"] else str(g["allocation"]),
                     str(g["kommuner"]), str(g["sites"])])
    rows.append([_("Summa"), "", str(sum(g["size"] for g in groups)), "",
                 str(sum(g["kommuner"] for g in groups)), str(sum(g["sites"] for g in groups))])
    story.append(pdf.table(rows, pdf.widths(12, 30, 20, 16, 18, 18), align_right_cols=(2, 3, 4, 5),
                           total_row=True))

    # --- Besöksplatser -------------------------------------------------------------------------
    story.append(Paragraph(esc(_("Besöksplatser")), st["h1"]))
    story.append(Paragraph(esc(_("π är kommunens sannolikhet att komma med under designen; vikten är 1/π.")
                               if drawn else _("Handplockat urval: inga urvalssannolikheter.")), st["caption"]))
    head = [_("Grupp"), _("Kommun"), _("Enhet"), _("Län"), _("Folkmängd")]
    if drawn:
        head += ["π", _("Vikt")]
    head.append(_("Status"))
    rows, muted = [head], []
    last_group = groups[-1]["number"] if groups else None
    for row in ctx["sites"]:
        s = row["site"]
        if s.enhet:
            enhet = s.enhet
        elif s.grupp == last_group and row["kommun"].stadsdelar:
            enhet = _("central förvaltning")
        else:
            enhet = "–"
        name = f"{esc(row['kommun'].namn)} {_muted('(' + esc(s.kommunkod) + ')')}"
        cells = [str(s.grupp),
                 Paragraph(name if s.active else _muted(name), st["cell"]),
                 enhet, row["lan"], _num(row["folkmangd"])]
        if drawn:
            cells += [_dec(row["pi"], 4) if row["pi"] is not None else "–",
                      _dec(row["weight"], 2) if row["weight"] else "–"]
        if row.get("state") == "tillbaka":  # a replacement taken out again: its decline was undone
            status = Paragraph(f"<i>{esc(_('ersättare, ångrad'))}</i>", st["cell"])
            muted.append(len(rows))
        elif not s.active:
            status = Paragraph(f'<font color="#a4000f"><b>{esc(_("avböjt"))}</b></font>', st["cell"])
            muted.append(len(rows))
        elif s.replaces_id:
            status = Paragraph(f"<i>{esc(_('ersättare'))}</i>", st["cell"])
        else:
            status = _("med")
        cells.append(status)
        rows.append(cells)
    if drawn:
        col_w, right = pdf.widths(37, 100, 80, 97, 61, 37, 32, 49), (4, 5, 6)
    else:
        col_w, right = pdf.widths(37, 120, 110, 110, 61, 55), (4,)
    story.append(pdf.table(rows, col_w, align_right_cols=right, muted_rows=muted))

    # --- Diagnostik ----------------------------------------------------------------------------
    story.append(Paragraph(esc(_("Diagnostik")), st["h1"]))
    diag = ctx.get("diagnostics") or {}
    if "sb" in diag:
        text = esc(_("Rumslig balans (Stevens och Olsen, sb; lägre är jämnare spritt):")) \
            + f" <b>{esc(_dec(diag['sb'], 3))}</b>."
        srs = diag.get("srs")
        if srs:
            text += " " + esc(_("Som jämförelse ger stratifierat obundet slumpmässigt urval på samma ram medianen "
                                "%(m)s över %(n)d dragningar (kvartiler %(q1)s–%(q3)s).",
                                m=_dec(srs["median"], 3), n=srs["seeds"], q1=_dec(srs["quartiles"][0], 3),
                                q3=_dec(srs["quartiles"][2], 3)))
        story.append(Paragraph(text, st["body"]))
    story.append(Paragraph(esc(_("Valda kommuner per län (alla %(n)d län ska vara med)", n=ctx["lan_count"])),
                           st["caption"]))
    rows = [[_("Län"), _("Kommuner")]]
    for r in ctx["per_lan"]:
        count = Paragraph('<font color="#a4000f"><b>0</b></font>', st["cell_right"]) if r["kommuner"] == 0 \
            else str(r["kommuner"])
        rows.append([r["lan"], count])
    story.append(pdf.table(rows, [70 * mm, 25 * mm], align_right_cols=(1,)))

    # --- Reserver ------------------------------------------------------------------------------
    reserves = ctx.get("reserves") or {}
    if reserves:
        story.append(Paragraph(esc(_("Reserver")), st["h1"]))
        story.append(Paragraph(esc(_("Om en kommun avböjer ersätts den av den första reserven i samma grupp som "
                                     "håller alla regler (till exempel att länet fortsatt är representerat).")),
                               st["body"]))
        used_label = esc(_("används"))
        for g, items in reserves.items():
            story.append(Paragraph(esc(_("Grupp %(g)s: %(n)d reserver", g=g, n=len(items))), st["h3"]))
            entries = []
            for r in items:
                text = f"{r['rank']}.\u00a0{esc(r['sk'].kommun.namn)} {_muted('(' + esc(r['lan']) + ')')}"
                if r["used"]:
                    text = f"<b>{text} – <i>{used_label}</i></b>"
                entries.append(Paragraph(text, st["list"]))
            if len(entries) > 6:
                story.append(pdf.ColumnList(entries, n_cols=3))
            else:
                story.extend(entries)
        names = {row["kommun"].kommunkod: row["kommun"].namn for row in ctx["sites"]}
        for kod, district_names in (ctx.get("district_reserves") or {}).items():
            where = f"{names[kod]} ({kod})" if kod in names else kod
            story.append(Paragraph("<b>" + esc(_("Reservstadsdelar i %(k)s:", k=where)) + "</b> "
                                   + esc(", ".join(district_names) or "–"), st["body"]))

    # --- Avböjanden och ersättare --------------------------------------------------------------
    story.append(Paragraph(esc(_("Avböjanden och ersättare")), st["h1"]))
    declines = ctx.get("declines") or []
    if declines:
        story.append(Paragraph(esc(_("I den ordning de registrerades")), st["caption"]))
        rows = [[_("Datum"), _("Avböjde"), _("Skäl"), _("Ersattes av"), _("Registrerat")]]
        for d in declines:
            recorded = _dt(d.recorded_at) + (f", {d.recorded_by.name}" if d.recorded_by else "")
            if d.undone_at is not None:
                recorded += "; " + _("Ångrat %(when)s", when=_dt(d.undone_at)) + (
                    f", {d.undone_by.name}" if d.undone_by else "")
            rows.append([d.declined_on.isoformat(), d.site.label + (f" ({_('ångrat')})" if d.undone_at else ""),
                         d.reason,
                         d.replacement.label if d.replacement else _("ingen reserv uppfyller reglerna"), recorded])
        story.append(pdf.table(rows, pdf.widths(60, 106, 121, 106, 100)))
    else:
        story.append(Paragraph(esc(_("Inga avböjanden.")), st["body"]))
    if drawn:  # a hand-picked sample has no π, so no weights
        story.append(Paragraph(esc(_(
            "En ersättare ärver vikten 1/π från den besöksplats den ersatte (substitution): den står för samma "
            "del av landet. Resultat som ska gälla hela landet vägs med 1/π. Storstädernas stadsdelar redovisas för "
            "sig; stadens centrala förvaltning svarar för kommunen.")), st["body"]))

    title = _("Urvalsprotokoll: %(name)s", name=sample.name)
    lang = locale()
    return pdf.build(
        story, title=title, author=_("Nationella samordnaren för den sociala barn- och ungdomsvården"),
        subject=_("Urvalsprotokoll"), lang="sv-SE" if lang.startswith("sv") else lang.replace("_", "-"),
        page_label=lambda page, pages: _("Sida %(page)d av %(pages)d", page=page, pages=pages),
        header_mark=None if sample.adopted else _("UTKAST – inte antaget"),
        keywords=[_("urval"), str(sample.reference_year)])
