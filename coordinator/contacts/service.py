"""Contacts per visit site: role labels, the missing-role summary and the all-or-nothing CSV import.

The import is two steps, as the population import: :func:`parse_contacts_csv` reads a file
into rows or a list of problems (nothing touches the database), :func:`plan_import` says
what the rows would do (new contact / update of the contact with the same site and e-mail
/ unchanged) and :func:`apply_import` writes them, audited with counts only: the audit log
never holds names, e-mail addresses or phone numbers.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record
from ..extensions import db
from ..registry.scb import PopulationImportError, _decode
from ..registry.scb import describe as describe_file_problem
from ..sampling.models import Site
from ..sampling.service import adopted_sample
from .models import CONTACT_ROLES, Contact


def N_(message: str) -> str:
    """No-op marker so ``pybabel extract`` finds the role labels below (the model keeps them untranslated)."""
    return message


# The Swedish labels of models.CONTACT_ROLES, marked for translation (a test checks they agree).
ROLE_LABELS: dict[str, str] = {
    "ks_ordforande": N_("Kommunstyrelsens ordförande"),
    "sn_ordforande": N_("Socialnämndens ordförande"),
    "kommunrevision": N_("Kommunrevisionen"),
    "kommundirektor": N_("Kommundirektör"),
    "socialchef": N_("Socialchef/förvaltningschef"),
    "ifo_chef": N_("IFO-chef/enhetschef barn och unga"),
    "facklig": N_("Facklig företrädare"),
    "utvecklingsledare": N_("Regional utvecklingsledare BoU"),
    "annan": N_("Annan kontakt"),
}
ROLE_KEYS = tuple(key for key, _label in CONTACT_ROLES)
# Short column headings for the overview table (the full label goes alongside for screen readers).
ROLE_SHORT: dict[str, str] = {
    "ks_ordforande": N_("KS ordf."),
    "sn_ordforande": N_("SN ordf."),
    "kommunrevision": N_("Revision"),
    "kommundirektor": N_("Kommundir."),
    "socialchef": N_("Socialchef"),
    "ifo_chef": N_("IFO-chef"),
    "facklig": N_("Facklig"),
    "utvecklingsledare": N_("Utv.ledare"),
    "annan": N_("Annan"),
}

# Whom the request to take part goes to (DOMAIN.md): the political leadership, the municipal
# audit and the management of the kommun and of its social services. A city district has no
# kommunstyrelse, audit or kommundirektör of its own: there the district committee's chair and
# the district's director (counted as socialnämndens ordförande and förvaltningschef) are needed.
IMPORTANT_ROLES_KOMMUN = ("ks_ordforande", "sn_ordforande", "kommunrevision", "kommundirektor", "socialchef")
IMPORTANT_ROLES_DISTRICT = ("sn_ordforande", "socialchef")

MAX_LENGTHS = {"name": 200, "email": 200, "phone": 60, "organisation": 200}
_PHONE = re.compile(r"\+?[0-9 ()./\-\u00a0]+")


def role_label(key: str) -> str:
    label = ROLE_LABELS.get(key)
    return _(label) if label else key


def role_short(key: str) -> str:
    return _(ROLE_SHORT.get(key, key))


def role_choices() -> list[tuple[str, str]]:
    return [(key, role_label(key)) for key in ROLE_KEYS]


def important_roles(site: Site) -> tuple[str, ...]:
    return IMPORTANT_ROLES_DISTRICT if site.enhet else IMPORTANT_ROLES_KOMMUN


def valid_email(text: str | None) -> bool:
    text = (text or "").strip()
    if not text or len(text) > MAX_LENGTHS["email"]:
        return False
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def utf8_refused(text: str | None) -> bool:
    """True for an address with å/ä/ö (or other non-ASCII) before the @ while the setting SMTP_UTF8 says
    the mail server cannot take them. A non-ASCII domain is fine: it is sent in its IDNA form."""
    from flask import current_app
    local = (text or "").strip().partition("@")[0]
    return not local.isascii() and not current_app.config.get("SMTP_UTF8")


def utf8_message() -> str:
    return _("E-postadressen har å, ä, ö eller ett annat specialtecken före @, och vår e-postserver kan inte "
             "skicka till sådana adresser. Ange en adress utan dem, till exempel asa.oberg@kommun.se.")


def valid_phone(text: str | None) -> bool:
    """Empty, or a phone number as people write them: '08-123 456 78', '+46 70 123 45 67'."""
    text = (text or "").strip()
    if not text:
        return True
    return bool(_PHONE.fullmatch(text)) and 5 <= sum(c.isdigit() for c in text) <= 20


# --------------------------------------------------------------------------- sites and overview

def adopted_sites(include_inactive: bool = False) -> list[Site]:
    """The visit sites of the adopted sample (empty if none is adopted)."""
    sample = adopted_sample()
    if sample is None:
        return []
    return list(sample.sites) if include_inactive else sample.active_sites


def site_of_adopted_sample(site_id: int) -> Site | None:
    sample = adopted_sample()
    site = db.session.get(Site, site_id)
    if sample is None or site is None or site.sample_id != sample.id:
        return None
    return site


def site_contacts(site: Site) -> list[Contact]:
    order = {key: i for i, key in enumerate(ROLE_KEYS)}
    contacts = db.session.scalars(select(Contact).where(Contact.site_id == site.id)).all()
    return sorted(contacts, key=lambda c: (not c.active, order.get(c.role, 99), c.name.casefold(), c.id))


@dataclass
class SiteSummary:
    site: Site
    counts: dict[str, int]      # role key -> active contacts
    missing: list[str]          # important role keys without an active contact
    total: int
    inactive: int


def overview(sites: list[Site]) -> list[SiteSummary]:
    """Active contacts per role for each site, and which of the important roles have nobody."""
    ids = [s.id for s in sites]
    counts: dict[int, Counter] = {i: Counter() for i in ids}
    inactive: Counter = Counter()
    if ids:
        for site_id, role, active in db.session.execute(
                select(Contact.site_id, Contact.role, Contact.active).where(Contact.site_id.in_(ids))):
            if active:
                counts[site_id][role] += 1
            else:
                inactive[site_id] += 1
    out = []
    for site in sites:
        c = counts[site.id]
        out.append(SiteSummary(site=site, counts=dict(c), total=sum(c.values()), inactive=inactive[site.id],
                               missing=[r for r in important_roles(site) if not c.get(r)]))
    return out


# --------------------------------------------------------------------------- CSV import: parsing

COLUMNS = ("kommunkod", "enhet", "roll", "namn", "e-post", "telefon", "organisation")
REQUIRED_COLUMNS = ("kommunkod", "roll", "namn", "e-post")
_HEADER_NAMES = {
    "kommunkod": {"kommunkod", "kod", "kommunnr", "kommunnummer", "kommunkoden"},
    "enhet": {"enhet", "stadsdel", "stadsdelsforvaltning", "stadsdelsnamnd", "stadsomrade"},
    "roll": {"roll", "role", "befattning", "funktion"},
    "namn": {"namn", "name", "kontakt", "kontaktperson"},
    "e-post": {"epost", "epostadress", "email", "emailadress", "mail", "mailadress", "mejl", "mejladress"},
    "telefon": {"telefon", "telefonnummer", "tel", "telnr", "phone", "mobil", "mobilnummer"},
    "organisation": {"organisation", "organization", "org", "forvaltning", "arbetsgivare"},
}
_FOLD = str.maketrans("åäöéü", "aaoeu")


def _header_key(cell: str) -> str | None:
    norm = re.sub(r"[\s_\-.]+", "", cell.strip().strip('"').casefold().translate(_FOLD))
    for column, names in _HEADER_NAMES.items():
        if norm in names:
            return column
    return None


def _role_lookup() -> dict[str, str]:
    """Key, Swedish label, or one part of a label split at '/' (case-insensitive) -> role key."""
    lookup: dict[str, str] = {}
    for key, label in CONTACT_ROLES:
        lookup[key.casefold()] = key
        # The import page shows the titles in the user's language: accept those as well as Swedish.
        for title in (label, role_label(key)):
            lookup[title.casefold()] = key
            for part in title.split("/"):
                lookup.setdefault(part.strip().casefold(), key)
    return lookup


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ContactRow:
    line: int
    site_id: int
    site_label: str
    role: str
    name: str
    email: str
    phone: str
    organisation: str


@dataclass
class ContactFile:
    rows: list[ContactRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def site_keys(sites: list[Site]) -> dict[tuple[str, str], Site]:
    """(kommunkod, enhet casefolded; "" = the kommun / central administration) -> site."""
    return {(s.kommunkod, (s.enhet or "").casefold()): s for s in sites}


def parse_contacts_csv(data: bytes | str, sites: Mapping[tuple[str, str], Site] | None = None) -> ContactFile:
    """Read a contacts file; every problem is listed with its 1-based line number.

    ``sites`` maps (kommunkod, enhet casefolded) to the sites a row may name (default: the
    active sites of the adopted sample). The result's ``problems`` is empty only if every
    row is usable; the caller writes nothing otherwise.
    """
    if sites is None:
        sites = site_keys(adopted_sites())
    result = ContactFile()
    try:
        text, result.encoding = _decode(data)
    except PopulationImportError as e:
        result.problems = [describe_file_problem(p, _) for p in e.problems]
        return result
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip().strip(";,\t")), None)
    if first is None:
        result.problems.append(_("Filen är tom."))
        return result
    header_line = lines[first]
    result.delimiter = max((";", ",", "\t"), key=lambda d: (header_line.count(d), d == ";"))
    reader = csv.reader(io.StringIO(text), delimiter=result.delimiter, quotechar='"')
    columns: dict[str, int] = {}
    ncols = 0
    roles = _role_lookup()
    seen: dict[tuple[int, str], int] = {}
    problems = result.problems
    try:
        last = 0
        for row in reader:
            # The row's first line: a quoted cell may span lines, and reader.line_num is the row's last.
            line, last = last + 1, reader.line_num
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if not columns:
                keys = [_header_key(c) for c in cells]
                if not any(keys):
                    problems.append(_("Rad %(line)s: rubrikrad saknas. Filen ska börja med kolumnerna %(columns)s.",
                                      line=line, columns=result.delimiter.join(COLUMNS)))
                    return result
                for i, key in enumerate(keys):
                    if key is None:
                        continue
                    if key in columns:
                        problems.append(_("Rad %(line)s: kolumnen '%(column)s' finns två gånger.",
                                          line=line, column=key))
                    columns.setdefault(key, i)
                missing = [c for c in REQUIRED_COLUMNS if c not in columns]
                if missing:
                    problems.append(_("Rad %(line)s: kolumn saknas: %(columns)s.", line=line,
                                      columns=", ".join(missing)))
                if problems:
                    return result
                ncols = len(cells)
                continue
            extra = [c for c in cells[ncols:] if c]
            if extra:
                problems.append(_("Rad %(line)s: raden har %(found)s fält men rubrikraden har %(expected)s.",
                                  line=line, found=len(cells), expected=ncols))
                continue
            cells += [""] * (ncols - len(cells))
            parsed = _parse_row(line, cells, columns, sites, roles, problems)
            if parsed is None:
                continue
            key = (parsed.site_id, parsed.email.casefold())
            if key in seen:
                problems.append(_("Rad %(line)s: samma e-postadress för samma besöksplats som på rad %(other)s.",
                                  line=line, other=seen[key]))
                continue
            seen[key] = line
            result.rows.append(parsed)
    except csv.Error as e:
        problems.append(_("Rad %(line)s: filen kan inte läsas som CSV (%(error)s).", line=reader.line_num, error=e))
    if not columns and not problems:
        problems.append(_("Filen är tom."))
    elif not result.rows and not problems:
        problems.append(_("Filen innehåller inga kontakter."))
    if problems:
        result.rows = []
    return result


def _broken(text: str) -> bool:
    """A line break or another control character (tab included) in what must be one line of text."""
    return any(ch < " " or ch == "\x7f" for ch in text)


def _parse_row(line: int, cells: list[str], columns: dict[str, int], sites: Mapping[tuple[str, str], Site],
               roles: dict[str, str], problems: list[str]) -> ContactRow | None:
    def cell(name: str) -> str:
        i = columns.get(name)
        return cells[i].strip() if i is not None else ""

    before = len(problems)
    code, enhet = cell("kommunkod"), cell("enhet")
    site = None
    if not code:
        problems.append(_("Rad %(line)s: kommunkod saknas.", line=line))
    elif not (code.isascii() and code.isdigit() and len(code) <= 4):
        problems.append(_("Rad %(line)s: '%(value)s' är ingen kommunkod (fyra siffror).",
                          line=line, value=_shorten(code)))
    else:
        code = code.zfill(4)
        site = sites.get((code, enhet.casefold()))
        if site is None:
            problems.append(_("Rad %(line)s: %(site)s är ingen besöksplats i det antagna urvalet.",
                              line=line, site=f"{code} {_shorten(enhet)}" if enhet else code))
    role_text = cell("roll")
    role = roles.get(" ".join(role_text.split()).casefold())
    if not role_text:
        problems.append(_("Rad %(line)s: roll saknas.", line=line))
    elif role is None:
        problems.append(_("Rad %(line)s: okänd roll '%(value)s'.", line=line, value=_shorten(role_text)))
    name, email, phone, organisation = cell("namn"), cell("e-post"), cell("telefon"), cell("organisation")
    if not name:
        problems.append(_("Rad %(line)s: namn saknas.", line=line))
    elif len(name) > MAX_LENGTHS["name"]:
        problems.append(_("Rad %(line)s: namnet är för långt (högst %(max)s tecken).",
                          line=line, max=MAX_LENGTHS["name"]))
    if not email:
        problems.append(_("Rad %(line)s: e-postadress saknas.", line=line))
    elif not valid_email(email):
        problems.append(_("Rad %(line)s: ogiltig e-postadress.", line=line))
    elif utf8_refused(email):
        problems.append(_("Rad %(line)s: e-postadressen har å, ä, ö eller ett annat specialtecken före @, och vår "
                          "e-postserver kan inte skicka till sådana adresser.", line=line))
    if not valid_phone(phone) or len(phone) > MAX_LENGTHS["phone"]:
        problems.append(_("Rad %(line)s: ogiltigt telefonnummer.", line=line))
    if len(organisation) > MAX_LENGTHS["organisation"]:
        problems.append(_("Rad %(line)s: organisationen är för lång (högst %(max)s tecken).",
                          line=line, max=MAX_LENGTHS["organisation"]))
    # A quoted cell may hold a line break; in a name it would break the invitation's mail headers.
    if any(_broken(text) for text in (name, phone, organisation, enhet, role_text)):
        problems.append(_("Rad %(line)s: ett fält innehåller en radbrytning eller ett styrtecken. "
                          "Namn, telefon och organisation skrivs på en rad.", line=line))
    if len(problems) > before or site is None or role is None:
        return None
    return ContactRow(line=line, site_id=site.id, site_label=site.label, role=role, name=name, email=email,
                      phone=phone, organisation=organisation)


# --------------------------------------------------------------------------- CSV import: plan and write

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


@dataclass
class PlannedRow:
    row: ContactRow
    action: str
    contact: Contact | None
    fields: list[str] = field(default_factory=list)  # the fields an update changes


@dataclass
class ImportPlan:
    rows: list[PlannedRow]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {a: self.count(a) for a in (NEW, UPDATED, UNCHANGED)}


def _changes(contact: Contact, row: ContactRow) -> dict[str, str | bool]:
    """What the row changes on an existing contact. Blank phone/organisation cells keep what is stored."""
    wanted: dict[str, str | bool] = {"role": row.role, "name": row.name, "active": True}
    if row.phone:
        wanted["phone"] = row.phone
    if row.organisation:
        wanted["organisation"] = row.organisation
    if row.email != contact.email:
        wanted["email"] = row.email  # same address, other spelling of case
    return {k: v for k, v in wanted.items() if getattr(contact, k) != v}


def plan_import(parsed: ContactFile) -> ImportPlan:
    site_ids = {r.site_id for r in parsed.rows}
    existing: dict[tuple[int, str], Contact] = {}
    if site_ids:
        contacts = db.session.scalars(select(Contact).where(Contact.site_id.in_(site_ids))
                                      .order_by(Contact.active.desc(), Contact.id)).all()
        for c in contacts:
            existing.setdefault((c.site_id, c.email.casefold()), c)
    planned = []
    for row in parsed.rows:
        contact = existing.get((row.site_id, row.email.casefold()))
        if contact is None:
            planned.append(PlannedRow(row, NEW, None))
        else:
            changes = _changes(contact, row)
            planned.append(PlannedRow(row, UPDATED if changes else UNCHANGED, contact, sorted(changes)))
    return ImportPlan(planned)


def apply_import(parsed: ContactFile, sha256: str = "") -> dict[str, int]:
    """Write the rows (the caller commits); audited with counts only. Returns the counts."""
    plan = plan_import(parsed)
    for p in plan.rows:
        if p.action == NEW:
            row = p.row
            db.session.add(Contact(site_id=row.site_id, role=row.role, name=row.name, email=row.email,
                                   phone=row.phone, organisation=row.organisation, active=True))
        elif p.action == UPDATED:
            for attr, value in _changes(p.contact, p.row).items():
                setattr(p.contact, attr, value)
    db.session.flush()
    counts = plan.counts
    record("contacts.imported", object_type="contact", object_id=None, rows=len(plan.rows),
           sites=len({p.row.site_id for p in plan.rows}), sha256=sha256 or None, **counts)
    return counts


def existing_with_email(site_id: int, email: str, exclude_id: int | None = None) -> Contact | None:
    """Another contact of the same site with the same e-mail address (case-insensitive)."""
    for c in db.session.scalars(select(Contact).where(Contact.site_id == site_id)):
        if c.id != exclude_id and c.email.casefold() == email.strip().casefold():
            return c
    return None


__all__ = [
    "ContactFile", "ContactRow", "IMPORTANT_ROLES_DISTRICT", "IMPORTANT_ROLES_KOMMUN", "ImportPlan", "NEW",
    "ROLE_LABELS", "UNCHANGED", "UPDATED", "adopted_sites", "apply_import", "existing_with_email",
    "important_roles", "overview", "parse_contacts_csv", "plan_import", "role_choices", "role_label",
    "site_contacts", "site_keys", "site_of_adopted_sample", "utf8_message", "utf8_refused", "valid_email",
    "valid_phone",
]
