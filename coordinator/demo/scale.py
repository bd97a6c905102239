"""`coordinator demo --scale N`: the demo N times as large, as an office with N parallel teams would have it.

Plain words: the base demo (50 sites, ~100 visits) is made as always, through the services. A larger
office then works N teams in parallel, each with its own team leader and officers and its own sites:
team k (2..N) takes one unit ("enhet", e.g. "Område Norr (demo)") inside each kommun or district of the
base sample, so the sample holds N times the sites. Each team's visits follow the base team's calendar
(the same days, rounds and statuses), so the assignment allows N visits a day and 3N a week. The extra
sites get their own invented contacts (other "Demo" surnames, their own @example.se addresses); their
notes, passages, plans, measurement answers, letters, mails, tasks and log events are the base site's,
with the unit's own name, written as the same rows the services wrote for the base site (same columns,
versions, dates and audit events), but in bulk, so that `--scale 10` takes seconds on top of the base.

What stays the base demo's: the events (dialogforum), the report narratives, the issued reports and the
avstämningar (they are about the whole assignment, written once), and the declines.

The product books its one coordinator on every visit; with parallel teams each team leader leads the
team's visits instead, so the staffing check names the coordinator as missing on the extra teams' visits.

At most `MAX_SCALE` teams: the assignment's settings allow at most 10 visits a day.
"""
from __future__ import annotations

import json
import re
import secrets
import uuid

from sqlalchemy import JSON, String, Text, func, select, text

from ..extensions import db
from ..registry.models import Kommun
from ..scheduling.defaults import assignment
from . import texts
from .build import Demo, DemoError, slug

MAX_SCALE = 10

# The units the extra teams visit inside each base site: team k takes UNITS[k - 2].
UNITS = ("Område Norr", "Område Söder", "Område Öster", "Område Väster", "Område Centrum", "Område Nordost",
         "Område Sydväst", "Område Mitt", "Område Ytterstad")
assert len(UNITS) >= MAX_SCALE - 1

# The tables copied per extra site, parents first, with the columns that point at copied rows.
# A row is copied when one of these columns points at a copied row (and none at a row left behind).
COPIED = (
    ("contact", {"site_id": "site"}),
    ("visit", {"site_id": "site"}),
    ("visit_staff", {"visit_id": "visit", "staff_id": "staff_member"}),
    ("visit_part", {"visit_id": "visit"}),
    ("visit_part_contact", {"part_id": "visit_part", "contact_id": "contact"}),
    ("measurement_request", {"site_id": "site"}),
    ("measurement_answer", {"request_id": "measurement_request"}),
    ("outbox_message", {"visit_id": "visit", "measurement_request_id": "measurement_request"}),
    ("attendee", {"visit_id": "visit", "contact_id": "contact"}),
    ("note", {"visit_id": "visit"}),
    ("note_revision", {"note_id": "note"}),
    ("note_draft", {"note_id": "note"}),
    ("passage", {"note_id": "note"}),
    ("passage_theme", {"passage_id": "passage"}),
    ("action_plan", {"site_id": "site"}),
    ("plan_goal", {"plan_id": "action_plan"}),
    ("plan_activity", {"goal_id": "plan_goal"}),
    ("plan_link", {"plan_id": "action_plan"}),
    ("date_offer", {"visit_id": "visit", "outbox_message_id": "outbox_message"}),
    ("feedback_letter", {"site_id": "site", "outbox_message_id": "outbox_message"}),
    ("feedback_revision", {"letter_id": "feedback_letter"}),
    ("feedback_link", {"letter_id": "feedback_letter"}),
    ("task", {"site_id": "site", "visit_id": "visit"}),
    ("feed_token", {"site_id": "site"}),
    ("audit_event", {"site_id": "site"}),
)
# Secrets and keys that must be unique: each copy gets its own.
NEW_NONCE = {("measurement_request", "nonce"), ("plan_link", "nonce"), ("date_offer", "nonce"),
             ("feedback_link", "nonce"), ("feed_token", "token")}
# Ids in the log's details, and the table each names.
DETAIL_IDS = {"visit_id": "visit", "site_id": "site", "plan_id": "action_plan", "goal_id": "plan_goal",
              "outbox_id": "outbox_message", "activity_id": "plan_activity", "note_id": "note",
              "contact_id": "contact", "letter_id": "feedback_letter", "request_id": "measurement_request"}


def check_scale(scale: int) -> None:
    if scale < 1:
        raise DemoError(f"--scale måste vara minst 1 (1 = det vanliga demouppdraget), inte {scale}.")
    if scale > MAX_SCALE:
        raise DemoError(f"--scale kan vara högst {MAX_SCALE}: uppdragets inställningar tillåter högst 10 besök "
                        f"per dag, och {scale} team skulle behöva {scale}.")


def restore_capacity() -> None:
    """A scaled demo raised the assignment's visits per day and week; the next demo (which keeps the
    settings) plans with the office's own figures again, so the same seed gives the same demo."""
    from ..audit import AuditEvent

    last = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "demo.created")
                             .order_by(AuditEvent.id.desc()).limit(1))
    scale = (last.details or {}).get("scale", 1) if last is not None else 1
    a = assignment()
    if isinstance(scale, int) and scale > 1 and a.max_per_day % scale == 0 and a.max_per_week % scale == 0:
        a.max_per_day, a.max_per_week = a.max_per_day // scale, a.max_per_week // scale
        db.session.flush()


def _table(name: str):
    return db.metadata.tables[name]


def _next_id(name: str) -> int:
    return (db.session.scalar(select(func.max(_table(name).c.id))) or 0) + 1


class _Copies:
    """New ids per (table, copy) and the base site each copied row belongs to."""

    def __init__(self, teams: range):
        self.teams = teams
        self.ids: dict[tuple[str, int], dict[int, int]] = {}
        self.owner: dict[str, dict[int, int]] = {}   # table -> base row id -> base site id

    def new(self, table: str, k: int, old):
        return self.ids.get((table, k), {}).get(old)


def extend(demo: Demo, scale: int) -> None:
    """Add teams 2..scale with their sites and everything the base sites have (see the module docstring)."""
    if scale <= 1:
        return
    db.session.flush()
    teams = range(2, scale + 1)
    copies = _Copies(teams)
    base_sites = list(demo.sample.active_sites)
    kommun_names = dict(db.session.execute(select(Kommun.kommunkod, Kommun.namn)).all())

    # Capacity: N teams on the same days; the office's settings as a larger office would set them.
    a = assignment()
    a.max_per_day, a.max_per_week = a.max_per_day * scale, a.max_per_week * scale
    db.session.flush()

    _copy_staff(copies)

    # The extra sites: one unit per team inside each base site.
    site_t = _table("site")
    next_site, position = _next_id("site"), max(s.position for s in demo.sample.sites)
    site_rows, labels = [], {}
    for k in teams:
        unit = f"{UNITS[k - 2]} (demo)"
        for s in base_sites:
            enhet = f"{s.enhet}, {unit}"[:80] if s.enhet else unit
            position += 1
            copies.ids.setdefault(("site", k), {})[s.id] = next_site
            site_rows.append({"id": next_site, "sample_id": s.sample_id, "position": position,
                              "kommunkod": s.kommunkod, "enhet": enhet, "grupp": s.grupp, "active": True,
                              "replaces_id": None})
            labels[(s.id, k)] = (s.label, f"{kommun_names[s.kommunkod]}, {enhet}", enhet)
            next_site += 1
    copies.owner["site"] = {s.id: s.id for s in base_sites}
    db.session.execute(site_t.insert(), site_rows)

    # Read every base row to copy, and give each copy its id before anything is written (the mails'
    # topics name the offers and letters made after them).
    base: dict[str, list[dict]] = {}
    mail_owner = _mail_owners(copies.owner["site"])
    for name, fks in COPIED:
        table = _table(name)
        has_id = "id" in table.c and list(table.primary_key.columns) == [table.c.id]
        rows = []
        owners = copies.owner.setdefault(name, {})
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).mappings():
            owner, ok = None, True
            for col, parent in fks.items():
                value = row[col]
                if value is None:
                    continue
                if parent == "staff_member":
                    continue  # the staff are mapped per team, not per site
                if value in copies.owner.get(parent, {}):
                    owner = owner or copies.owner[parent][value]
                else:
                    ok = False
            if name == "outbox_message" and owner is None and ok:
                owner = mail_owner.get(row["id"])
            if ok and owner is not None:
                row = dict(row)
                rows.append(row)
                if has_id:
                    owners[row["id"]] = owner
                row["_owner"] = owner
        base[name] = rows
        if has_id and rows:
            nxt = _next_id(name)
            for k in teams:
                m = copies.ids.setdefault((name, k), {})
                for row in rows:
                    m[row["id"]] = nxt
                    nxt += 1

    contacts = _new_contacts(demo, base["contact"], labels, teams)
    swaps = {key: _swapper(pairs) for key, pairs in _pairs(labels, contacts).items()}

    for name, fks in COPIED:
        table = _table(name)
        rows = base[name]
        if not rows:
            continue
        text_cols = [c.name for c in table.c if isinstance(c.type, (String, Text)) and c.name != "id"]
        json_cols = [c.name for c in table.c if isinstance(c.type, JSON)]
        out = []
        for k in teams:
            for row in rows:
                new = {key: value for key, value in row.items() if key != "_owner"}
                owner = row["_owner"]
                if "id" in new and (name, k) in copies.ids:
                    new["id"] = copies.ids[(name, k)][row["id"]]
                for col, parent in fks.items():
                    if new[col] is not None:
                        new[col] = copies.new(parent, k, new[col])
                swap = swaps[(owner, k)]
                for col in text_cols:
                    if isinstance(new[col], str) and new[col]:
                        new[col] = swap(new[col])
                for col in json_cols:
                    if new[col] is not None:
                        new[col] = json.loads(swap(json.dumps(new[col], ensure_ascii=False)))
                _fix(name, new, row, k, copies, labels[(owner, k)])
                out.append(new)
        db.session.execute(table.insert(), out)
    _fix_sequences()
    db.session.flush()


def _mail_owners(sites: dict[int, int]) -> dict[int, int]:
    """Outbox id -> base site for the mails that only their letter or date offer points at."""
    letter, offer, visit = _table("feedback_letter"), _table("date_offer"), _table("visit")
    rows = db.session.execute(select(letter.c.outbox_message_id, letter.c.site_id)
                              .where(letter.c.outbox_message_id.isnot(None))).all()
    rows += db.session.execute(select(offer.c.outbox_message_id, visit.c.site_id)
                               .join(visit, visit.c.id == offer.c.visit_id)
                               .where(offer.c.outbox_message_id.isnot(None))).all()
    return {m: s for m, s in rows if s in sites}


def _copy_staff(copies: _Copies) -> None:
    """Each extra team: a team leader (for the base's coordinator) and officers, with the same absences."""
    staff_t, absence_t = _table("staff_member"), _table("staff_absence")
    members = [dict(r) for r in db.session.execute(select(staff_t).order_by(staff_t.c.id)).mappings()]
    absences = [dict(r) for r in db.session.execute(select(absence_t).order_by(absence_t.c.id)).mappings()]
    nxt, nxt_absence = _next_id("staff_member"), _next_id("staff_absence")
    rows, absence_rows = [], []
    for k in copies.teams:
        m = copies.ids.setdefault(("staff_member", k), {})
        for member in members:
            new = dict(member, id=nxt)
            if member["coordinator"]:
                new |= {"name": f"Demo Teamledare {k}", "title": "Teamledare", "coordinator": False,
                        "email": f"demo.teamledare{k}@example.se"}
            else:
                new |= {"name": f"{member['name']}, team {k}",
                        "email": member["email"].replace("@", f".team{k}@")}
            m[member["id"]] = nxt
            rows.append(new)
            nxt += 1
        for absence in absences:
            absence_rows.append(dict(absence, id=nxt_absence, staff_id=m[absence["staff_id"]]))
            nxt_absence += 1
    db.session.execute(staff_t.insert(), rows)
    if absence_rows:
        db.session.execute(absence_t.insert(), absence_rows)
    # Their log, as the staff page's history reads it.
    audit_t = _table("audit_event")
    events = [dict(r) for r in db.session.execute(select(audit_t).where(
        audit_t.c.object_type == "staff_member").order_by(audit_t.c.id)).mappings()]
    nxt, out = _next_id("audit_event"), []
    for k in copies.teams:
        m = copies.ids[("staff_member", k)]
        for e in events:
            if e["object_id"] and e["object_id"].isdigit() and int(e["object_id"]) in m:
                out.append(dict(e, id=nxt, object_id=str(m[int(e["object_id"])])))
                nxt += 1
    if out:
        db.session.execute(audit_t.insert(), out)


def _new_contacts(demo: Demo, rows: list[dict], labels: dict, teams: range) -> dict[tuple[int, int], dict]:
    """Base contact id -> (name, email) per team: other invented people at the unit."""
    by_site: dict[int, list[dict]] = {}
    for row in rows:
        by_site.setdefault(row["site_id"], []).append(row)
    out: dict[tuple[int, int], dict] = {}
    for site_id, people in by_site.items():
        for k in teams:
            base_label, label, _enhet = labels[(site_id, k)]
            rng = demo.rng("skala", k, base_label)  # by name, not id: the same seed gives the same people
            surnames = rng.sample(texts.SURNAMES, len(people)) if len(people) <= len(texts.SURNAMES) else \
                [rng.choice(texts.SURNAMES) for _ in people]
            place = slug(label)
            for person, surname in zip(people, surnames):
                out[(person["id"], k)] = {"name": f"Demo {surname}",
                                          "email": f"demo.{slug(surname)}.{place}@example.se",
                                          "old_name": person["name"], "old_email": person["email"],
                                          "site_id": site_id}
    return out


def _pairs(labels: dict, contacts: dict) -> dict[tuple[int, int], list[tuple[str, str]]]:
    pairs: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for (site_id, k), (old, new, _enhet) in labels.items():
        pairs[(site_id, k)] = [(old, new)]
    for (_cid, k), c in contacts.items():
        pairs[(c["site_id"], k)] += [(c["old_email"], c["email"]), (c["old_name"], c["name"])]
    return pairs


def _swapper(pairs: list[tuple[str, str]]):
    """One pass over a text: every old name, address and place name becomes the copy's."""
    table = {}
    for old, new in pairs:
        table.setdefault(old, new)
    olds = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(old) for old in olds) + r")(?!\w)")

    def swap(s: str) -> str:
        # Most texts name none of them: a plain search first is far quicker than the pattern.
        if not any(old in s for old in olds):
            return s
        return pattern.sub(lambda m: table[m.group(0)], s)
    return swap


def _fix(name: str, new: dict, row: dict, k: int, copies: _Copies, label: tuple[str, str, str]) -> None:
    """What is unique per row, or names the copy's own rows."""
    if (name, "nonce") in NEW_NONCE or (name, "token") in NEW_NONCE:
        col = "nonce" if "nonce" in new else "token"
        new[col] = secrets.token_urlsafe(32)
    if name == "visit":
        new["uid"] = f"{uuid.uuid4()}@coordinator"
        new["location"] = f"Socialkontoret {label[2]}, {label[1].split(',')[0]}"
    elif name == "outbox_message" and new["topic"]:
        parts = new["topic"].split(":")
        if parts[0] == "aterkoppling" and len(parts) == 3:
            parts[1:] = [str(copies.new("feedback_letter", k, int(parts[1]))),
                         str(copies.new("feedback_link", k, int(parts[2])))]
        elif parts[0] in ("datum", "datum-paminnelse"):
            parts[1] = str(copies.new("date_offer", k, int(parts[1])))
        else:
            parts.append(f"team{k}")
        new["topic"] = ":".join(parts)
    elif name == "task" and new["source"]:
        kind, _sep, ident = new["source"].partition(":")
        if ident.isdigit() and row["visit_id"] == int(ident):
            new["source"] = f"{kind}:{new['visit_id']}"
        else:
            new["source"] = f"{new['source']}:team{k}"
    elif name == "audit_event" and new["object_id"] and new["object_id"].isdigit():
        mapped = copies.new(new["object_type"] or "", k, int(new["object_id"]))
        if mapped is not None:
            new["object_id"] = str(mapped)
    if name == "audit_event" and isinstance(new["details"], dict):
        # The log's words link to what an event names: the copy's own rows.
        links = DETAIL_IDS | {"link_id": "plan_link" if new["action"].startswith("plan.") else "feedback_link"}
        for key, table in links.items():
            value = new["details"].get(key)
            if isinstance(value, int) and copies.new(table, k, value) is not None:
                new["details"] = {**new["details"], key: copies.new(table, k, value)}


def _fix_sequences() -> None:
    """PostgreSQL hands out ids from sequences: move them past the ids written here."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in ["site", "staff_member", "staff_absence", *(n for n, _fks in COPIED)]:
        table = _table(name)
        if "id" not in table.c:
            continue
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))

