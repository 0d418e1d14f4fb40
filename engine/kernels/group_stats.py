"""Per-group statistics of the scorecard on integer group codes: counts, means, t statistics, medians, rank IC.

Pure numba on numpy arrays; no pandas. The pandas wrapper is :func:`engine.score.scorecard.scorecard`; the references
these kernels are tested against live in ``tests/kernels/test_group_stats.py`` (pandas ``groupby`` and
``scipy.stats.spearmanr`` on hand-made tables with NaN, ties and groups of one and two rows).

Medians and rank correlations need each group's values in order. Instead of sorting every group, the caller sorts the
rows once by value (``np.argsort``); a stable counting sort by group code then lists every group's entries in value
order, in O(entries) per grouping.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["bucket_by_group_nb", "group_stats_nb", "GROUP_STAT_NAMES"]

#: Rows of the array :func:`group_stats_nb` returns, in order.
GROUP_STAT_NAMES = (
    "n_signals", "n_complete", "n_incomplete", "n_no_price", "n_unscored", "n_hit_eligible", "n_hits",
    "direction_hit_rate", "touch_hit_rate", "n_excess", "mean_excess", "excess_sd", "mean_excess_incomplete",
    "share_bullish", "median_excess", "median_days_to_touch", "ic_spearman",
)


@njit(cache=True)
def _bucket_flat_nb(keys: np.ndarray, source: np.ndarray, values: np.ndarray, codes: np.ndarray,
                    n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable counting scatter of ``values[source]`` / ``codes[source]`` into one run per ``keys`` value.

    Shapes: ``keys``, ``source`` (T,) int64; ``values`` float64 / ``codes`` int64 indexed by ``source`` →
    ``(values (T,), codes (T,), starts (n_groups + 1,))``. NaN: copied. Units: those of ``values``.
    Reference: ``values[source][np.argsort(keys, kind="stable")]``.
    """
    total = keys.shape[0]
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(total):
        starts[keys[i] + 1] += 1
    for k in range(n_groups):
        starts[k + 1] += starts[k]
    fill = starts[:-1].copy()
    out_values = np.empty(total)
    out_codes = np.empty(total, dtype=np.int64)
    for i in range(total):
        g = keys[i]
        k = fill[g]
        out_values[k] = values[source[i]]
        out_codes[k] = codes[source[i]]
        fill[g] = k + 1
    return out_values, out_codes, starts


@njit(cache=True)
def bucket_by_group_nb(rows: np.ndarray, values: np.ndarray, codes: np.ndarray, entry_start: np.ndarray,
                       group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values of the listed rows copied into one contiguous run per group, each run in the order of ``rows``.

    Shapes: ``rows`` (M,) int64; ``values`` (M,) float64 and ``codes`` (M,) int64 belong to ``rows`` (``values[i]``
    is row ``rows[i]``'s); ``entry_start`` (R + 1,) int64: row ``r``'s entries are ``entry_start[r]:entry_start[r+1]``;
    ``group`` (E,) int64 in ``0 .. n_groups - 1`` → ``(values_by_group, codes_by_group, starts)``: group ``g``'s run
    is ``[starts[g]:starts[g + 1]]`` (a row in several groups is copied into each).
    NaN: values are copied as they are. Units: those of ``values``.
    Reference: ``pd.DataFrame({"g": group_of_row, "v": values}).groupby("g", sort=True)["v"]`` (order kept).
    """
    # 1. the entries of the listed rows, in order (one per row except for multi-entry rows such as analysts)
    if group.shape[0] + 1 == entry_start.shape[0]:  # one entry per row: entry r is row r (the common case)
        return _bucket_flat_nb(group[rows], np.arange(rows.shape[0]), values, codes, n_groups)
    total = 0
    for i in range(rows.shape[0]):
        total += entry_start[rows[i] + 1] - entry_start[rows[i]]
    keys = np.empty(total, dtype=np.int64)
    source = np.empty(total, dtype=np.int64)
    m = 0
    for i in range(rows.shape[0]):
        first = entry_start[rows[i]]
        stop = entry_start[rows[i] + 1]
        while first < stop:
            keys[m] = group[first]
            source[m] = i
            m += 1
            first += 1
    return _bucket_flat_nb(keys, source, values, codes, n_groups)


@njit(cache=True)
def _median_sorted(values: np.ndarray, n: int) -> float:
    if n == 0:
        return np.nan
    return (values[(n - 1) // 2] + values[n // 2]) / 2.0


@njit(cache=True, nogil=True)  # nogil: the scorecard runs its groupings on two threads
def group_stats_nb(
    positions: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    excess_rows: np.ndarray,
    excess_sorted: np.ndarray,
    level_sorted: np.ndarray,
    days_rows: np.ndarray,
    days_sorted: np.ndarray,
    complete: np.ndarray,
    incomplete: np.ndarray,
    no_price: np.ndarray,
    unscored: np.ndarray,
    hit: np.ndarray,
    direction: np.ndarray,
    touch: np.ndarray,
    excess: np.ndarray,
    days: np.ndarray,
    level: np.ndarray,
    level_code: np.ndarray,
    n_levels: int,
    is_rating: np.ndarray,
) -> np.ndarray:
    """Every per-group statistic of the scorecard (rows :data:`GROUP_STAT_NAMES`) in one call.

    Entry ``i`` is row ``positions[i]`` of the (row-level) arrays counted in group ``group[i]`` (a row may be in
    several groups, e.g. one per analyst). Rules (those of :mod:`engine.score.scorecard`): rates, excess statistics,
    medians and the IC use ``complete`` rows with a finite value; ``n_hit_eligible`` counts complete rows with a
    finite ``hit``, ``n_hits`` those equal to 1; ``mean_excess_incomplete`` averages incomplete rows; ``share_bullish``
    is the share of ``level > 0`` among ``is_rating`` rows with a finite level; ``median_days_to_touch`` uses
    complete rows with ``touch == 1``; ``excess_sd`` is the sample standard deviation (ddof 1, deviations from the
    group mean); ``ic_spearman`` is Spearman's rho of (level, excess) over complete rows with both finite (average
    ranks for ties; NaN for fewer than 3 pairs or a constant side).

    Shapes:
        ``positions``, ``group`` (E,) int64; row arrays (R,): ``complete``, ``incomplete``, ``no_price``,
        ``unscored``, ``is_rating`` bool; ``hit``, ``direction``, ``touch``, ``excess``, ``days``, ``level``
        float64; ``excess_rows`` the complete rows with a finite excess sorted by excess, ``days_rows`` the complete
        rows with ``touch == 1`` and finite days sorted by days (int64), with ``excess_sorted = excess[excess_rows]``,
        ``level_sorted = level_code[excess_rows]``, ``days_sorted = days[days_rows]`` (shared by every grouping);
        ``positions`` non-decreasing;
        ``level_code`` (R,) int64, dense codes of ``level`` in ascending order (-1 = NaN) → (17, n_groups) float64.
    NaN:
        NaN in ``hit``/``direction``/``touch``/``excess``/``days``/``level`` = not applicable (skipped). Means and
        medians of no value, and the sd with fewer than 2 values, are NaN.
    Units:
        Counts; rates in fractions; excess in fractions; days in calendar days.
    Reference:
        ``group_stats_pandas`` in ``tests/kernels/test_group_stats.py``.
    """
    n_stats = 17
    out = np.full((n_stats, n_groups), np.nan)
    cnt = np.zeros((10, n_groups))
    tot = np.zeros((6, n_groups))
    for i in range(positions.shape[0]):
        r = positions[i]
        g = group[i]
        cnt[0, g] += 1.0
        if complete[r]:
            cnt[1, g] += 1.0
            if np.isfinite(hit[r]):
                cnt[2, g] += 1.0
                if hit[r] == 1.0:
                    cnt[3, g] += 1.0
            if np.isfinite(direction[r]):
                cnt[4, g] += 1.0
                tot[0, g] += direction[r]
            if np.isfinite(touch[r]):
                cnt[5, g] += 1.0
                tot[1, g] += touch[r]
            if np.isfinite(excess[r]):
                cnt[6, g] += 1.0
                tot[2, g] += excess[r]
        if incomplete[r]:
            if np.isfinite(excess[r]):
                cnt[7, g] += 1.0
                tot[3, g] += excess[r]
        if no_price[r]:
            cnt[8, g] += 1.0
        if unscored[r]:
            cnt[9, g] += 1.0
        if is_rating[r] and np.isfinite(level[r]):
            tot[5, g] += 1.0
            if level[r] > 0:
                tot[4, g] += 1.0
    n_incomplete = np.zeros(n_groups)
    for i in range(positions.shape[0]):
        if incomplete[positions[i]]:
            n_incomplete[group[i]] += 1.0
    mean = np.full(n_groups, np.nan)
    for g in range(n_groups):
        if cnt[6, g] > 0:
            mean[g] = tot[2, g] / cnt[6, g]
    sq = np.zeros(n_groups)
    for i in range(positions.shape[0]):
        r = positions[i]
        if complete[r] and np.isfinite(excess[r]):
            g = group[i]
            d = excess[r] - mean[g]
            sq[g] += d * d
    for g in range(n_groups):
        out[0, g] = cnt[0, g]
        out[1, g] = cnt[1, g]
        out[2, g] = n_incomplete[g]
        out[3, g] = cnt[8, g]
        out[4, g] = cnt[9, g]
        out[5, g] = cnt[2, g]
        out[6, g] = cnt[3, g]
        if cnt[4, g] > 0:
            out[7, g] = tot[0, g] / cnt[4, g]
        if cnt[5, g] > 0:
            out[8, g] = tot[1, g] / cnt[5, g]
        out[9, g] = cnt[6, g]
        out[10, g] = mean[g]
        if cnt[6, g] >= 2:
            out[11, g] = math.sqrt(sq[g] / (cnt[6, g] - 1.0))
        if cnt[7, g] > 0:
            out[12, g] = tot[3, g] / cnt[7, g]
        if tot[5, g] > 0:
            out[13, g] = tot[4, g] / tot[5, g]

    # medians and rank IC: every group's values in ascending order (rows pre-sorted once by the caller)
    entry_start = np.zeros(excess.shape[0] + 1, dtype=np.int64)
    for i in range(positions.shape[0]):
        entry_start[positions[i] + 1] += 1
    for r in range(excess.shape[0]):
        entry_start[r + 1] += entry_start[r]
    values, levels, starts = bucket_by_group_nb(excess_rows, excess_sorted, level_sorted, entry_start, group,
                                                n_groups)
    buf = np.empty(values.shape[0])
    lev = np.empty(values.shape[0], dtype=np.int64)
    hist = np.zeros(max(n_levels, 1))
    level_rank = np.zeros(max(n_levels, 1))
    for g in range(n_groups):
        lo = starts[g]
        hi = starts[g + 1]
        out[14, g] = _median_sorted(values[lo:hi], hi - lo)
        # Spearman: pairs with a finite level too, excess ascending
        p = 0
        for q in range(lo, hi):
            if levels[q] >= 0:
                buf[p] = values[q]
                lev[p] = levels[q]
                p += 1
        if p < 3:
            continue
        hist[:] = 0.0
        for q in range(p):
            hist[lev[q]] += 1.0
        below = 0.0
        for c in range(n_levels):
            level_rank[c] = below + (hist[c] + 1.0) / 2.0
            below += hist[c]
        centre = (p + 1.0) / 2.0
        sab = 0.0
        saa = 0.0
        sbb = 0.0
        q = 0
        while q < p:
            stop = q + 1
            while stop < p and buf[stop] == buf[q]:
                stop += 1
            rank_x = (q + stop - 1) / 2.0 + 1.0 - centre  # average rank of the tie run, centred
            for w in range(q, stop):
                rank_l = level_rank[lev[w]] - centre
                sab += rank_x * rank_l
                saa += rank_l * rank_l
                sbb += rank_x * rank_x
            q = stop
        denom = math.sqrt(saa * sbb)
        if denom > 0.0:
            out[16, g] = sab / denom

    values, levels, starts = bucket_by_group_nb(days_rows, days_sorted, np.zeros(days_rows.shape[0], np.int64),
                                                entry_start, group, n_groups)
    for g in range(n_groups):
        out[15, g] = _median_sorted(values[starts[g]:starts[g + 1]], starts[g + 1] - starts[g])
    return out
