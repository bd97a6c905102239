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

Pure numpy, no Flask or database: the simulation (simulation.py) runs this very
code over thousands of draws of the design to check bias and coverage.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


def _arrays(units: Sequence[Unit]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pi = np.array([u.pi for u in units], dtype=float)
    if len(pi) and (not np.all(np.isfinite(pi)) or pi.min() <= 0 or pi.max() > 1 + 1e-12):
        raise ValueError("inclusion probabilities must be in (0, 1]")
    group = np.array([u.group for u in units])
    xy = np.array([[u.x, u.y] for u in units], dtype=float).reshape(len(units), 2)
    return pi, group, xy


def neighbourhoods(group: np.ndarray, xy: np.ndarray, k: int = NEIGHBOURS,
                   pi: np.ndarray | None = None) -> list[np.ndarray]:
    """For every unit, the indices of itself and its k-1 nearest units of the same group (by distance, then
    by index so that ties are broken the same way every time).

    A unit alone in its group (when few answered) takes its neighbours among all the units that were not
    sure to be drawn (π < 1), so that it still adds its share of uncertainty."""
    n = len(group)
    out: list[np.ndarray] = [np.empty(0, dtype=int)] * n
    uncertain = np.flatnonzero(pi < 1) if pi is not None else np.arange(n)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        for i in members:
            pool = members if len(members) > 1 else np.union1d(uncertain, [i])
            d2 = ((xy[pool] - xy[i]) ** 2).sum(axis=1)
            order = pool[np.lexsort((pool, d2))]
            order = order[order != i]
            out[i] = np.concatenate(([i], order[: k - 1])).astype(int)
    return out


def local_variance(z: np.ndarray, pi: np.ndarray, hoods: Sequence[np.ndarray]) -> float:
    """Local neighbourhood variance of the total Σ z/π.

    For each unit i with neighbourhood D_i (|D_i| = m_i >= 2): (1 − π_i) · m_i/(m_i − 1) ·
    (z_i/π_i − mean over D_i of z_j/π_j)². With m = 2 this is half the squared difference of a
    unit and its neighbour, which under simple random sampling averages to the textbook
    N²(1 − f)S²/n."""
    t = z / pi
    v = 0.0
    for i, hood in enumerate(hoods):
        m = len(hood)
        if m < 2:
            continue
        v += (1.0 - pi[i]) * m / (m - 1) * (t[i] - t[hood].mean()) ** 2
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
    with np.errstate(all="ignore"):  # overflowing sums give inf, handled below
        return _hajek(np.asarray(values, dtype=float), units, share, n, k)


def _hajek(y: np.ndarray, units: Sequence[Unit], share: bool, n: int, k: int) -> Estimate:
    pi, group, xy = _arrays(units)
    w = 1.0 / pi
    total_w = w.sum()
    r = float((w * y).sum() / total_w)
    z = (y - r) / total_w  # linearised Hájek ratio
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
    return float(np.mean(values)) if len(values) else None
