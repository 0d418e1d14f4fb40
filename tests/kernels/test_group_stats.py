"""The scorecard's per-group statistics kernel against pandas ``groupby`` and scipy, on a hand-made table.

The table has NaN excess, hit and days, ties in excess, an unrated row (NaN level), groups of one, two and more rows,
and a grouping with several entries per row (as analysts are).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine.kernels.group_stats import GROUP_STAT_NAMES, group_stats_nb

nan = np.nan
ROWS = pd.DataFrame({
    "complete": [True, True, True, False, True, True, True, True, False, True, True],
    "status": ["complete", "complete", "complete", "incomplete", "complete", "complete", "complete", "complete",
               "no price data", "complete", "complete"],
    "hit": [1.0, 0.0, 1.0, nan, 1.0, 0.0, nan, 1.0, nan, 0.0, 1.0],
    "direction": [1.0, 1.0, 0.0, nan, 1.0, 0.0, 1.0, 1.0, nan, 0.0, 1.0],
    "touch": [1.0, 0.0, 1.0, nan, 1.0, 1.0, nan, 1.0, nan, 0.0, 1.0],
    "excess": [0.10, -0.05, 0.10, 0.30, 0.02, nan, 0.07, -0.01, nan, 0.10, 0.04],
    "days": [12.0, nan, 30.0, nan, 5.0, 8.0, nan, 30.0, nan, nan, 2.0],
    "level": [2.0, 1.0, 2.0, 1.0, 0.0, -1.0, nan, 1.0, 2.0, 2.0, 1.0],
    "is_rating": [True] * 6 + [False] + [True] * 4,
})


def kernel(rows: pd.DataFrame, positions: np.ndarray, group: np.ndarray, n_groups: int) -> pd.DataFrame:
    complete = rows["complete"].to_numpy()
    excess, days, touch = (rows[c].to_numpy(dtype=float) for c in ("excess", "days", "touch"))
    level = rows["level"].to_numpy(dtype=float)
    levels, level_code = np.unique(np.where(np.isfinite(level), level, np.inf), return_inverse=True)
    level_code = np.where(np.isfinite(level), level_code, -1).astype(np.int64)
    er = np.flatnonzero(complete & np.isfinite(excess))
    er = er[np.argsort(excess[er], kind="stable")].astype(np.int64)
    dr = np.flatnonzero(complete & (touch == 1.0) & np.isfinite(days))
    dr = dr[np.argsort(days[dr], kind="stable")].astype(np.int64)
    status = rows["status"].to_numpy()
    out = group_stats_nb(positions.astype(np.int64), group.astype(np.int64), n_groups, er, excess[er],
                         level_code[er], dr, days[dr], complete, status == "incomplete", status == "no price data",
                         ~np.isin(status, ("complete", "incomplete", "no price data")),
                         rows["hit"].to_numpy(dtype=float), rows["direction"].to_numpy(dtype=float), touch, excess,
                         days, level, level_code, int(np.isfinite(levels).sum()),
                         rows["is_rating"].to_numpy())
    return pd.DataFrame(out.T, columns=GROUP_STAT_NAMES)


def reference(rows: pd.DataFrame, positions: np.ndarray, group: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Plain pandas per group (one entry per (row, group) pair), scipy's Spearman for the IC."""
    entries = rows.iloc[positions].assign(g=group)
    out = []
    for g in range(n_groups):
        e = entries[entries["g"] == g]
        c = e[e["complete"]]
        ex = c["excess"].dropna()
        pairs = c[["level", "excess"]].dropna()
        ic = nan
        if len(pairs) >= 3 and pairs["level"].nunique() > 1 and pairs["excess"].nunique() > 1:
            ic = stats.spearmanr(pairs["level"], pairs["excess"]).statistic
        rated = e[e["is_rating"] & e["level"].notna()]
        out.append({
            "n_signals": len(e), "n_complete": len(c), "n_incomplete": int((e["status"] == "incomplete").sum()),
            "n_no_price": int((e["status"] == "no price data").sum()), "n_unscored": 0,
            "n_hit_eligible": int(c["hit"].notna().sum()), "n_hits": int((c["hit"] == 1.0).sum()),
            "direction_hit_rate": c["direction"].mean(), "touch_hit_rate": c["touch"].mean(),
            "n_excess": len(ex), "mean_excess": ex.mean() if len(ex) else nan,
            "excess_sd": ex.std(ddof=1) if len(ex) >= 2 else nan,
            "mean_excess_incomplete": e.loc[e["status"] == "incomplete", "excess"].mean(),
            "share_bullish": (rated["level"] > 0).mean() if len(rated) else nan,
            "median_excess": ex.median() if len(ex) else nan,
            "median_days_to_touch": c.loc[c["touch"] == 1.0, "days"].median(),
            "ic_spearman": ic,
        })
    return pd.DataFrame(out, columns=GROUP_STAT_NAMES).astype(float)


@pytest.mark.parametrize("grouping", ["one group", "sizes 1, 2 and 8", "several entries per row"])
def test_group_stats_equal_pandas(grouping):
    n = len(ROWS)
    if grouping == "one group":
        positions, group, n_groups = np.arange(n), np.zeros(n, dtype=np.int64), 1
    elif grouping == "sizes 1, 2 and 8":
        positions = np.arange(n)
        group, n_groups = np.array([2, 1, 2, 2, 2, 2, 0, 2, 1, 2, 2]), 3   # group 0: 1 row; group 1: 2 rows
    else:  # rows 0, 3 and 9 belong to two groups each (like a report with two analysts)
        positions = np.array([0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 9, 10])
        group, n_groups = np.array([0, 1, 1, 0, 0, 2, 1, 0, 2, 1, 0, 0, 1, 2]), 3
    got = kernel(ROWS, positions, group, n_groups)
    want = reference(ROWS, positions, group, n_groups)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12)
    assert got["ic_spearman"].notna().any() and got["median_days_to_touch"].notna().any()
