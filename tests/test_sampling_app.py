"""The sample in the app: CLI contract, drafts, adoption, declines, hand-picked selections, protocol."""
import io
import json
import re

from sqlalchemy import func, select

from coordinator.audit import AuditEvent
from coordinator.extensions import db
from coordinator.sampling.models import Decline, Sample
from tests.helpers import confirm_through_page, form_fields


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def cli_json(app, *args):
    result = cli(app, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_registry_summary_contract(app):
    data = cli_json(app, "registry", "summary", "--year", "2014")
    assert data["kommuner"] == 290 and data["lan"] == 21
    assert data["groups"] == {"1": 136, "2": 72, "3": 52, "4": 26, "5": 4}


def test_draw_contract_saves_nothing_without_save(app):
    data = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7")
    assert len(data["sites"]) == 50
    assert {"kommunkod", "kommun", "enhet", "group", "lanskod", "pi"} <= set(data["sites"][0])
    assert "sb" in data["diagnostics"] and data["reserves"]
    assert len({s["lanskod"] for s in data["sites"]}) == 21
    assert "id" not in data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Sample)) == 0


def test_same_seed_gives_the_same_sample_through_the_cli(app):
    a = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "11")
    b = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "11")
    assert a["sites"] == b["sites"] and a["reserves"] == b["reserves"]


def test_draw_save_and_adopt_through_the_cli(app):
    data = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7", "--save")
    assert isinstance(data["id"], int)
    adopted = cli_json(app, "sample", "adopt", str(data["id"]))
    assert adopted["status"] == "antaget" and adopted["sites"] == 50
    with app.app_context():
        sample = db.session.get(Sample, data["id"])
        assert [(s.kommunkod, s.enhet) for s in sample.active_sites] == \
            [(s["kommunkod"], s["enhet"]) for s in data["sites"]]
        assert sample.diagnostics["srs"]["median"] > sample.diagnostics["sb"]


def test_only_one_sample_can_be_adopted(app):
    first = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "1", "--save")["id"]
    second = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "2", "--save")["id"]
    cli_json(app, "sample", "adopt", str(first))
    result = cli(app, "sample", "adopt", str(second), "--json")
    assert result.exit_code == 1
    assert "redan antaget" in json.loads(result.output)["error"]


def test_pi_contract(app):
    pi = cli_json(app, "sample", "pi", "--year", "2014")["pi"]
    assert len(pi) == 290
    assert pi["0980"] == 1.0  # Gotland is forced in
    for kod in ("0180", "1480", "1280", "0380"):
        assert pi[kod] == 1.0
    assert 0 < min(pi.values())


def test_validate_contract_names_each_broken_rule(app, tmp_path):
    sites = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "7")["sites"]
    good = tmp_path / "good.csv"
    good.write_text("kommunkod,enhet\n" + "\n".join(f"{s['kommunkod']},{s['enhet']}" for s in sites))
    assert cli_json(app, "sample", "validate", "--year", "2014", "--file", str(good)) == \
        {"valid": True, "problems": [], "sites": 50}
    # Drop Gotland and one group-2 kommun.
    group2 = next(s for s in sites if s["group"] == 2)
    bad_sites = [s for s in sites if s["kommunkod"] not in ("0980", group2["kommunkod"])]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(f"{s['kommunkod']},{s['enhet']}" for s in bad_sites), encoding="latin-1")
    data = cli_json(app, "sample", "validate", "--year", "2014", "--file", str(bad))
    assert data["valid"] is False
    assert "Gotlands län saknas" in data["problems"]
    assert "grupp 2 har 9 kommuner, ska ha 10" in data["problems"]


def _draw_in_ui(staff, seed="7", **extra):
    response = staff.post("/urval/dra", {"year": "2014", "seed": seed, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_staff_draws_in_the_ui_and_sees_pi_weights_and_diagnostics(app, staff):
    sample_id = _draw_in_ui(staff)
    html = staff.get(f"/urval/{sample_id}").get_data(as_text=True)
    assert "Urvalet i korthet" in html and "Gotland" in html
    assert "Rinkeby" in html or "stadsdel" in html.lower()
    assert re.search(r"<td class=\"num\">1,0000</td>", html)  # forced units show π = 1
    assert "Stevens och Olsen" in html
    assert "Som jämförelse ger stratifierat" in html


def test_draw_with_hand_picked_districts(app, staff):
    sample_id = _draw_in_ui(staff, **{"stadsdel-0180": ["Rinkeby-Kista", "Skarpnäck"]})
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        assert {s.enhet for s in sample.sites if s.kommunkod == "0180"} == {"", "Rinkeby-Kista", "Skarpnäck"}


def test_adopt_in_ui_is_audited_and_frozen(app, staff):
    sample_id = _draw_in_ui(staff)
    html = staff.get(f"/urval/{sample_id}").get_data(as_text=True)
    assert f'href="/urval/{sample_id}/anta"' in html  # a link to the confirmation step, not a one-click button
    response = confirm_through_page(staff, f"/urval/{sample_id}/anta")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Sample, sample_id).adopted
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sample.adopted")).actor == "staff@test.se"
    # An adopted sample cannot be deleted, confirmed or not.
    staff.post(f"/urval/{sample_id}/ta-bort", {"confirmed": "1", "version": "1"})
    with app.app_context():
        assert db.session.get(Sample, sample_id) is not None


def test_stale_adopt_is_refused(app, staff):
    sample_id = _draw_in_ui(staff)
    response = staff.post(f"/urval/{sample_id}/anta", {"version": "999", "confirmed": "1"}, follow_redirects=True)
    assert "ändrats av någon annan" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Sample, sample_id).adopted


def _adopted(app, seed="7"):
    sample_id = cli_json(app, "sample", "draw", "--year", "2014", "--seed", seed, "--save")["id"]
    cli_json(app, "sample", "adopt", str(sample_id))
    return sample_id


def test_decline_brings_in_a_reserve_that_keeps_every_rule(app, staff):
    sample_id = _adopted(app)
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        # The only sampled kommun of its län in its group is the hardest case.
        site = next(s for s in sample.active_sites if s.grupp == 1)
        site_id, old_group = site.id, site.grupp
    typed = {"site_id": str(site_id), "declined_on": "2015-02-03", "reason": "Hög arbetsbelastning"}
    preview = staff.post(f"/urval/{sample_id}/avboj", typed)
    assert preview.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decline)) == 0  # the preview saves nothing
    fields = form_fields(preview.get_data(as_text=True), f"/urval/{sample_id}/avboj")
    assert fields["confirmed"] == "1" and fields["reason"] == "Hög arbetsbelastning"
    response = staff.post(f"/urval/{sample_id}/avboj", fields)
    assert response.status_code == 302
    with app.app_context():
        sample = db.session.get(Sample, sample_id)
        decline = db.session.scalar(select(Decline))
        assert decline.reason == "Hög arbetsbelastning" and str(decline.declined_on) == "2015-02-03"
        assert decline.replacement.grupp == old_group
        assert len(sample.active_sites) == 50
        assert len({s.kommun.lanskod for s in sample.active_sites}) == 21
    protocol = staff.get(f"/urval/{sample_id}/protokoll").get_data(as_text=True)
    assert "Hög arbetsbelastning" in protocol


def test_decline_without_reason_keeps_what_was_typed(app, staff):
    sample_id = _adopted(app)
    with app.app_context():
        site_id = db.session.get(Sample, sample_id).active_sites[0].id
    response = staff.post(f"/urval/{sample_id}/avboj", {"site_id": str(site_id), "declined_on": "2015-02-03", "reason": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Ange skälet" in html and 'value="2015-02-03"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decline)) == 0


def test_hand_picked_selection_in_the_ui(app, staff):
    sites = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "3")["sites"]
    text = "\n".join(f"{s['kommunkod']},{s['enhet']}" for s in sites if s["kommunkod"] != "0980")
    response = staff.post("/urval/handplockat", {"year": "2014", "text": text, "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Gotlands län saknas" in html
    assert "0180,Rinkeby" in html or "0180," in html  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Sample)) == 0
    good = "\n".join(f"{s['kommunkod']},{s['enhet']}" for s in sites)
    response = staff.post("/urval/handplockat", {"year": "2014", "file": (io.BytesIO(good.encode("utf-8-sig")), "urval.csv"),
                                                 "action": "save"}, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        sample = db.session.scalar(select(Sample))
        assert sample.method == "manuellt" and len(sample.sites) == 50


def test_reader_reads_only_the_adopted_protocol(app, reader):
    draft = cli_json(app, "sample", "draw", "--year", "2014", "--seed", "5", "--save")["id"]
    assert reader.get(f"/urval/{draft}/protokoll").status_code == 403
    assert reader.get("/urval/protokoll").status_code == 200
    adopted = _adopted(app, "6")
    assert reader.get(f"/urval/{adopted}/protokoll").status_code == 200
    assert reader.get(f"/urval/{adopted}").status_code == 403
    assert reader.post(f"/urval/{adopted}/avboj", {"site_id": "1", "declined_on": "2015-01-01", "reason": "x"}).status_code == 403
