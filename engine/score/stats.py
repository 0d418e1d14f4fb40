"""Small statistics for scorecards, written out in numpy (tested against scipy in ``tests/score/test_stats.py``).

Each function takes plain arrays and returns floats; NaN inputs are dropped first; too few observations give NaN.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Z_95", "wilson_interval", "t_stat", "rank_average", "spearman"]

#: Two-sided 95 % normal quantile, ``scipy.stats.norm.ppf(0.975)``.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (fractions). ``(nan, nan)`` when ``trials == 0``.

    Reference: ``scipy.stats.binomtest(k, n).proportion_ci(0.95, method="wilson")``.
    """
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    z2 = z * z
    denom = 1.0 + z2 / trials
    centre = (p + z2 / (2.0 * trials)) / denom
    half = z * math.sqrt(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def t_stat(values: np.ndarray) -> float:
    """One-sample t statistic of the mean against 0: ``mean / (std(ddof=1) / sqrt(n))``; NaN for n < 2 or zero spread.

    Reference: ``scipy.stats.ttest_1samp(values, 0).statistic``.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return math.nan
    sd = float(np.std(x, ddof=1))
    if sd == 0.0:
        return math.nan
    return float(np.mean(x) / (sd / math.sqrt(len(x))))


def rank_average(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (``scipy.stats.rankdata(method="average")``)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return np.empty(0)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    stops = np.r_[starts[1:], n]
    ranks = np.empty(n, dtype=float)
    ranks[order] = np.repeat(0.5 * (starts + stops - 1) + 1.0, stops - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of paired values (pairs with a NaN dropped); NaN for n < 3 or a constant side.

    This is the information coefficient between ``rating_level`` and ``excess_return``.
    Reference: ``scipy.stats.spearmanr(x, y).statistic``.
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 3:
        return math.nan
    ra, rb = rank_average(a), rank_average(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float(np.dot(ra, ra)) * float(np.dot(rb, rb)))
    if denom == 0.0:
        return math.nan
    return float(np.dot(ra, rb) / denom)
