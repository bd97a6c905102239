"""Design-weighted national estimates from the visited kommuner: a share or a mean, with a 95 % interval.

Plain words
-----------
*Why weights.* The 50 sites are not a simple random sample: every kommun in the
largest group is visited (inclusion probability π = 1), Gotland and the small
län are sure of a place, and a kommun in a big group of a big län has a small
chance. A plain share of the visited kommuner therefore counts the big cities
and the small län too much. Each answering kommun k gets the weight
w_k = 1/π_k: "the number of kommuner in the country that it stands for".

*The figure (Hájek estimator).* A national share is Σ w·y / Σ w over the kommuner
that answered the question, where y is 1 if the kommun gave that answer and 0
if not; a national mean is the same with y the number given. Dividing by the
sum of the weights (rather than by the number of kommuner in the country) keeps
shares between 0 and 1 and copes with kommuner that did not answer: they are
left out, and the others stand for them in proportion to their weights.

*How sure (variance).* The sample is spread out within each ÖJ group over the
map (the local pivotal method), so neighbouring sampled kommuner resemble the
kommuner that were not drawn between them. The local neighbourhood estimator
(Stevens & Olsen 2003; the estimator for spread samples in Grafström's R
package BalancedSampling) uses that: within the design group, each answering
kommun is compared with the weighted values of its nearest sampled neighbours
(itself and up to ``NEIGHBOURS - 1`` others, by distance between the kommuns'
centres; a kommun alone in its group looks among all kommuner that were not sure
to be drawn). The squared differences, scaled by (1 − π) because a kommun that was
sure to be drawn adds no uncertainty, add up to the variance. The Hájek ratio is
linearised first (each kommun's value minus the estimate, divided by the sum of
weights). The 95 % interval is the estimate ± 1.96 standard errors (a share's
interval is kept inside 0..1). When no kommun (or every kommun) gave an answer,
the spread is zero and says nothing; the interval is then the exact binomial one
for 0 (or n) of n (Clopper & Pearson 1934), e.g. 0 % to 31 % for 0 of 10.

*Too few answers.* When fewer than a minimum number of kommuner answered
(default 5), no figure is given: the caller says "too few answers" instead.

Plain Python (math), no numpy, Flask or database: a questionnaire has some fifty answering kommuner, for
which loops are as quick as arrays, and the web worker that shows the figures need not load numpy. The
simulation (simulation.py) runs this very code over thousands of draws of the design to check bias and
coverage; tests/test_weighted.py checks it against the same formulas in numpy on the simulation's draws.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
NEIGHBOURS = 4  # neighbourhood size, the unit itself included (Stevens & Olsen 2003 use 4)
DEFAULT_MIN_BASE = 5

REFERENCES = (
    "Hájek, J. (1971). Comment on a paper by D. Basu. In Foundations of Statistical Inference.",
    "Stevens, D. L. & Olsen, A. R. (2003). Variance estimation for spatially balanced samples of "
    "environmental resources. Environmetrics 14, 593-610.",
    "Grafström, A. & Lisic, J. (2019). BalancedSampling: Balanced and Spatially Balanced Sampling. R package.",
)


@dataclass(frozen=True)
class Estimate:
    """A weighted estimate. value/lo/hi are None when suppressed (too few answers) or not computable."""
    value: float | None
    lo: float | None
    hi: float | None
    n: int  # number of answers the figure rests on
    suppressed: bool

    @property
    def ci95(self) -> list[float | None]:
        return [self.lo, self.hi]


@dataclass(frozen=True)
class Unit:
    """One answering kommun as the estimator needs it."""
    pi: float           # inclusion probability (0 < π <= 1)
    group: int          # the design group (ÖJ group) the neighbourhoods stay within
    x: float = 0.0      # position, km (for the neighbourhoods)
    y: float = 0.0


def _arrays(units: Sequence[Unit]) -> tuple[list[float], list[int], list[tuple[float, float]]]:
    pi = [float(u.pi) for u in units]
    if pi and (not all(math.isfinite(p) for p in pi) or min(pi) <= 0 or max(pi) > 1 + 1e-12):
        raise ValueError("inclusion probabilities must be in (0, 1]")
    return pi, [u.group for u in units], [(float(u.x), float(u.y)) for u in units]


def neighbourhoods(group: Sequence, xy: Sequence, k: int = NEIGHBOURS,
                   pi: Sequence[float] | None = None) -> list[list[int]]:
    """For every unit, the indices of itself and its k-1 nearest units of the same group (by distance, then
    by index so that ties are broken the same way every time).

    A unit alone in its group (when few answered) takes its neighbours among all the units that were not
    sure to be drawn (π < 1), so that it still adds its share of uncertainty."""
    n = len(group)
    out: list[list[int]] = [[] for _ in range(n)]
    uncertain = [i for i in range(n) if pi[i] < 1] if pi is not None else list(range(n))
    members_of: dict = {}
    for i, g in enumerate(group):
        members_of.setdefault(g, []).append(i)
    for members in members_of.values():
        for i in members:
            pool = members if len(members) > 1 else sorted(set(uncertain) | {i})
            xi, yi = xy[i][0], xy[i][1]

            def d2(j: int) -> float:
                dx, dy = xy[j][0] - xi, xy[j][1] - yi
                return dx * dx + dy * dy

            order = [j for j in sorted(pool, key=lambda j: (d2(j), j)) if j != i]
            out[i] = [i] + order[: k - 1]
    return out


def local_variance(z: Sequence[float], pi: Sequence[float], hoods: Sequence[Sequence[int]]) -> float:
    """Local neighbourhood variance of the total Σ z/π.

    For each unit i with neighbourhood D_i (|D_i| = m_i >= 2): (1 − π_i) · m_i/(m_i − 1) ·
    (z_i/π_i − mean over D_i of z_j/π_j)². With m = 2 this is half the squared difference of a
    unit and its neighbour, which under simple random sampling averages to the textbook
    N²(1 − f)S²/n."""
    t = [float(zi) / float(p) for zi, p in zip(z, pi)]
    v = 0.0
    for i, hood in enumerate(hoods):
        m = len(hood)
        if m < 2:
            continue
        diff = t[i] - sum(t[j] for j in hood) / m
        v += (1.0 - float(pi[i])) * m / (m - 1) * (diff * diff)  # a product, not ** 2: inf, not an error
    return float(v)


def hajek(values: Sequence[float], units: Sequence[Unit], *, share: bool = False,
          min_base: int = DEFAULT_MIN_BASE, k: int = NEIGHBOURS) -> Estimate:
    """Hájek estimate Σ w·y / Σ w (w = 1/π) with a 95 % interval from the local neighbourhood variance.

    ``values`` and ``units`` go together, one per answering kommun. ``share=True``: values are 0/1 and the
    interval is kept inside 0..1. Fewer than ``min_base`` answers: suppressed (no value)."""
    n = len(values)
    if n != len(units):
        raise ValueError("one value per unit")
    if n < max(1, min_base):
        return Estimate(None, None, None, n, True)
    return _hajek([float(v) for v in values], units, share, n, k)


def _hajek(y: list[float], units: Sequence[Unit], share: bool, n: int, k: int) -> Estimate:
    # Overflowing sums give inf (floats add and multiply to inf without an error), handled below.
    pi, group, xy = _arrays(units)
    w = [1.0 / p for p in pi]
    total_w = sum(w)
    r = float(sum(wi * yi for wi, yi in zip(w, y)) / total_w)
    z = [(yi - r) / total_w for yi in y]  # linearised Hájek ratio
    se = math.sqrt(max(local_variance(z, pi, neighbourhoods(group, xy, k, pi)), 0.0))
    if not math.isfinite(r):  # numbers too large to add up (1e300 and the like): no figure
        return Estimate(None, None, None, n, False)
    lo, hi = r - Z95 * se, r + Z95 * se
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo = hi = None
    if share and lo is not None and hi is not None:
        lo, hi = max(0.0, lo), min(1.0, hi)
        # Nobody (or everybody) gave the answer: the variance is 0, but the truth need not be 0 %.
        # Use the exact binomial bound instead (Clopper-Pearson: 0 of n gives 0 to 1 − 0.025^(1/n)).
        if r <= 0.0:
            hi = 1.0 - 0.025 ** (1.0 / n)
        elif r >= 1.0:
            lo = 0.025 ** (1.0 / n)
    return Estimate(r, lo, hi, n, False)


def unweighted(values: Sequence[float]) -> float | None:
    """The plain mean of the answering kommuner (a share when the values are 0/1)."""
    return float(sum(float(v) for v in values) / len(values)) if len(values) else None
