"""Specification of the sampling design (coordinator/sampling/design.py).

Real reference data, no mocks: the frame is the 290 kommuner with their
registered population on 31 December 2014.
"""

from __future__ import annotations

import csv
import math
import time
from collections import Counter
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from coordinator.sampling import design
from coordinator.sampling.design import (
    DEFAULT_GROUPS,
    METHOD_SV,
    DesignError,
    Frame,
    GroupRule,
    Problem,
    Settings,
    Unit,
    assign_groups,
    controlled_rounding,
    describe,
    draw,
    inclusion_probabilities,
    local_pivotal,
    replacement,
    settings_from_dict,
    settings_to_dict,
    spatial_balance,
    srs_sb,
    target_table,
    validate,
)

# The app ships copies of the reference files; fall back to the shared originals.
_APP_DATA = Path(__file__).parents[1] / "coordinator" / "registry" / "data"
DATA_DIR = _APP_DATA if (_APP_DATA / "kommuner.csv").exists() else Path("/work/shared/data")

STOCKHOLM, GOTEBORG, MALMO, UPPSALA, GOTLAND = "0180", "1480", "1280", "0380", "0980"
SETTINGS = Settings()


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=None)
def load_frame(year: int = 2014) -> Frame:
    """The sampling frame for a reference year, built from the CSV files (codes as strings)."""
    population = {r["kommunkod"]: int(r[str(year)]) for r in _rows("population_1950_2019.csv")}
    centroid = {r["kommunkod"]: r for r in _rows("kommun_centroids.csv")}
    skr = {r["kommunkod"]: r["grupp_kod"] for r in _rows("kommungrupp_skr2017.csv")}
    districts: dict[str, list[str]] = {}
    for r in _rows("stadsdelar_2015.csv"):
        districts.setdefault(r["kommunkod"], []).append(r["enhet"])
    units = tuple(
        Unit(
            kommunkod=r["kommunkod"],
            kommun=r["kommun"],
            lanskod=r["lanskod"],
            population=population[r["kommunkod"]],
            lat=float(centroid[r["kommunkod"]]["lat"]),
            lon=float(centroid[r["kommunkod"]]["lon"]),
            skr_grupp=skr.get(r["kommunkod"]),
        )
        for r in _rows("kommuner.csv")
    )
    return Frame(
        units=units,
        lan_names={r["lanskod"]: r["lan"] for r in _rows("lan.csv")},
        districts={k: tuple(v) for k, v in districts.items()},
        reference_year=year,
    )


@pytest.fixture(scope="module")
def frame() -> Frame:
    return load_frame(2014)


@pytest.fixture(scope="module")
def draws(frame: Frame) -> list[design.Draw]:
    return [draw(frame, SETTINGS, seed) for seed in range(300)]


def texts(problems: list[Problem]) -> list[str]:
    return [p.text for p in problems]


# --- strata and exact inclusion probabilities --------------------------------


def test_2014_group_sizes_are_136_72_52_26_4(frame: Frame) -> None:
    sizes = Counter(assign_groups(frame, SETTINGS).values())
    assert dict(sorted(sizes.items())) == {1: 136, 2: 72, 3: 52, 4: 26, 5: 4}


def test_group_boundaries_follow_oppna_jamforelser() -> None:
    rule = {r.number: r for r in DEFAULT_GROUPS}
    assert rule[1].contains(14_999) and not rule[1].contains(15_000)
    assert rule[2].contains(15_000) and rule[2].contains(29_999)
    assert rule[4].contains(199_999) and rule[5].contains(200_000)
    assert [r.allocation for r in DEFAULT_GROUPS] == [10, 10, 10, 10, None]


def test_group_5_and_gotland_are_certain(frame: Frame) -> None:
    pi = inclusion_probabilities(frame, SETTINGS)
    for code in (STOCKHOLM, GOTEBORG, MALMO, UPPSALA, GOTLAND):
        assert pi[code] == 1.0


def test_pi_sums_to_the_allocation_in_every_group_exactly(frame: Frame) -> None:
    table = target_table(frame, SETTINGS)
    total: Counter[int] = Counter()
    for u in frame.units:
        total[table.groups[u.kommunkod]] += table.pi(u)  # exact fractions
    assert dict(total) == {1: 10, 2: 10, 3: 10, 4: 10, 5: 4}


def test_every_pi_is_a_probability(frame: Frame) -> None:
    pi = inclusion_probabilities(frame, SETTINGS)
    assert len(pi) == 290
    assert all(0 < p <= 1 for p in pi.values())


def test_every_lan_expects_at_least_one_kommun(frame: Frame) -> None:
    table = target_table(frame, SETTINGS)
    covered_by_group_5 = {"01", "03", "12", "14"}
    col: Counter[str] = Counter()
    for (g, lan), m in table.target.items():
        col[lan] += m
    for lan in {u.lanskod for u in frame.units} - covered_by_group_5:
        assert col[lan] >= 1, lan
    # Gotland, Blekinge and Jämtland would get less than one kommun proportionally.
    assert table.lifted == ("09", "10", "23")


def test_pi_is_target_over_cell_size(frame: Frame) -> None:
    table = target_table(frame, SETTINGS)
    for u in frame.units:
        cell = (table.groups[u.kommunkod], u.lanskod)
        if cell in table.target:
            assert table.pi(u) == table.target[cell] / table.size[cell]


def test_too_small_allocation_is_a_design_error_in_swedish(frame: Frame) -> None:
    tiny = Settings(groups=tuple(GroupRule(r.number, r.lower, r.upper, 1 if r.allocation else None)
                                 for r in DEFAULT_GROUPS))
    with pytest.raises(DesignError, match="för få platser"):
        target_table(frame, tiny)
    # Without the län rule the same allocation is fine.
    assert target_table(frame, Settings(groups=tiny.groups, require_all_lan=False))


# --- every draw keeps every rule ----------------------------------------------


def test_every_draw_covers_all_21_lan_with_10_per_group_and_50_sites(draws: list[design.Draw]) -> None:
    for d in draws:
        assert all(n >= 1 for n in d.diagnostics.kommuner_per_lan.values())
        assert len(d.diagnostics.kommuner_per_lan) == 21
        assert d.diagnostics.kommuner_per_group == {1: 10, 2: 10, 3: 10, 4: 10, 5: 4}
        assert len(d.sites) == 50
        per_kommun = Counter(s.kommunkod for s in d.sites)
        assert per_kommun[STOCKHOLM] == per_kommun[GOTEBORG] == per_kommun[MALMO] == 3
        assert per_kommun[UPPSALA] == 1
        assert GOTLAND in per_kommun


def test_every_draw_validates_clean(frame: Frame, draws: list[design.Draw]) -> None:
    for d in draws[:100]:
        assert validate(frame, SETTINGS, d.selection) == []


def test_city_sites_are_central_administration_plus_two_districts(frame: Frame, draws: list[design.Draw]) -> None:
    for d in draws[:50]:
        for city in (STOCKHOLM, GOTEBORG, MALMO):
            enheter = [s.enhet for s in d.sites if s.kommunkod == city]
            assert enheter[0] is None
            assert set(enheter[1:]) <= set(frame.districts[city]) and len(set(enheter[1:])) == 2
            assert set(enheter[1:]).isdisjoint(d.district_reserves[city])
            assert len(d.district_reserves[city]) == len(frame.districts[city]) - 2


def test_stage_1_keeps_the_margins_and_rounds_each_cell_down_or_up(draws: list[design.Draw]) -> None:
    for d in draws:
        rows: Counter[int] = Counter()
        cols: Counter[str] = Counter()
        col_target: Counter[str] = Counter()
        for cell, n in d.allocated.items():
            m = d.target[cell]
            assert n in (math.floor(m + 1e-9), math.ceil(m - 1e-9))
            rows[cell[0]] += n
            cols[cell[1]] += n
            col_target[cell[1]] += m
        assert dict(rows) == {1: 10, 2: 10, 3: 10, 4: 10}
        for lan, c in col_target.items():
            assert cols[lan] in (math.floor(c + 1e-9), math.ceil(c - 1e-9))


def test_reserves_are_the_unsampled_kommuner_of_each_group(frame: Frame, draws: list[design.Draw]) -> None:
    groups = assign_groups(frame, SETTINGS)
    for d in draws[:20]:
        for g, reserve in d.reserves.items():
            unsampled = {c for c, gg in groups.items() if gg == g} - set(d.kommuner)
            assert sorted(reserve) == sorted(unsampled)
        assert set(d.reserves) == {1, 2, 3, 4}


# --- reproducibility -----------------------------------------------------------


def test_same_seed_gives_the_same_sample(frame: Frame) -> None:
    a, b = draw(frame, SETTINGS, 12345), draw(frame, SETTINGS, 12345)
    assert a.sites == b.sites
    assert a.reserves == b.reserves and a.district_reserves == b.district_reserves


def test_order_of_the_frame_does_not_matter(frame: Frame) -> None:
    shuffled = Frame(tuple(reversed(frame.units)), frame.lan_names, frame.districts, 2014)
    assert draw(shuffled, SETTINGS, 7).sites == draw(frame, SETTINGS, 7).sites


def test_different_seeds_give_different_samples(draws: list[design.Draw]) -> None:
    distinct = {d.kommuner for d in draws}
    assert len(distinct) == len(draws)


def test_seed_2014_gives_this_exact_sample(frame: Frame) -> None:
    # Reproducibility promise to the ministry: if this changes, the method changed;
    # bump design.METHOD_VERSION and say so in the protocol.
    assert draw(frame, SETTINGS, 2014).kommuner == (
        "0117", "0136", "0162", "0180", "0181", "0182", "0187", "0305", "0380", "0483", "0512",
        "0581", "0686", "0780", "0883", "0980", "1083", "1231", "1270", "1280", "1286", "1290",
        "1292", "1380", "1383", "1402", "1430", "1466", "1470", "1480", "1487", "1490", "1761",
        "1783", "1884", "1961", "2026", "2161", "2281", "2380", "2463", "2482", "2513", "2582",
    )


# --- pi verified by simulation -------------------------------------------------


def test_empirical_inclusion_frequencies_match_pi(frame: Frame) -> None:
    """4000 draws: every kommun's frequency within 4.5 binomial standard errors
    of its exact pi, and every stage-1 cell count averages to its target."""
    runs = 4000
    started = time.perf_counter()
    hits: Counter[str] = Counter()
    cell_sum: Counter[tuple[int, str]] = Counter()
    for seed in range(10_000, 10_000 + runs):
        d = draw(frame, SETTINGS, seed)
        hits.update(d.kommuner)
        cell_sum.update(d.allocated)
    elapsed = time.perf_counter() - started
    pi = inclusion_probabilities(frame, SETTINGS)
    for code, p in pi.items():
        if p == 1.0:
            assert hits[code] == runs
            continue
        se = math.sqrt(p * (1 - p) / runs)
        assert abs(hits[code] / runs - p) <= 4.5 * se, (code, hits[code] / runs, p)
    target = draw(frame, SETTINGS, 0).target
    for cell, m in target.items():
        frac = m - math.floor(m)
        se = math.sqrt(frac * (1 - frac) / runs)
        assert abs(cell_sum[cell] / runs - m) <= 4.5 * se + 1e-12, (cell, cell_sum[cell] / runs, m)
    # About 20 s on the development machine; generous bound against a loaded CI box.
    assert elapsed < 60, f"{runs} draws took {elapsed:.1f} s"


def test_controlled_rounding_is_unbiased_and_keeps_margins() -> None:
    target = {
        (1, "a"): Fraction(1, 3), (1, "b"): Fraction(2, 3), (1, "c"): Fraction(1),
        (2, "a"): Fraction(1, 2), (2, "b"): Fraction(3, 4), (2, "c"): Fraction(3, 4),
    }
    runs = 3000
    total: Counter[tuple[int, str]] = Counter()
    for seed in range(runs):
        n = controlled_rounding(target, seed)
        assert n[(1, "a")] + n[(1, "b")] + n[(1, "c")] == 2
        assert n[(2, "a")] + n[(2, "b")] + n[(2, "c")] == 2
        assert n[(1, "c")] == 1
        assert n[(1, "b")] + n[(2, "b")] in (1, 2)  # column sum 17/12
        total.update(n)
    for cell, m in target.items():
        f = float(m) - math.floor(m)
        assert abs(total[cell] / runs - float(m)) <= 4.5 * math.sqrt(f * (1 - f) / runs) + 1e-12


def test_local_pivotal_keeps_equal_probabilities_and_avoids_neighbours() -> None:
    line = np.array([[float(i), 0.0] for i in range(10)])
    runs = 2000
    hits = np.zeros(10)
    adjacent_pairs = 0
    for seed in range(runs):
        s = local_pivotal(line, 5, seed)
        assert len(s) == 5
        hits[s] += 1
        adjacent_pairs += sum(1 for i in s if i + 1 in s)
    assert np.all(np.abs(hits / runs - 0.5) <= 4.5 * math.sqrt(0.25 / runs))
    # Simple random sampling would give 9 * (5/10) * (4/9) = 2 adjacent pairs on average.
    assert adjacent_pairs / runs < 1.5


# --- validation of a hand-picked selection ------------------------------------


def _valid_selection(frame: Frame) -> tuple[design.Draw, list[tuple[str, str | None]]]:
    d = draw(frame, SETTINGS, 2024)
    assert validate(frame, SETTINGS, d.selection) == []
    return d, list(d.selection)


def test_missing_gotland_and_nine_in_group_2_are_both_named(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    groups = d.groups
    per_lan = d.diagnostics.kommuner_per_lan
    # A group-2 kommun whose län stays covered, and an unsampled group-3 kommun instead of Gotland.
    drop = next(s.kommunkod for s in d.sites if s.group == 2 and per_lan[s.lanskod] > 1)
    add = next(c for c in d.reserves[3] if c != GOTLAND)
    selection = [s for s in selection if s[0] not in (GOTLAND, drop)] + [(add, None)]
    assert sorted(texts(validate(frame, SETTINGS, selection))) == sorted([
        "Gotlands län saknas",
        "grupp 2 har 9 kommuner, ska ha 10",
        "urvalet har 49 besöksplatser, ska ha 50",
    ])
    assert groups[add] == 3


def test_each_broken_rule_is_named(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    stockholm_districts = [s for s in selection if s[0] == STOCKHOLM and s[1]]
    broken = [s for s in selection if s[0] not in (UPPSALA,) and s != (GOTEBORG, None)]
    broken = [s for s in broken if s != stockholm_districts[0]]
    broken += [
        ("9999", None),  # unknown code
        selection[0],  # duplicate
        (MALMO, "Atlantis"),  # not a Malmö district
        ("0114", "Centrum"),  # Upplands Väsby has no districts
    ]
    found = {p.code: p for p in validate(frame, SETTINGS, broken)}
    assert found["unknown_kommun"].text == "okänd kommunkod 9999"
    assert found["duplicate"].params["site"]
    assert found["unknown_district"].text == "Atlantis är ingen stadsdel i Malmö"
    assert found["no_districts"].text == "Upplands Väsby har inga stadsdelar, men Centrum är angiven"
    assert found["take_all_missing"].text == "Uppsala saknas (alla kommuner i grupp 5 ska vara med)"
    assert found["central_missing"].text == "centrala förvaltningen i Göteborg saknas"
    assert found["district_count"].text == "Stockholm har 1 stadsdelar, ska ha 2"
    assert found["total_sites"].params["expected"] == 50


def test_district_for_a_sampled_group_kommun_is_not_expected(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    group4 = next(s for s in d.sites if s.group == 4)
    districts = {**frame.districts, group4.kommunkod: ("Norra", "Södra")}
    problems = validate(frame, SETTINGS, selection + [(group4.kommunkod, "Norra")], districts)
    assert [p.code for p in problems] == ["district_not_expected"]


def test_empty_enhet_means_central_administration(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    assert validate(frame, SETTINGS, [(c, e or "") for c, e in selection]) == []


def test_messages_are_translated_before_formatting() -> None:
    english = {"{lan} saknas": "{lan} is missing"}
    problem = Problem("lan_missing", {"lan": "Gotlands län"})
    assert describe(problem) == problem.text == "Gotlands län saknas"
    assert describe(problem, lambda s: english.get(s, s)) == "Gotlands län is missing"


# --- replacements ---------------------------------------------------------------


def _only_kommun_of_its_lan(frame: Frame, need_same_lan_reserve: bool) -> tuple[design.Draw, design.Site]:
    for seed in range(500):
        d = draw(frame, SETTINGS, seed)
        for s in d.sites:
            if s.group == 5 or s.kommunkod == GOTLAND or d.diagnostics.kommuner_per_lan[s.lanskod] != 1:
                continue
            same = [c for c in d.reserves[s.group] if frame.unit(c).lanskod == s.lanskod]
            if bool(same) == need_same_lan_reserve and d.reserves[s.group][0] not in same:
                return d, s
    raise AssertionError("no suitable draw found")


def test_replacing_the_only_kommun_of_a_lan_stays_in_that_lan(frame: Frame) -> None:
    d, declined = _only_kommun_of_its_lan(frame, need_same_lan_reserve=True)
    current = d.selection
    new = replacement(frame, d, current, declined.key)
    assert new is not None
    same_lan = [c for c in d.reserves[declined.group] if frame.unit(c).lanskod == declined.lanskod]
    assert new == (same_lan[0], None)  # first reserve that keeps the län covered
    assert d.groups[new[0]] == declined.group
    after = [s for s in current if s != declined.key] + [new]
    assert validate(frame, SETTINGS, after) == []


def test_no_replacement_when_no_kommun_of_the_group_can_cover_the_lan(frame: Frame) -> None:
    d, declined = _only_kommun_of_its_lan(frame, need_same_lan_reserve=False)
    assert replacement(frame, d, d.selection, declined.key) is None
    assert replacement(frame, d, d.selection, (GOTLAND, None)) is None


def test_replacement_is_the_first_unused_reserve_when_the_lan_stays_covered(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    declined = next(s for s in d.sites if s.group == 1 and d.diagnostics.kommuner_per_lan[s.lanskod] > 1)
    first = replacement(frame, d, selection, declined.key)
    assert first == (d.reserves[1][0], None)
    # The first reserve declines too: the next one is offered, the refusals are not reused.
    after = [s for s in selection if s != declined.key] + [first]
    second = replacement(frame, d, after, first, excluded=[declined.key])
    assert second is not None and second[0] not in (declined.kommunkod, first[0])
    assert validate(frame, SETTINGS, [s for s in after if s != first] + [second]) == []


def test_take_all_kommun_has_no_replacement_but_a_district_does(frame: Frame) -> None:
    d, selection = _valid_selection(frame)
    assert replacement(frame, d, selection, (STOCKHOLM, None)) is None
    district = next(s for s in d.sites if s.kommunkod == GOTEBORG and s.enhet)
    assert replacement(frame, d, selection, district.key) == (GOTEBORG, d.district_reserves[GOTEBORG][0])


# --- hand-picked districts, settings -------------------------------------------


def test_districts_can_be_chosen_by_hand(frame: Frame) -> None:
    auto = draw(frame, SETTINGS, 99)
    hand = draw(frame, SETTINGS, 99, district_choice={MALMO: ["Innerstaden", "Söder"]})
    malmo = [s for s in hand.sites if s.kommunkod == MALMO and s.enhet]
    assert {s.enhet for s in malmo} == {"Innerstaden", "Söder"}
    assert all(s.pi is None for s in malmo)  # not a random choice
    assert hand.kommuner == auto.kommuner and hand.reserves == auto.reserves
    assert validate(frame, SETTINGS, hand.selection) == []
    with pytest.raises(DesignError):
        draw(frame, SETTINGS, 99, district_choice={MALMO: ["Atlantis", "Söder"]})


def test_skr_balancing_keeps_pi_and_rules(frame: Frame) -> None:
    skr = Settings(balance_skr=True)
    assert inclusion_probabilities(frame, skr) == inclusion_probabilities(frame, SETTINGS)
    for seed in range(30):
        d = draw(frame, skr, seed)
        assert validate(frame, skr, d.selection) == []
    assert any(draw(frame, skr, s).kommuner != draw(frame, SETTINGS, s).kommuner for s in range(10))


def test_another_reference_year_also_gives_a_valid_sample() -> None:
    frame_2019 = load_frame(2019)
    for seed in range(20):
        d = draw(frame_2019, SETTINGS, seed)
        assert validate(frame_2019, SETTINGS, d.selection) == []
        assert d.reference_year == 2019


def test_settings_round_trip_through_json_form() -> None:
    s = Settings(balance_skr=True)
    assert settings_from_dict(settings_to_dict(s)) == s


def test_protocol_text_is_swedish_and_explains_the_method(frame: Frame) -> None:
    d = draw(frame, SETTINGS, 1)
    assert d.method["description"] == METHOD_SV
    for phrase in ("Öppna jämförelser", "Alla län ska vara med", "lokala pivotmetoden", "1/π", "fröstal", "reserv"):
        assert phrase in METHOD_SV
    assert d.method["seed"] == 1 and d.method["reference_year"] == 2014


# --- spatial balance -----------------------------------------------------------


def test_spatial_balance_on_a_tiny_line() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    half = np.full(4, 0.5)
    # Ends sampled: each gets 0.5 + 0.5 = 1, perfect balance.
    assert spatial_balance(half, xy, [0, 3]) == 0.0
    # Left pair sampled: unit 0 gets 0.5, unit 1 gets 1.5 -> ((-0.5)^2 + 0.5^2) / 2.
    assert spatial_balance(half, xy, [0, 1]) == pytest.approx(0.25)
    # A tie is split equally: three points, ends sampled, middle gives 0.25 to each.
    assert spatial_balance(np.full(3, 0.5), xy[:3], [0, 2]) == pytest.approx(0.0625)


def test_design_is_better_spread_than_stratified_random_sampling(frame: Frame, draws: list[design.Draw]) -> None:
    design_sb = float(np.median([d.diagnostics.sb for d in draws[:100]]))
    srs = float(np.median(srs_sb(frame, SETTINGS, range(100))))
    assert design_sb <= 0.7 * srs
    assert set(draws[0].diagnostics.sb_per_group) == {1, 2, 3, 4, 5}
