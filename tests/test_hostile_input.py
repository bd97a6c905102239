"""No input gives a 500: every route of the app, filled with hostile values, answers below 500.

Hypothesis fills, on the demo assignment (made once per backend), every form of every POST route and
every id and query parameter of every GET route with values a hostile or clumsy user could send: NUL and
other control characters, line breaks, 100 000 characters, huge and negative numbers, impossible and
extreme dates, emoji and right-to-left text. Each example runs as one of the roles (admin, staff, reader);
the kommun's link routes (plan, questionnaire, calendar feed) run anonymously with tokens of real issued
links. Routes are read from the app's URL map, so a new route is covered without touching this file; a
route the test cannot fill fails `test_every_route_is_covered_or_excluded` until it is covered or listed in
EXCLUDED with a reason.

Forms are found the way a browser finds them: by opening every page of the app and reading the forms that
post to each route (their hidden fields, CSRF token and valid values), so an example changes one to three
fields to hostile values and keeps the rest valid, to reach past the first check. Examples are
deterministic (derandomize), so a run in CI repeats the same requests.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from coordinator.extensions import db

from .conftest import PASSWORD, USERS, Client
from .helpers import demo_ids

ROOT = Path(__file__).parent.parent
ROLES = ("admin", "staff", "reader")

# Routes the test leaves alone, each with why.
EXCLUDED = {
    "auth.logout": "ends the session the examples run in; it reads no input but the CSRF token",
    "static": "serves files from disk; the path is checked by Flask's safe_join",
}
# Routes opened without a login, by a token (the kommun's links) or before logging in.
TOKEN_ENDPOINTS = {"plans.kommun_plan", "plans.kommun_report", "plans.kommun_pdf", "measurement.kommun_form",
                   "feedback.kommun_letter", "feedback.kommun_pdf", "feedback.kommun_docx",
                   "invites.feed", "scheduling.kommun_offer", "scheduling.kommun_none_fits"}
ANONYMOUS_ENDPOINTS = TOKEN_ENDPOINTS | {"auth.login", "set_language"}
# Routes posted by the page's script with the fields of another route's form.
ALIASES = {"dialogue.note_autosave": "dialogue.note_save", "dialogue.event_note_autosave": "dialogue.event_note_save"}
# Routes whose work is slow by nature (a PDF, the planner, a draw of a sample): fewer examples.
SLOW = re.compile(r"\.pdf$|\.docx$|/foresla$|/dra$|/handplockat$|/anta$|/karta$|/utfarda$")
# Routes that remove what later routes open: run after every other route.
LAST = re.compile(r"ta-bort|stall-in|installt|aterkalla|avboj|kasta|inaktivera|/anta$|sla-ihop|status$")

# The hostile values. Each is something a browser, a script or a paste can send.
LONG = "x" * 100_000
HOSTILE = [
    "\x00", "a\x00b", "\x00" * 3 + "text", "\x01\x02\x07\x08\x0b\x0c\x1b\x7f", "\x1f", "\u0085\u2028\u2029",
    "rad ett\nrad två", "rad ett\r\nrad två", "\r", "\t", LONG, "\n" * 1000,
    str(2**31), str(2**31 - 1), str(2**63), str(2**64), str(10**22), "-1", "-2147483649", "0", "1e400", "NaN",
    "-0", "1,5", "٣",  # Arabic-Indic three: Python's int() reads it
    "0001-01-01", "9999-12-31", "2000-02-30", "1999-12-31", "2101-01-01", "0000-00-00", "2015-13-01",
    "25:61", "24:00", "99:99:99",
    "😀👍🏽🇸🇪", "\u202eאבג عربي\u202c", "‏שלום‎", "\ufeff", "\U0010ffff", "Ångström ÅÄÖ",
    "", " ", "   \n  ", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd",
    "=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)",
]
SHORT = [h for h in HOSTILE if len(h) < 50]


def hostile_value(valid: str = "") -> st.SearchStrategy[str]:
    """A hostile value, now and then stuck to the field's valid value (a date with a NUL after it…)."""
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(SHORT).map(lambda h: valid + h),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    )


def hostile_int() -> st.SearchStrategy[str]:
    return st.sampled_from([str(2**31), str(2**63), str(10**22), "-1", "0", "1e3", "\x00", "٣", LONG[:30]])


# --------------------------------------------------------------------------- the world the examples run in

class Forms(HTMLParser):
    """Every form of a page: (method, action, {field: a valid value}) as a browser would send it."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.current: dict[str, str] | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.files: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.current = {}
            self.forms.append(((a.get("method") or "get").upper(), action, self.current))
        elif self.current is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type") or ("submit" if tag == "button" else "text")
            if kind in ("checkbox", "radio") and a["name"] in self.current:
                return
            if kind == "file":
                self.files.add(a["name"])
            if kind in ("submit", "checkbox", "radio") and not (kind == "submit" and a.get("value")):
                self.current.setdefault(a["name"], a.get("value") or "on")
            else:
                self.current.setdefault(a["name"], a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select:
            if a.get("value") or self.select not in self.current or "selected" in a:
                if self.current.get(self.select) in (None, "") or "selected" in a:
                    self.current[self.select] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.current.setdefault(self.textarea, "")

    def handle_data(self, data):
        if self.textarea and self.current is not None:
            self.current[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def route_values(app) -> dict:
    """A real value for every kind of URL argument the app's routes take, from the demo's data, and real
    tokens: a kommun plan link and a questionnaire link that are open, and a calendar feed."""
    from coordinator.auth.models import User
    from coordinator.feedback import service as feedback
    from coordinator.feedback.models import FeedbackLink
    from coordinator.invites import service as invites
    from coordinator.measurement import service as measurement
    from coordinator.measurement.models import MeasurementRequest
    from coordinator.plans import service as plans
    from coordinator.plans.models import ActionPlan

    values = demo_ids(app)
    with app.app_context():
        def one(sql: str):
            return db.session.execute(text(sql)).scalar()

        plan = db.session.get(ActionPlan, one(f"SELECT id FROM action_plan WHERE site_id = {values['plan_site']}"))
        link = plans.create_link(plan, date.today() + timedelta(days=365))
        request = db.session.get(MeasurementRequest, values["request_id"])
        request.expires_at, request.submitted_at, request.revoked_at = \
            plans.links.expires_at_for(date.today() + timedelta(days=365)), None, None
        feed = invites.create_feed(site=plan.site)
        spare = User(email="extra@test.se", name="Extra Person", role="staff")
        spare.set_password(PASSWORD)
        db.session.add(spare)
        db.session.commit()
        from coordinator.scheduling import offers
        from coordinator.scheduling.models import Visit
        unbooked = db.session.scalar(select(Visit).where(Visit.status == "forslag", Visit.date.isnot(None))
                                     .order_by(Visit.id))
        with app.test_request_context("/"):
            offer = offers.offer(unbooked)
            offer_token = offers.token_for(offer)
        db.session.commit()
        letter_link = db.session.get(FeedbackLink, one("SELECT l.id FROM feedback_link l JOIN feedback_letter b "
                                                       "ON b.id = l.letter_id WHERE b.status = 'skickat' ORDER BY l.id"))
        letter_site, letter_round = one("SELECT site_id FROM feedback_letter WHERE status = 'utkast' ORDER BY id"), \
            one("SELECT round FROM feedback_letter WHERE status = 'utkast' ORDER BY id")
        values.update({
            "offer_token": offer_token, "offer_id": offer.id,
            "letter_token": feedback.token_for(letter_link), "letter_site": letter_site, "round_": letter_round,
            "plan_token": plans.token_for(link), "questionnaire_token": measurement.token_for(request),
            "feed_token": feed.token, "link_id": link.id, "feed_id": feed.id, "user_id": spare.id,
            "attendee_id": one(f"SELECT id FROM attendee WHERE visit_id = {values['visit_id']} ORDER BY id"),
            "event_attendee_id": one(f"SELECT id FROM attendee WHERE event_id = {values['event_id']} ORDER BY id"),
            "decline_id": one("SELECT id FROM decline ORDER BY id"),
            "import_id": one("SELECT id FROM population_import ORDER BY id") or 1,
            "message_id": one("SELECT id FROM outbox_message ORDER BY id"),
            "avstamning_id": one("SELECT id FROM avstamning ORDER BY id"),
            "task_id": one("SELECT id FROM task ORDER BY id"),
            "report_id": one("SELECT id FROM issued_report ORDER BY id"),
            "lanskod": one(f"SELECT lanskod FROM kommun WHERE kommunkod = '{values['kommunkod']}'"),  # a län with a site
            "code": "en", "filename": "style.css", "action": "kopiera",
        })
    return values


def build_url(rule, values: dict) -> str | None:
    """The rule's URL with real values, or None when an argument has none."""
    args = {}
    for arg in rule.arguments:
        key = arg
        if rule.endpoint.startswith("plans.") and arg == "site_id":
            key = "plan_site"
        elif rule.endpoint.startswith("feedback.") and arg == "site_id":
            key = "letter_site"
        elif rule.endpoint.startswith("dialogue.note") and arg == "visit_id":
            key = "held_visit"
        elif rule.endpoint.startswith("dialogue.") and arg == "question_id":
            key = "dialogue_question_id"
        elif rule.endpoint.startswith("events.") and arg == "attendee_id":
            key = "event_attendee_id"
        elif arg == "token":
            key = {"plans": "plan_token", "measurement": "questionnaire_token", "invites": "feed_token",
                   "feedback": "letter_token", "scheduling": "offer_token"}[
                rule.endpoint.split(".")[0]]
        if values.get(key) is None:
            return None
        args[arg] = values[key]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(args[m.group(1)]), rule.rule)


def query_names() -> list[str]:
    """The query parameters the app reads anywhere (request.args.get("…") and the pager's "sida")."""
    names = set()
    for path in (ROOT / "coordinator").rglob("*.py"):
        names |= set(re.findall(r'args\.get(?:list)?\(\s*"([a-z_]+)"', path.read_text()))
    return sorted((names | {"sida"}) - {"process_revision_directives"})


@pytest.fixture(scope="module")
def world(demo):
    """The demo's app with real URL values, a logged-in client per role, and every form the app's pages show,
    keyed by the route it posts to."""
    app = demo
    values = route_values(app)
    clients = {role: Client(app, USERS[role]) for role in ROLES}
    clients["anon"] = Client(app, None)
    # A stranger's address for the anonymous examples, so the login throttle never counts the test's own.
    clients["anon"].http.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    clients["anon"].token = clients["anon"]._token()
    adapter = app.url_map.bind("localhost")
    forms: dict[str, list[tuple[str, dict[str, str]]]] = {}
    get_fields: dict[str, set[str]] = {}
    urls = {}
    for rule in app.url_map.iter_rules():
        url = build_url(rule, values)
        if url is not None:
            urls[rule.endpoint] = url
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        url = urls.get(rule.endpoint)
        if url is None or "GET" not in rule.methods or rule.endpoint in EXCLUDED \
                or re.search(r"\.(pdf|csv|ics)$", rule.rule):
            continue
        pages.append((rule.endpoint, url))
    pages += [("", url) for url in extra_pages(app)]
    files: set[str] = set()
    for endpoint, url in pages:
        client = clients["anon" if endpoint in ANONYMOUS_ENDPOINTS else "admin"]
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        parser = Forms("http://localhost" + url)
        parser.feed(response.get_data(as_text=True))
        files |= parser.files
        for method, action, fields in parser.forms:
            parts = urlsplit(action)
            try:
                endpoint, _args = adapter.match(unquote(parts.path), method=method)
            except (NotFound, MethodNotAllowed, RequestRedirect):
                continue
            if method == "GET":
                get_fields.setdefault(endpoint, set()).update(fields)
            else:
                fields = {**dict(parse_qsl(parts.query)), **fields}
                forms.setdefault(endpoint, []).append((parts.path + (f"?{parts.query}" if parts.query else ""),
                                                       fields))
    all_names = sorted({name for found in forms.values() for _url, fields in found for name in fields}
                       - {"csrf_token"})
    return {"app": app, "values": values, "clients": clients, "forms": forms, "urls": urls,
            "get_fields": get_fields, "all_names": all_names, "query_names": query_names(), "files": files}


def extra_pages(app) -> list[str]:
    """Pages that show forms the pages of route_values' ids do not: a visit in each state, every event,
    sample and questionnaire, open tasks and a note's history."""
    with app.app_context():
        def ids(sql: str) -> list:
            return list(db.session.execute(text(sql)).scalars())

        urls = [f"/besok/{i}" for i in ids("SELECT min(id) FROM visit GROUP BY status")]
        urls += [f"/dialogforum/{i}" for i in ids("SELECT id FROM event ORDER BY id")]
        urls += [f"/urval/{i}" for i in ids("SELECT id FROM sample ORDER BY id")]
        for q in ids("SELECT id FROM questionnaire ORDER BY id"):
            urls += [f"/matningar/enkater/{q}"] + [f"/matningar/enkater/{q}/fragor/{i}" for i in
                                                   ids(f"SELECT id FROM question WHERE questionnaire_id = {q}")][:2]
        urls += [f"/uppgifter/{i}" for i in ids("SELECT id FROM task ORDER BY id")[:5]]
        urls += [f"/matningar/omgang/{r}/plats/{s}" for r, s in db.session.execute(text(
            "SELECT round, site_id FROM measurement_request ORDER BY id")).all()[:3]]
        urls += [f"/dialog/besok/{v}/historik/1" for v in ids("SELECT DISTINCT visit_id FROM note "
                                                              "WHERE visit_id IS NOT NULL ORDER BY visit_id")[:2]]
        urls += [f"/dialog/forum/{e}/historik/1" for e in ids("SELECT DISTINCT event_id FROM note "
                                                              "WHERE event_id IS NOT NULL ORDER BY event_id")[:2]]
        urls += ["/utkorg?status=failed", "/utkorg?status=pending", "/kontakter"]
        return urls


def routes(app) -> list[tuple[str, str]]:
    """(endpoint, method) of every route, the ones that remove things last."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, method, rule.rule))
    found.sort(key=lambda r: (bool(LAST.search(r[2])), r[2], r[1]))
    return [(endpoint, method) for endpoint, method, _rule in found]


def _app_for_listing():
    from coordinator import create_app
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


ROUTES = routes(_app_for_listing())


# --------------------------------------------------------------------------- the properties

def shown(data: dict) -> str:
    return ", ".join(f"{k}={(v[:60] + f'…({len(v)} chars)') if len(v) > 60 else v!r}" for k, v in data.items())


def client_for(world, endpoint: str, role: str) -> Client:
    return world["clients"]["anon" if endpoint in TOKEN_ENDPOINTS else role]


def check(world, endpoint, role, response, described):
    assert response.status_code < 500, f"{described} → {response.status_code}"
    location = response.headers.get("Location", "")
    if role in ROLES and "/logga-in" in location and endpoint not in ANONYMOUS_ENDPOINTS:
        world["clients"][role].login(USERS[role])  # an example ended the session (a password change…)


def settings_for(method: str, examples: int):
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as sent
                    suppress_health_check=list(HealthCheck))


def test_every_route_is_covered_or_excluded(world):
    """Every route of the app is filled by the property tests below, or excluded here with a reason."""
    app = world["app"]
    uncovered = [r.rule for r in app.url_map.iter_rules()
                 if r.endpoint not in EXCLUDED and r.endpoint not in world["urls"] and r.endpoint not in world["forms"]]
    assert not uncovered, f"routes with no value for their arguments: {uncovered}; add one to route_values"
    assert not set(EXCLUDED) - {r.endpoint for r in app.url_map.iter_rules()}, "EXCLUDED names a route no more"
    assert len(world["forms"]) >= 50, "the crawl should find the forms of most POST routes"


@pytest.mark.parametrize("endpoint, method", [r for r in ROUTES if r[0] not in EXCLUDED],
                         ids=lambda v: v.replace(".", "-"))
def test_no_hostile_input_gives_a_server_error(world, endpoint, method):
    """Whatever is put in a route's form fields, path ids and query parameters, the answer is below 500:
    a page, a refusal in words, a redirect or a 4xx, as each role and on this database."""
    app = world["app"]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
    slow = bool(SLOW.search(rule.rule))
    examples = 6 if slow else (40 if method == "POST" else 20)
    found = world["forms"].get(ALIASES.get(endpoint, endpoint), []) if method == "POST" else []
    if endpoint in ALIASES and world["urls"].get(endpoint):
        found = [(world["urls"][endpoint], fields) for _url, fields in found]
    base_url = world["urls"].get(endpoint)
    if method == "POST" and found:
        targets = found
    elif base_url is not None:
        targets = [(base_url, {name: "" for name in world["all_names"]} if method == "POST" else {})]
    else:
        pytest.fail(f"{rule.rule}: no URL (see test_every_route_is_covered_or_excluded)")
    path_args = [a for a in rule.arguments if a != "filename"]
    query = sorted(set(world["query_names"]) | world["get_fields"].get(endpoint, set()))

    @settings_for(method, examples)
    @given(st.data())
    def example(data):
        role = "anon" if endpoint in ANONYMOUS_ENDPOINTS else data.draw(st.sampled_from(ROLES), label="role")
        url, fields = data.draw(st.sampled_from(targets), label="form")
        path, _, own_query = url.partition("?")
        # A path argument now and then hostile (ids beyond the database's integers, text, NUL…).
        if path_args and data.draw(st.integers(0, 3), label="bad path?") == 0:
            arg = data.draw(st.sampled_from(path_args), label="path argument")
            converter = rule._converters.get(arg)
            bad = data.draw(hostile_int() if type(converter).__name__ == "IdConverter" else hostile_value(),
                            label="path value")
            path = replace_argument(rule, path, arg, bad)
        params = dict(parse_qsl(own_query))
        for name in data.draw(st.lists(st.sampled_from(query), max_size=3, unique=True), label="query"):
            params[name] = data.draw(st.one_of(hostile_int(), hostile_value()), label=name)
        client = client_for(world, endpoint, role)
        if method == "GET":
            note(f"GET {path} as {role}: {shown(params)}")
            response = client.get(path, query_string=params)
            check(world, endpoint, role, response, f"GET {path} as {role} with {shown(params)}")
            return
        sent = dict(fields)
        names = sorted(set(fields) - {"csrf_token"})
        if not found:
            # No page shows this route's form (in the demo's state): every field name the app uses, all
            # with one hostile value, so whatever the route reads is hostile.
            same = data.draw(hostile_value(), label="every field")
            sent = {name: same for name in names}
        else:
            for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
                                  if names else st.just([]), label="hostile fields"):
                sent[name] = data.draw(hostile_value(fields[name]), label=name)
        for name in set(sent) & world["files"]:
            sent[name] = (io.BytesIO(sent[name].encode("utf-8", "surrogatepass")), "fil.csv")
        sent.pop("csrf_token", None)
        described = f"POST {path} as {role} with " + shown(
            {k: v if isinstance(v, str) else "<file>" for k, v in sent.items() if v != fields.get(k)})
        note(described)
        response = client.post(path, data=sent, query_string=params)
        check(world, endpoint, role, response, described)

    example()


# --------------------------------------------------------------------------- found by the examples above

BEYOND = ["379223372036854775808", str(2**63), str(2**64), str(2**31), "²", "٣", "-1", " 12x"]


@pytest.mark.parametrize("raw", BEYOND)
def test_a_feed_for_a_site_id_that_is_no_database_integer_is_refused_in_words(world, raw):
    """The calendar feed form with a site id beyond a 64-bit integer once reached SQLite and gave a 500 (found
    by the examples above: "37" + 2**63); now such an id, like any that names no site, is refused in words."""
    from sqlalchemy import func, select

    from coordinator.invites.models import FeedToken

    app, staff = world["app"], world["clients"]["staff"]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(FeedToken))
    response = staff.post("/kalenderflöden/ny", {"site_id": raw}, follow_redirects=True)
    assert response.status_code == 200
    assert "Flödet skapades inte: den valda platsen finns inte i det antagna urvalet." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedToken)) == before


def test_parse_id_takes_plain_digits_that_fit_the_database():
    from coordinator.forms import parse_id

    assert [parse_id(v) for v in ("12", " 7 ", "0", str(2**31 - 1))] == [12, 7, 0, 2**31 - 1]
    assert all(parse_id(v) is None for v in BEYOND + ["", "1e3", "\x00", "1\x002", "0x10", None, 12])


@pytest.mark.parametrize("raw", ["²", "379223372036854775808"])
def test_a_page_number_or_hidden_id_in_other_digits_is_no_server_error(world, raw):
    """`?sida=²` (a digit to str.isdigit, not to int) and ids beyond the database's integer in the hidden ids of
    the forms that carry them (a programme part, a plan goal, a note's passage, a forum's organisation)."""
    staff, admin = world["clients"]["staff"], world["clients"]["admin"]
    for client, url, query in ((staff, "/uppgifter/", {}), (admin, "/logg/", {}), (staff, "/dialog/sok", {"q": "barn"})):
        response = client.get(url, query_string={**query, "sida": raw})
        assert response.status_code == 200, f"{url} sida={raw!r} → {response.status_code}"
    for endpoint, field in (("scheduling.save_programme", "parts-0-id"), ("plans.followup", "situations-0-goal_id"),
                            ("events.attendance", "organisation"), ("dialogue.note_save", "fraga-1.0.id")):
        assert world["forms"].get(endpoint), f"the demo shows no form posting to {endpoint}"
        url, fields = world["forms"][endpoint][0]
        assert field in fields, f"{endpoint}: {sorted(fields)}"
        response = staff.post(url, data={**fields, field: raw})
        assert response.status_code < 500, f"{endpoint} {field}={raw!r} → {response.status_code}"


def replace_argument(rule, path: str, arg: str, value: str) -> str:
    """`path` (a URL of `rule`) with the segment that holds `arg` replaced by `value`, URL-quoted."""
    from urllib.parse import quote

    pattern = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "(?P<" + m.group(1) + ">[^/]+?)"
                     if m.group(1) != "filename" else ".+", re.escape(rule.rule).replace(r"\<", "<").replace(r"\>", ">"))
    match = re.fullmatch(pattern, unquote(path))
    if not match:
        return path
    start, end = match.span(arg)
    plain = unquote(path)
    return quote(plain[:start] + value + plain[end:], safe="/")
