"""How the 50 visit sites are chosen: a stratified, controlled and spread sample.

Plain words
-----------
*Strata.* Every kommun is put in an Öppna jämförelser population group by its
registered population on 31 December of the reference year (group 1: under
15 000, 2: 15 000-29 999, 3: 30 000-69 999, 4: 70 000-199 999, 5: 200 000 or
more). Thresholds and allocation are data (``Settings``), these are defaults.

*Allocation.* 10 kommuner are drawn in each of groups 1-4. Group 5 is "take
all": every kommun in it is visited (inclusion probability 1). A take-all city
with districts (Stockholm, Göteborg, Malmö) gives three sites: its central
administration plus two districts drawn at random; Uppsala gives one site.
With 2014 figures that is 40 + 3 + 3 + 3 + 1 = 50 sites.

*Every län is covered, by construction.* This is controlled selection
(Goodman & Kish 1950) in two stages, so inclusion probabilities stay exact:

1. A target table m[g, L] (group x län) of expected counts starts out
   proportional, m = n_g * N_gL / N_g. A län already covered by a take-all
   group needs nothing. Any other län whose column sums to less than one
   kommun is lifted to exactly one (its cells scaled up, never above N_gL),
   frozen, and the other län of each group are scaled down so that every
   group still sums to n_g. Repeat until no län is short. Gotland (one
   kommun) ends with m = 1. The table is computed in exact fractions.
2. Stage 1 rounds m at random to integers n[g, L] (unbiased controlled
   rounding, Cox 1987): every cell becomes floor or ceil of its target, each
   group gets exactly n_g, each län floor or ceil of its column sum (so at
   least one) and E[n] = m.
3. Stage 2 picks n[g, L] of the N_gL kommuner of each cell with equal
   probability by the local pivotal method (Grafström, Lundström & Schelin
   2012) on the kommun centroids, which spreads the sample geographically.
   Optionally SKR kommungrupp (A/B/C) is added as extra coordinates.

Hence pi_k = m[g, L] / N_gL exactly, and results are weighted by 1 / pi.

*Reproducible.* All randomness comes from numpy's PCG64 seeded by the given
seed and is consumed in a fixed order (sorted codes), with exact integer
arithmetic for every random decision: same frame, reference year, settings and
seed give the same sample on any machine.

*Reserves.* Per sampled group, the non-sampled kommuner in a seeded random
order; a declining kommun is replaced by the first reserve that keeps every
rule (see ``replacement``). Districts have their own reserve order.

Pure Python + numpy on purpose: no Flask or database here, so the method can
be tested and re-run on its own.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # numpy is imported by the functions that compute: the pages that only show a design (registry, sample)
    # are served by web workers that need not hold it.
    import numpy as np

from ..registry.groups import GroupRule  # noqa: F401 (the design's API names it too)

METHOD_NAME = "controlled-selection-lpm"
METHOD_VERSION = "1"

# Projection of WGS84 centroids to km. A fixed cos(62°) (mid-Sweden) is plenty
# for nearest-neighbour questions and keeps the method trivially reproducible.
KM_PER_DEG_LON = math.cos(math.radians(62.0)) * 111.32
KM_PER_DEG_LAT = 110.57

_TWO53 = 1 << 53


class DesignError(ValueError):
    """The settings cannot produce a valid design (message in Swedish)."""


def N_(s: str) -> str:
    """Mark a string for translation extraction (pybabel knows ``N_``)."""
    return s


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    kommunkod: str
    kommun: str
    lanskod: str
    population: int
    lat: float
    lon: float
    skr_grupp: str | None = None  # SKR code ("A2") or main group ("A")


@dataclass(frozen=True)
class Frame:
    units: tuple[Unit, ...]
    lan_names: Mapping[str, str]
    districts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reference_year: int | None = None

    def __post_init__(self) -> None:
        # Sorted by code so that results never depend on input order.
        units = tuple(sorted(self.units, key=lambda u: u.kommunkod))
        codes = [u.kommunkod for u in units]
        if len(set(codes)) != len(codes):
            dup = sorted(c for c, k in Counter(codes).items() if k > 1)
            raise DesignError(f"Kommunkoden förekommer flera gånger i ramen: {', '.join(dup)}")
        object.__setattr__(self, "units", units)
        object.__setattr__(
            self, "districts", {k: tuple(v) for k, v in sorted(self.districts.items()) if v}
        )

    def unit(self, kommunkod: str) -> Unit:
        for u in self.units:
            if u.kommunkod == kommunkod:
                return u
        raise KeyError(kommunkod)

    def lan_name(self, lanskod: str) -> str:
        return self.lan_names.get(lanskod, lanskod)


DEFAULT_GROUPS: tuple[GroupRule, ...] = (
    GroupRule(1, 0, 15_000, 10),
    GroupRule(2, 15_000, 30_000, 10),
    GroupRule(3, 30_000, 70_000, 10),
    GroupRule(4, 70_000, 200_000, 10),
    GroupRule(5, 200_000, None, None, districts_per_city=2),
)


@dataclass(frozen=True)
class Settings:
    groups: tuple[GroupRule, ...] = DEFAULT_GROUPS
    require_all_lan: bool = True
    balance_skr: bool = False
    skr_scale_km: float = 100.0  # weight of one SKR main-group step in the LPM space

    def rule(self, number: int) -> GroupRule:
        for r in self.groups:
            if r.number == number:
                return r
        raise KeyError(number)

    def rules(self) -> dict[int, GroupRule]:
        return {r.number: r for r in self.groups}


def settings_to_dict(settings: Settings) -> dict[str, object]:
    """JSON-friendly form, for the sample protocol."""
    return {
        "groups": [
            {
                "number": r.number,
                "lower": r.lower,
                "upper": r.upper,
                "allocation": r.allocation,
                "districts_per_city": r.districts_per_city,
            }
            for r in settings.groups
        ],
        "require_all_lan": settings.require_all_lan,
        "balance_skr": settings.balance_skr,
        "skr_scale_km": settings.skr_scale_km,
    }


def settings_from_dict(data: Mapping[str, object]) -> Settings:
    groups = tuple(
        GroupRule(
            int(g["number"]),
            int(g["lower"]),
            None if g.get("upper") is None else int(g["upper"]),
            None if g.get("allocation") is None else int(g["allocation"]),
            int(g.get("districts_per_city", 2)),
        )
        for g in data.get("groups", [])  # type: ignore[union-attr]
    ) or DEFAULT_GROUPS
    return Settings(
        groups=groups,
        require_all_lan=bool(data.get("require_all_lan", True)),
        balance_skr=bool(data.get("balance_skr", False)),
        skr_scale_km=float(data.get("skr_scale_km", 100.0)),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------
# Groups and the exact target table
# --------------------------------------------------------------------------


def assign_groups(frame: Frame, settings: Settings) -> dict[str, int]:
    """kommunkod -> group number."""
    out: dict[str, int] = {}
    for u in frame.units:
        hits = [r.number for r in settings.groups if r.contains(u.population)]
        if len(hits) != 1:
            raise DesignError(
                f"{u.kommun} ({u.population} invånare) passar i {len(hits)} grupper, ska passa i exakt en"
            )
        out[u.kommunkod] = hits[0]
    return out


Cell = tuple[int, str]  # (group, lanskod)


@dataclass(frozen=True)
class TargetTable:
    groups: Mapping[str, int]  # kommunkod -> group
    size: Mapping[Cell, int]  # N_gL for every non-empty cell, all groups
    target: Mapping[Cell, Fraction]  # m_gL, sampled groups only
    lifted: tuple[str, ...]  # län lifted to exactly one expected kommun

    def pi(self, unit: Unit) -> Fraction:
        cell = (self.groups[unit.kommunkod], unit.lanskod)
        if cell not in self.target:  # take-all group
            return Fraction(1)
        return self.target[cell] / self.size[cell]


def _sampled_rules(settings: Settings) -> list[GroupRule]:
    return sorted((r for r in settings.groups if not r.take_all), key=lambda r: r.number)


def target_table(frame: Frame, settings: Settings) -> TargetTable:
    """Expected counts m[g, L]; exact fractions so pi is exact too."""
    return _prepare(frame, settings).table


def _build_target_table(frame: Frame, settings: Settings) -> TargetTable:
    groups = assign_groups(frame, settings)
    size: Counter[Cell] = Counter((groups[u.kommunkod], u.lanskod) for u in frame.units)
    n_group: Counter[int] = Counter(groups.values())
    sampled = _sampled_rules(settings)
    lans = sorted({u.lanskod for u in frame.units})

    m: dict[Cell, Fraction] = {}
    for r in sampled:
        n, N = r.allocation or 0, n_group[r.number]
        if n < 0 or n > N:
            raise DesignError(f"Grupp {r.number} har {N} kommuner, det går inte att välja {n}")
        for L in lans:
            if size[(r.number, L)]:
                m[(r.number, L)] = Fraction(n * size[(r.number, L)], N) if N else Fraction(0)

    lifted: list[str] = []
    if settings.require_all_lan:
        covered = {L for (g, L) in size if settings.rule(g).take_all}
        required = [L for L in lans if L not in covered]

        columns: dict[str, list[Cell]] = defaultdict(list)
        for c in m:
            columns[c[1]].append(c)

        def col(L: str) -> list[Cell]:
            return [c for c in columns[L] if m[c] > 0]

        for L in required:
            if not col(L):
                raise DesignError(
                    f"{frame.lan_name(L)} kan inte komma med: länet har inga kommuner i grupper som det dras urval i"
                )
        fixed: set[str] = set()
        for _ in range(len(required) + 1):
            low = [L for L in required if L not in fixed and sum(m[c] for c in col(L)) < 1]
            if not low:
                break
            for L in low:
                _lift_to_one(m, size, col(L), frame.lan_name(L))
                fixed.add(L)
                lifted.append(L)
            for r in sampled:
                n = r.allocation or 0
                row = [c for c in m if c[0] == r.number]
                frozen = sum((m[c] for c in row if c[1] in fixed), Fraction(0))
                free = [c for c in row if c[1] not in fixed and m[c] > 0]
                free_sum = sum((m[c] for c in free), Fraction(0))
                if frozen > n or (free_sum == 0 and frozen != n):
                    raise DesignError(
                        f"Grupp {r.number} har för få platser ({n}) för att alla län ska kunna komma med"
                    )
                if free_sum:
                    scale = (n - frozen) / free_sum  # <= 1: lifting only takes from the others
                    for c in free:
                        m[c] *= scale
        else:  # pragma: no cover - each round fixes at least one län
            raise DesignError("Målfördelningen över län gick inte att lösa")

    # Read-only views: the table is shared through the cache.
    return TargetTable(
        groups=MappingProxyType(groups),
        size=MappingProxyType(dict(size)),
        target=MappingProxyType(m),
        lifted=tuple(sorted(lifted)),
    )


def _lift_to_one(m: dict[Cell, Fraction], size: Mapping[Cell, int], cells: list[Cell], lan: str) -> None:
    """Scale a län's cells by a common factor t so they sum to 1, capping each at N_gL."""
    order = sorted(cells, key=lambda c: (Fraction(size[c]) / m[c], c))  # cap thresholds
    capped_sum, rest = Fraction(0), sum((m[c] for c in cells), Fraction(0))
    t: Fraction | None = None
    for c in order:
        t = (1 - capped_sum) / rest
        if t * m[c] <= size[c]:
            break
        capped_sum += size[c]
        rest -= m[c]
        t = None
    if t is None:  # pragma: no cover - N_gL >= 1 for every listed cell
        raise DesignError(f"{lan} kan inte få minst en kommun")
    for c in cells:
        m[c] = min(t * m[c], Fraction(size[c]))


def inclusion_probabilities(frame: Frame, settings: Settings) -> dict[str, float]:
    """Exact first-order inclusion probability of every kommun in the frame."""
    pi = _prepare(frame, settings).pi
    return {u.kommunkod: pi[i] for i, u in enumerate(frame.units)}


# --------------------------------------------------------------------------
# Randomness: exact integer decisions on top of PCG64
# --------------------------------------------------------------------------


class _Stream:
    """All randomness of a draw: the uniforms u1, u2, ... of
    numpy.random.Generator(PCG64(seed)).random(), used strictly in order.

    Every decision is made from them in exact integer arithmetic (each u is
    k / 2**53 for an integer k), so a draw depends on nothing but the seed, the
    PCG64 stream and this code. Fetched in blocks for speed; the sequence is
    the same as one call per number.
    """

    def __init__(self, seed: int) -> None:
        import numpy as np
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._buf: list[int] = []
        self._pos = 0

    def _k(self) -> int:
        if self._pos == len(self._buf):
            self._buf = [int(u * _TWO53) for u in self._rng.random(256)]
            self._pos = 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def bernoulli(self, num: int, den: int) -> bool:
        """True with probability num/den (to within 2**-53)."""
        return self._k() * den < num * _TWO53

    def below(self, n: int) -> int:
        """Uniform integer in [0, n), exactly (rejection of the uneven tail)."""
        limit = _TWO53 - _TWO53 % n
        while True:
            k = self._k()
            if k < limit:
                return k % n

    def shuffled(self, items: Sequence[str]) -> list[str]:
        """Random order (Fisher-Yates)."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


def controlled_rounding(target: Mapping[Cell, Fraction], seed: int) -> dict[Cell, int]:
    """Unbiased controlled rounding (Cox 1987) of a table with integer row sums.

    Every cell ends at floor or ceil of its value, every row keeps its sum,
    every column ends at floor or ceil of its sum, and E[result] = target.
    """
    return _round(_RoundingSetup.of(target), _Stream(seed))


@dataclass(frozen=True)
class _RoundingSetup:
    """The table as integers over a common denominator, plus a slack row."""

    D: int
    keys: tuple[Cell, ...]  # sorted; slack cells have row -1
    start: tuple[int, ...]

    @staticmethod
    def of(target: Mapping[Cell, Fraction]) -> _RoundingSetup:
        D = 1
        for v in target.values():
            D = math.lcm(D, Fraction(v).denominator)
        val = {c: int(Fraction(target[c]) * D) for c in sorted(target)}
        rows: dict[int, int] = defaultdict(int)
        cols: dict[str, int] = defaultdict(int)
        for (g, L), v in val.items():
            rows[g] += v
            cols[L] += v
        if any(v % D for v in rows.values()):
            raise ValueError("controlled rounding needs integer row sums")
        # Slack cell ceil(c_L) - c_L makes every column sum an integer as well.
        for L, v in sorted(cols.items()):
            if v % D:
                val[(-1, L)] = -v % D
        keys = tuple(sorted(val))
        return _RoundingSetup(D, keys, tuple(val[c] for c in keys))


def _round(setup: _RoundingSetup, rng: _Stream) -> dict[Cell, int]:
    """Move mass around cycles of fractional cells (keeps every margin); each
    step is +d1 or -d2 with probabilities that keep every cell's expectation."""
    D = setup.D
    val = dict(zip(setup.keys, setup.start))
    lo = {c: (v // D) * D for c, v in val.items()}
    # Adjacency of fractional cells, in sorted order; a cell leaves for good once
    # it is an integer (it then sits on a bound and can never move again).
    row_adj: dict[int, list[Cell]] = defaultdict(list)
    col_adj: dict[str, list[Cell]] = defaultdict(list)
    frac = [c for c in setup.keys if val[c] % D]
    for c in frac:
        row_adj[c[0]].append(c)
        col_adj[c[1]].append(c)
    while frac:
        cycle = _find_cycle(frac[0], row_adj, col_adj)
        plus, minus = cycle[0::2], cycle[1::2]
        d1 = min([lo[c] + D - val[c] for c in plus] + [val[c] - lo[c] for c in minus])
        d2 = min([val[c] - lo[c] for c in plus] + [lo[c] + D - val[c] for c in minus])
        # +d1 with probability d2/(d1+d2), else -d2: expected change zero.
        step = d1 if rng.bernoulli(d2, d1 + d2) else -d2
        for c in plus:
            val[c] += step
        for c in minus:
            val[c] -= step
        done = [c for c in cycle if val[c] % D == 0]
        for c in done:
            row_adj[c[0]].remove(c)
            col_adj[c[1]].remove(c)
        if done:
            frac = [c for c in frac if val[c] % D]
    return {c: v // D for c, v in val.items() if c[0] != -1}


def _find_cycle(
    start: Cell, row_adj: Mapping[int, list[Cell]], col_adj: Mapping[str, list[Cell]]
) -> list[Cell]:
    """Cycle of fractional cells (edges of the row/column bipartite graph).

    Integer margins mean every row/column touching a fractional cell touches at
    least two, so a walk that never turns back must close a cycle.
    """
    nodes: list[tuple[str, object]] = [("r", start[0])]
    pos = {nodes[0]: 0}
    edges: list[Cell] = []
    edge: Cell = start
    node: tuple[str, object] = nodes[0]
    while True:
        nxt = ("c", edge[1]) if node[0] == "r" else ("r", edge[0])
        edges.append(edge)
        if nxt in pos:
            return edges[pos[nxt]:]
        pos[nxt] = len(nodes)
        nodes.append(nxt)
        adj = col_adj[nxt[1]] if nxt[0] == "c" else row_adj[nxt[1]]  # type: ignore[index]
        options = [e for e in adj if e != edge]
        if not options:  # pragma: no cover - impossible with exact integer margins
            raise RuntimeError("controlled rounding: no cycle (margins not integer)")
        edge, node = options[0], nxt


def local_pivotal(points: np.ndarray, n: int, seed: int) -> list[int]:
    """Indices of n of the points, each with probability n/N, spread out (LPM2)."""
    import numpy as np
    pts = np.asarray(points, dtype=float)
    return _local_pivotal(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2).tolist(), n, _Stream(seed))


def _local_pivotal(d2: Sequence[Sequence[float]], n: int, rng: _Stream) -> list[int]:
    """Equal-probability local pivotal method (Grafström et al. 2012, LPM2).

    Probabilities are kept as exact numerators over N. Pick an undecided unit
    at random and pivot with its nearest undecided neighbour: one of the two
    is settled at 0 or 1, so neighbours rarely end up in the sample together.
    ``d2`` holds squared distances; ties go to the lower index.
    """
    N = len(d2)
    if n <= 0:
        return []
    if n >= N:
        return list(range(N))
    p = [n] * N
    undecided = list(range(N))
    while undecided:
        i = undecided[rng.below(len(undecided))]
        row = d2[i]
        j = min((k for k in undecided if k != i), key=row.__getitem__)
        a, b = p[i], p[j]
        if a + b <= N:
            p[i], p[j] = (0, a + b) if rng.bernoulli(b, a + b) else (a + b, 0)
        else:
            p[i], p[j] = (N, a + b - N) if rng.bernoulli(N - b, 2 * N - a - b) else (a + b - N, N)
        if not 0 < p[i] < N or not 0 < p[j] < N:
            undecided = [k for k in undecided if 0 < p[k] < N]
    return [k for k in range(N) if p[k] == N]


# --------------------------------------------------------------------------
# Geometry and spatial balance
# --------------------------------------------------------------------------


def project(units: Sequence[Unit]) -> np.ndarray:
    """Centroids as (x, y) in km."""
    import numpy as np
    return np.array([[u.lon * KM_PER_DEG_LON, u.lat * KM_PER_DEG_LAT] for u in units], dtype=float)


def _lpm_space(units: Sequence[Unit], settings: Settings, xy: np.ndarray) -> np.ndarray:
    import numpy as np
    if not settings.balance_skr:
        return xy
    # SKR main group as one-hot coordinates: kommuner of different kind count as far apart.
    onehot = np.array(
        [[float((u.skr_grupp or " ")[0].upper() == g) for g in "ABC"] for u in units]
    )
    return np.hstack([xy, settings.skr_scale_km * onehot])


def spatial_balance(pi: np.ndarray, xy: np.ndarray, sampled_idx: Sequence[int]) -> float:
    """Spatial balance index of Stevens & Olsen (as R BalancedSampling::sb).

    Every unit gives its pi to its nearest sampled unit (ties split equally);
    B = mean over sampled units of (received - 1)^2. 0 is perfect balance.
    """
    import numpy as np
    pi = np.asarray(pi, dtype=float)
    xy = np.asarray(xy, dtype=float)
    s = np.asarray(list(sampled_idx), dtype=int)
    if s.size == 0:
        return float("nan")
    d = np.sqrt(((xy[:, None, :] - xy[None, s, :]) ** 2).sum(axis=2))
    dmin = d.min(axis=1, keepdims=True)
    nearest = d <= dmin + 1e-9 * np.maximum(1.0, dmin)
    share = nearest / nearest.sum(axis=1, keepdims=True)
    v = (pi[:, None] * share).sum(axis=0)
    return float(np.mean((v - 1.0) ** 2))


# --------------------------------------------------------------------------
# The draw
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    kommunkod: str
    kommun: str
    enhet: str | None  # None = the kommun's (central) administration
    group: int
    lanskod: str
    pi: float | None  # inclusion probability of this site; None for hand-picked districts

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.kommunkod, self.enhet)


@dataclass(frozen=True)
class Diagnostics:
    kommuner_per_group: Mapping[int, int]
    sites_per_group: Mapping[int, int]
    kommuner_per_lan: Mapping[str, int]
    sb: float  # whole frame, design pi
    sb_per_group: Mapping[int, float]


@dataclass(frozen=True)
class Draw:
    seed: int
    settings: Settings
    reference_year: int | None
    sites: tuple[Site, ...]
    pi: Mapping[str, float]  # every kommun in the frame
    groups: Mapping[str, int]
    target: Mapping[Cell, float]  # m[g, L]
    allocated: Mapping[Cell, int]  # n[g, L] after stage 1
    lifted_lan: tuple[str, ...]
    reserves: Mapping[int, tuple[str, ...]]
    district_reserves: Mapping[str, tuple[str, ...]]
    diagnostics: Diagnostics
    method: Mapping[str, object]

    @property
    def kommuner(self) -> tuple[str, ...]:
        return tuple(sorted({s.kommunkod for s in self.sites}))

    @property
    def selection(self) -> list[tuple[str, str | None]]:
        return [s.key for s in self.sites]


@dataclass(frozen=True)
class _Prepared:
    """Everything about a (frame, settings) pair that does not depend on the seed."""

    table: TargetTable
    rule_of: Mapping[int, GroupRule]
    rows: tuple[int, ...]  # sampled groups
    lans: tuple[str, ...]
    xy: np.ndarray
    members: Mapping[Cell, tuple[int, ...]]  # unit indices per (group, län)
    cell_d2: Mapping[Cell, list[list[float]]]  # squared LPM distances within each cell
    take_all: tuple[int, ...]
    group_idx: Mapping[int, tuple[int, ...]]
    pi: tuple[float, ...]  # per unit, in frame order
    rounding: _RoundingSetup


_PREPARED: dict[object, _Prepared] = {}


def _prepare(frame: Frame, settings: Settings) -> _Prepared:
    # Cached: the exact table and distances are the same for every seed, so
    # repeated draws (simulations, the benchmark) only pay for the randomness.
    key = (frame.units, settings)
    hit = _PREPARED.get(key)
    if hit is not None:
        return hit
    table = _build_target_table(frame, settings)
    rule_of = settings.rules()
    groups = table.groups
    xy = project(frame.units)
    space = _lpm_space(frame.units, settings, xy)
    members: dict[Cell, list[int]] = defaultdict(list)
    group_idx: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(frame.units):
        members[(groups[u.kommunkod], u.lanskod)].append(i)
        group_idx[groups[u.kommunkod]].append(i)
    cell_d2 = {}
    for c in table.target:
        pts = space[members[c]]
        cell_d2[c] = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2).tolist()
    prepared = _Prepared(
        table=table,
        rule_of=MappingProxyType(rule_of),
        rows=tuple(r.number for r in _sampled_rules(settings)),
        lans=tuple(sorted({u.lanskod for u in frame.units})),
        xy=xy,
        members=MappingProxyType({c: tuple(v) for c, v in members.items()}),
        cell_d2=MappingProxyType(cell_d2),
        take_all=tuple(i for i, u in enumerate(frame.units) if rule_of[groups[u.kommunkod]].take_all),
        group_idx=MappingProxyType({g: tuple(v) for g, v in sorted(group_idx.items())}),
        pi=tuple(float(table.pi(u)) for u in frame.units),
        rounding=_RoundingSetup.of(table.target),
    )
    if len(_PREPARED) >= 16:
        _PREPARED.clear()
    _PREPARED[key] = prepared
    return prepared


def draw(
    frame: Frame,
    settings: Settings,
    seed: int,
    district_choice: Mapping[str, Sequence[str]] | None = None,
) -> Draw:
    """Draw the sample. Same frame + settings + seed -> same result.

    ``district_choice`` (kommunkod -> district names) replaces the random
    district draw for the cities given; their district sites get pi None.
    Randomness is used in this fixed order: stage 1, stage 2 cell by cell
    (sorted), district orders (sorted cities), reserve orders (sorted groups).
    """
    import numpy as np
    prep = _prepare(frame, settings)
    table, units, groups = prep.table, frame.units, prep.table.groups
    rng = _Stream(seed)

    # Stage 1: how many kommuner from each (group, län) cell.
    allocated = _round(prep.rounding, rng)

    # Stage 2: which kommuner, spread within each cell.
    chosen: set[int] = set(prep.take_all)
    for cell in sorted(allocated):
        idx = prep.members[cell]
        chosen.update(idx[k] for k in _local_pivotal(prep.cell_d2[cell], allocated[cell], rng))

    # Districts of take-all cities: always permute (same randomness use whether
    # or not districts are given by hand), first k chosen, the rest are reserves.
    district_choice = dict(district_choice or {})
    chosen_districts: dict[str, tuple[str, ...]] = {}
    district_reserves: dict[str, tuple[str, ...]] = {}
    for i in prep.take_all:
        u = units[i]
        names = sorted(frame.districts.get(u.kommunkod, ()))
        if not names:
            continue
        k = min(prep.rule_of[groups[u.kommunkod]].districts_per_city, len(names))
        order = rng.shuffled(names)
        if u.kommunkod in district_choice:
            given = list(dict.fromkeys(district_choice[u.kommunkod]))
            unknown = [d for d in given if d not in names]
            if unknown or len(given) != k:
                raise DesignError(
                    f"{u.kommun}: ange {k} stadsdelar bland {', '.join(names)}"
                    + (f" (okänd: {', '.join(unknown)})" if unknown else "")
                )
            chosen_districts[u.kommunkod] = tuple(given)
        else:
            chosen_districts[u.kommunkod] = tuple(order[:k])
        district_reserves[u.kommunkod] = tuple(d for d in order if d not in chosen_districts[u.kommunkod])

    # Reserves: non-sampled kommuner of each sampled group, in random order.
    reserves: dict[int, tuple[str, ...]] = {}
    for g in prep.rows:
        rest = [units[i].kommunkod for i in prep.group_idx.get(g, ()) if i not in chosen]
        reserves[g] = tuple(rng.shuffled(rest))

    sites: list[Site] = []
    for i in sorted(chosen, key=lambda i: (groups[units[i].kommunkod], units[i].lanskod, units[i].kommunkod)):
        u = units[i]
        g = groups[u.kommunkod]
        sites.append(Site(u.kommunkod, u.kommun, None, g, u.lanskod, prep.pi[i]))
        if u.kommunkod in chosen_districts:
            hand = u.kommunkod in district_choice
            share = len(chosen_districts[u.kommunkod]) / len(frame.districts[u.kommunkod])
            for d in sorted(chosen_districts[u.kommunkod]):
                sites.append(Site(u.kommunkod, u.kommun, d, g, u.lanskod, None if hand else share))

    # Diagnostics.
    pi_arr = np.array(prep.pi)
    chosen_sorted = sorted(chosen)
    sb_group: dict[int, float] = {}
    for g, gi in prep.group_idx.items():
        local = {i: k for k, i in enumerate(gi)}
        picked = [local[i] for i in chosen_sorted if i in local]
        sb_group[g] = spatial_balance(pi_arr[list(gi)], prep.xy[list(gi)], picked)
    per_lan = Counter(units[i].lanskod for i in chosen)
    diagnostics = Diagnostics(
        kommuner_per_group=dict(sorted(Counter(groups[units[i].kommunkod] for i in chosen).items())),
        sites_per_group=dict(sorted(Counter(s.group for s in sites).items())),
        kommuner_per_lan={L: per_lan[L] for L in prep.lans},
        sb=spatial_balance(pi_arr, prep.xy, chosen_sorted),
        sb_per_group=sb_group,
    )
    method = {
        "name": METHOD_NAME,
        "version": METHOD_VERSION,
        "rng": "numpy.random.Generator(PCG64(seed)).random(), used in order",
        "numpy": np.__version__,
        "seed": seed,
        "reference_year": frame.reference_year,
        "settings": settings_to_dict(settings),
        "district_choice": {k: list(v) for k, v in sorted(district_choice.items())},
        "references": list(REFERENCES),
        "description": method_description(settings),
    }
    return Draw(
        seed=seed,
        settings=settings,
        reference_year=frame.reference_year,
        sites=tuple(sites),
        pi={u.kommunkod: prep.pi[i] for i, u in enumerate(units)},
        groups=dict(groups),
        target={c: float(v) for c, v in sorted(table.target.items())},
        allocated=dict(sorted(allocated.items())),
        lifted_lan=table.lifted,
        reserves=reserves,
        district_reserves=district_reserves,
        diagnostics=diagnostics,
        method=method,
    )


def srs_sb(frame: Frame, settings: Settings, seeds: Sequence[int]) -> list[float]:
    """Spatial balance of stratified simple random samples, for comparison.

    Same groups and allocation, take-all groups included, pi = n_g / N_g, no
    län control; distances as in ``draw``.
    """
    import numpy as np
    groups = assign_groups(frame, settings)
    xy = project(frame.units)
    by_group: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(frame.units):
        by_group[groups[u.kommunkod]].append(i)
    pi = np.ones(len(frame.units))
    for g, idx in by_group.items():
        r = settings.rule(g)
        if not r.take_all:
            pi[idx] = (r.allocation or 0) / len(idx)
    out: list[float] = []
    for seed in seeds:
        rng = np.random.Generator(np.random.PCG64(seed))
        s: list[int] = []
        for g in sorted(by_group):
            idx = by_group[g]
            r = settings.rule(g)
            if r.take_all:
                s.extend(idx)
            else:
                s.extend(idx[j] for j in rng.choice(len(idx), r.allocation or 0, replace=False))
        out.append(spatial_balance(pi, xy, sorted(s)))
    return out


# --------------------------------------------------------------------------
# Checking a selection (hand-picked or after replacements)
# --------------------------------------------------------------------------

MESSAGES: dict[str, str] = {
    "unknown_kommun": N_("okänd kommunkod {kommunkod}"),
    "duplicate": N_("{site} finns med mer än en gång"),
    "unknown_district": N_("{enhet} är ingen stadsdel i {kommun}"),
    "no_districts": N_("{kommun} har inga stadsdelar, men {enhet} är angiven"),
    "district_not_expected": N_("{kommun} besöks utan stadsdelar, men {enhet} är angiven"),
    "take_all_missing": N_("{kommun} saknas (alla kommuner i grupp {group} ska vara med)"),
    "central_missing": N_("centrala förvaltningen i {kommun} saknas"),
    "district_count": N_("{kommun} har {count} stadsdelar, ska ha {expected}"),
    "group_count": N_("grupp {group} har {count} kommuner, ska ha {expected}"),
    "lan_missing": N_("{lan} saknas"),
    "total_sites": N_("urvalet har {count} besöksplatser, ska ha {expected}"),
}


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``code`` names the rule, ``params`` fill the message."""

    code: str
    params: Mapping[str, object]

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def text(self) -> str:
        return describe(self)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, object], ...]]:
        return (self.code, tuple(sorted(self.params.items())))


def describe(problem: Problem, gettext: Callable[[str], str] = lambda s: s) -> str:
    """Message text: translate the template first, then fill in the values."""
    return gettext(MESSAGES[problem.code]).format(**problem.params)


def expected_sites(frame: Frame, settings: Settings) -> int:
    groups = assign_groups(frame, settings)
    total = sum(r.allocation or 0 for r in settings.groups if not r.take_all)
    for u in frame.units:
        r = settings.rule(groups[u.kommunkod])
        if r.take_all:
            total += 1 + min(r.districts_per_city, len(frame.districts.get(u.kommunkod, ())))
    return total


def validate(
    frame: Frame,
    settings: Settings,
    selection: Sequence[tuple[str, str | None]],
    districts: Mapping[str, Sequence[str]] | None = None,
) -> list[Problem]:
    """Every rule the selection breaks, each as a Problem (empty list = valid).

    ``selection`` is (kommunkod, enhet) pairs; enhet None or "" is the kommun's
    central administration. ``districts`` overrides ``frame.districts``.
    """
    dist = {k: tuple(v) for k, v in (frame.districts if districts is None else districts).items()}
    groups = assign_groups(frame, settings)
    units = {u.kommunkod: u for u in frame.units}
    problems: list[Problem] = []
    seen: set[tuple[str, str | None]] = set()
    selected: set[str] = set()
    central: set[str] = set()
    chosen_districts: dict[str, list[str]] = defaultdict(list)

    for code, enhet in selection:
        code = (code or "").strip()
        enhet = (enhet or "").strip() or None
        u = units.get(code)
        if u is None:
            problems.append(Problem("unknown_kommun", {"kommunkod": code}))
            continue
        label = u.kommun if enhet is None else f"{u.kommun}, {enhet}"
        if (code, enhet) in seen:
            problems.append(Problem("duplicate", {"site": label}))
            continue
        rule = settings.rule(groups[code])
        if enhet is not None:
            if not dist.get(code):
                problems.append(Problem("no_districts", {"kommun": u.kommun, "enhet": enhet}))
                continue
            if enhet not in dist[code]:
                problems.append(Problem("unknown_district", {"kommun": u.kommun, "enhet": enhet}))
                continue
            if not rule.take_all:
                problems.append(Problem("district_not_expected", {"kommun": u.kommun, "enhet": enhet}))
                continue
            chosen_districts[code].append(enhet)
        else:
            central.add(code)
        seen.add((code, enhet))
        selected.add(code)

    for u in frame.units:
        rule = settings.rule(groups[u.kommunkod])
        if not rule.take_all:
            continue
        if u.kommunkod not in selected:
            problems.append(Problem("take_all_missing", {"kommun": u.kommun, "group": rule.number}))
            continue
        names = dist.get(u.kommunkod, ())
        if names:
            if u.kommunkod not in central:
                problems.append(Problem("central_missing", {"kommun": u.kommun}))
            expected = min(rule.districts_per_city, len(names))
            got = len(chosen_districts[u.kommunkod])
            if got != expected:
                problems.append(
                    Problem("district_count", {"kommun": u.kommun, "count": got, "expected": expected})
                )

    per_group = Counter(groups[c] for c in selected)
    for r in _sampled_rules(settings):
        if per_group[r.number] != r.allocation:
            problems.append(
                Problem("group_count", {"group": r.number, "count": per_group[r.number], "expected": r.allocation})
            )

    if settings.require_all_lan:
        have = {units[c].lanskod for c in selected}
        for L in sorted({u.lanskod for u in frame.units}):
            if L not in have:
                problems.append(Problem("lan_missing", {"lan": frame.lan_name(L)}))

    total, expected_total = len(seen), expected_sites(frame, settings)
    if total != expected_total:
        problems.append(Problem("total_sites", {"count": total, "expected": expected_total}))
    return problems


def replacement(
    frame: Frame,
    result: Draw,
    current: Sequence[tuple[str, str | None]],
    declined: tuple[str, str | None],
    excluded: Collection[tuple[str, str | None]] = (),
) -> tuple[str, str | None] | None:
    """The site that replaces ``declined`` in ``current``, or None.

    A kommun: the first reserve of its group not already used (in ``current``
    or ``excluded``, e.g. earlier refusals) whose swap breaks no rule that the
    current selection keeps. A district: the next unused district of the same
    city. A take-all kommun (its central administration) has no replacement.
    """
    code, enhet = declined[0], (declined[1] or None)
    used_sites = {(c, e or None) for c, e in [*current, *excluded]}
    used_codes = {c for c, _ in used_sites}
    if enhet is not None:
        for d in result.district_reserves.get(code, ()):
            if (code, d) not in used_sites:
                return (code, d)
        return None
    group = result.groups.get(code)
    if group is None or result.settings.rule(group).take_all:
        return None
    base = [(c, e or None) for c, e in current if (c, e or None) != (code, None)]
    allowed = {p.key for p in validate(frame, result.settings, current)}
    for cand in result.reserves.get(group, ()):
        if cand in used_codes or cand == code:
            continue
        problems = validate(frame, result.settings, [*base, (cand, None)])
        if all(p.key in allowed for p in problems):
            return (cand, None)
    return None


# --------------------------------------------------------------------------
# Plain-Swedish description for the sample protocol
# --------------------------------------------------------------------------

REFERENCES: tuple[str, ...] = (
    "Goodman, R. & Kish, L. (1950). Controlled selection – a technique in probability sampling. "
    "Journal of the American Statistical Association 45, 350–372.",
    "Cox, L. H. (1987). A constructive procedure for unbiased controlled rounding. "
    "Journal of the American Statistical Association 82, 520–524.",
    "Grafström, A., Lundström, N. L. P. & Schelin, L. (2012). Spatially balanced sampling through "
    "the pivotal method. Biometrics 68, 514–520.",
    "Stevens, D. L. & Olsen, A. R. (2004). Spatially balanced sampling of natural resources. "
    "Journal of the American Statistical Association 99, 262–278.",
)


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _plain(message: str, **values: object) -> str:
    """The Swedish source text with its values: method_description's default "translation"."""
    return message % values if values else message


def _join(items: Sequence[str], gettext: Callable[..., str]) -> str:
    """ "a, b och c" in the reader's language."""
    if len(items) == 1:
        return items[0]
    return gettext("%(items)s och %(last)s", items=", ".join(items[:-1]), last=items[-1])


def method_description(settings: Settings = Settings(), gettext: Callable[..., str] = _plain) -> str:
    """The method in plain words, built from the settings actually used.

    `gettext(message, **values)` translates each sentence (coordinator.i18n._ gives the reader's language);
    the default gives the Swedish source text, which is what a draw records in its method."""
    _ = gettext
    rules = sorted(settings.groups, key=lambda r: r.number)
    bands = []
    for r in rules:
        if r.upper is None:
            bands.append(_("grupp %(n)s: %(lower)s invånare eller fler", n=r.number, lower=_fmt(r.lower)))
        elif r.lower <= 0:
            bands.append(_("grupp %(n)s: färre än %(upper)s invånare", n=r.number, upper=_fmt(r.upper)))
        else:
            bands.append(_("grupp %(n)s: %(lower)s–%(upper)s invånare", n=r.number, lower=_fmt(r.lower),
                           upper=_fmt(r.upper - 1)))
    sampled = [r for r in rules if not r.take_all]
    take_all = [r for r in rules if r.take_all]
    counts = {1: N_("en"), 2: N_("två"), 3: N_("tre"), 4: N_("fyra"), 5: N_("fem")}
    per_group = [_("%(n)s i grupp %(group)s", n=r.allocation, group=r.number) for r in sampled]
    districts = take_all[0].districts_per_city if take_all else 0
    paragraphs = [
        _("Kommunerna delas in i grupper efter folkmängden den 31 december referensåret, enligt Öppna jämförelser: "
          "%(bands)s. Varje grupp är ett eget stratum, det vill säga urvalet görs för sig i varje grupp.",
          bands="; ".join(bands)),
        " ".join(p for p in (
            _("Antalet kommuner som väljs är %(allocation)s.", allocation=_join(per_group, _)) if sampled else "",
            _("Alla kommuner i grupp %(groups)s tas med. De av dem som har stadsdelsnämnder eller stadsområden "
              "(Stockholm, Göteborg och Malmö) besöks i sin centrala förvaltning och i %(count)s slumpvis valda "
              "stadsdelar; övriga är en besöksplats var.",
              groups=_join([str(r.number) for r in take_all], _),
              count=_(counts[districts]) if districts in counts else str(districts)) if take_all else "",
        ) if p),
    ]
    if settings.require_all_lan:
        paragraphs.append(_(
            "Alla län ska vara med, och det garanteras av själva metoden, inte genom att dra om. "
            "Först räknas för varje kombination av grupp och län ut hur många kommuner som i "
            "genomsnitt ska väljas, i proportion till antalet kommuner. Län som redan är med genom "
            "en grupp där alla kommuner tas med behöver inget mer. Ett län som annars skulle få "
            "mindre än en kommun i genomsnitt lyfts upp till exakt en, och de andra länens antal i "
            "samma grupp minskas i samma proportion, så att varje grupp får rätt antal. Därför kommer till "
            "exempel Gotland, som bara har en kommun, alltid med."))
        paragraphs.append(_(
            "Sedan avrundas de genomsnittliga antalen slumpmässigt till hela tal (kontrollerad "
            "avrundning enligt Cox 1987): varje grupp får exakt sitt antal, varje län minst en "
            "kommun, och i genomsnitt över många dragningar blir antalet i varje grupp och län "
            "precis det uträknade. Metoden kallas kontrollerat urval (Goodman och Kish 1950)."))
    spread = _(
        "Inom varje grupp och län väljs kommunerna med lika sannolikhet med den lokala "
        "pivotmetoden (Grafström, Lundström och Schelin 2012), utifrån kommunernas geografiska "
        "mittpunkter. Grannkommuner hamnar då sällan i urvalet samtidigt, så att urvalet sprids "
        "över landet.")
    if settings.balance_skr:
        spread += " " + _(
            "Metoden tar också hänsyn till SKR:s kommungrupper (storstäder och storstadsnära "
            "kommuner, större städer, mindre städer och landsbygd), så att urvalet sprids även över dem.")
    paragraphs.append(spread)
    paragraphs.append(_(
        "Varje kommuns urvalssannolikhet (π) är känd exakt: det genomsnittliga antalet för "
        "kommunens grupp och län delat med antalet kommuner där. Kommuner som alltid tas med har "
        "π = 1. Resultat som ska gälla hela landet vägs med 1/π, så att varje besökt kommun står "
        "för 1/π kommuner."))
    paragraphs.append(_(
        "Slumpen styrs av ett fröstal och slumptalsgeneratorn PCG64 i numpy. Samma referensdata, "
        "samma referensår, samma inställningar och samma fröstal ger alltid samma urval, så att "
        "vem som helst i efterhand kan kontrollera hur urvalet kom till."))
    paragraphs.append(_(
        "För varje grupp ställs de kommuner som inte valdes upp i en slumpmässig reservordning. "
        "Om en kommun tackar nej ersätts den av den första reserven i samma grupp som gör att "
        "alla regler fortfarande uppfylls (till exempel att länet är med). En stadsdel som tackar "
        "nej ersätts av nästa stadsdel i samma stad. Kommuner som alltid ska vara med har ingen "
        "ersättare. Ersättningar ändrar urvalssannolikheterna något och dokumenteras därför."))
    return "\n\n".join(p for p in paragraphs if p)


METHOD_SV: str = method_description(Settings())
