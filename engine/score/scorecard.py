"""Scorecards: accuracy statistics of the ``scores`` table grouped by broker, analyst, rating, action and market.

Rules:

1. One window per signal: single horizons, plus the ``range_leg`` end (default ``long``) of ``"6-12"`` ranges.
2. Rows of kind ``rating`` and of kind ``mention`` are separate groups (column ``kind``); mentions have no band, so
   only their excess statistics are filled.
3. Hit rates, direction hit rates, touch hit rates, excess statistics and the IC use **complete** windows only.
   Incomplete windows are counted in ``n_incomplete`` and their so-far mean excess is ``mean_excess_incomplete``;
   stocks without prices are counted in ``n_no_price``.
4. ``group_by = "rating"`` keys are ``"<broker> · <rating>"`` because the same word means different bands at different
   brokers. ``group_by = "analyst"`` splits ``analysts`` on ``,;、/`` and counts a signal for each of its analysts.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from engine.enums import STATUS_NO_PRICE_DATA
from engine.score.stats import t_stat, spearman, wilson_interval

__all__ = ["GROUPINGS", "scorecard", "scored_legs", "SCORECARD_COLUMNS"]

GROUPINGS = ("all", "broker", "analyst", "rating", "action", "market")

SCORECARD_COLUMNS = [
    "group_by", "group", "kind", "n_signals", "n_complete", "n_incomplete", "n_no_price", "n_unscored",
    "n_hit_eligible", "n_hits", "hit_rate", "hit_rate_low", "hit_rate_high", "direction_hit_rate", "touch_hit_rate",
    "median_days_to_touch", "mean_excess", "median_excess", "excess_t_stat", "mean_excess_incomplete",
    "ic_spearman", "share_bullish",
]

_ANALYST_SPLIT = re.compile(r"[,;，；、/|]+")


def scored_legs(scores: pd.DataFrame, range_leg: str = "long") -> pd.DataFrame:
    """The rows of ``scores`` the scorecards use: ``horizon_leg`` is ``single`` or ``range_leg``."""
    return scores[scores["horizon_leg"].isin(("single", range_leg))]


def _group_keys(rows: pd.DataFrame, group_by: str) -> pd.DataFrame:
    """``rows`` with a ``group`` column for ``group_by`` (exploded for analysts)."""
    if group_by == "all":
        return rows.assign(group="all")
    if group_by == "broker":
        return rows.assign(group=rows["broker"].replace("", "(unknown)"))
    if group_by == "rating":
        label = np.where(rows["kind"] == "mention", rows["broker"] + " · (mention)",
                         rows["broker"] + " · " + rows["rating"].replace("", "(unrated)"))
        return rows.assign(group=label)
    if group_by == "action":
        return rows.assign(group=rows["action"].replace("", "(unknown)"))
    if group_by == "market":
        return rows.assign(group=rows["market"].replace("", "(unknown)"))
    if group_by == "analyst":
        names = rows["analysts"].fillna("").map(
            lambda s: [a.strip() for a in _ANALYST_SPLIT.split(s) if a.strip()] or ["(unknown)"])
        return rows.assign(group=names).explode("group")
    raise ValueError(f"group_by={group_by!r}; allowed: {', '.join(GROUPINGS)}")


def _summary(grp: pd.DataFrame) -> dict[str, float]:
    complete = grp[grp["complete"].astype(bool)]
    incomplete = grp[grp["status"] == "incomplete"]
    hit = complete["hit"].dropna().astype(bool)
    n_hits = int(hit.sum())
    low, high = wilson_interval(n_hits, len(hit))
    direction = complete["direction_hit"].dropna().astype(bool)
    touch = complete["touch_hit"].dropna().astype(bool)
    excess = complete["excess_return"].to_numpy(dtype=float)
    excess = excess[np.isfinite(excess)]
    levels = grp.loc[grp["kind"] == "rating", "rating_level"].to_numpy(dtype=float)
    levels = levels[np.isfinite(levels)]
    days = complete.loc[complete["touch_hit"].fillna(False).astype(bool), "days_to_touch"].to_numpy(dtype=float)
    return {
        "n_signals": len(grp),
        "n_complete": len(complete),
        "n_incomplete": len(incomplete),
        "n_no_price": int((grp["status"] == STATUS_NO_PRICE_DATA).sum()),
        "n_unscored": int((~grp["status"].isin(("complete", "incomplete", STATUS_NO_PRICE_DATA))).sum()),
        "n_hit_eligible": len(hit),
        "n_hits": n_hits,
        "hit_rate": n_hits / len(hit) if len(hit) else np.nan,
        "hit_rate_low": low,
        "hit_rate_high": high,
        "direction_hit_rate": float(direction.mean()) if len(direction) else np.nan,
        "touch_hit_rate": float(touch.mean()) if len(touch) else np.nan,
        "median_days_to_touch": float(np.median(days)) if len(days) else np.nan,
        "mean_excess": float(excess.mean()) if len(excess) else np.nan,
        "median_excess": float(np.median(excess)) if len(excess) else np.nan,
        "excess_t_stat": t_stat(excess),
        "mean_excess_incomplete": float(np.nanmean(incomplete["excess_return"])) if
        np.isfinite(incomplete["excess_return"].to_numpy(dtype=float)).any() else np.nan,
        "ic_spearman": spearman(complete["rating_level"].to_numpy(dtype=float),
                                complete["excess_return"].to_numpy(dtype=float)),
        "share_bullish": float((levels > 0).mean()) if len(levels) else np.nan,
    }


def scorecard(scores: pd.DataFrame, by: tuple[str, ...] = GROUPINGS, range_leg: str = "long") -> pd.DataFrame:
    """The scorecard table (:data:`SCORECARD_COLUMNS`), one row per (``group_by``, ``group``, ``kind``).

    Rates and returns are fractions; ``excess_t_stat`` is the one-sample t statistic of the mean excess;
    ``ic_spearman`` is Spearman's rho between ``rating_level`` and ``excess_return``; ``hit_rate_low/high`` is the
    Wilson 95 % interval. See the module docstring for which rows enter which statistic.
    """
    rows = scored_legs(scores, range_leg)
    rows = rows[rows["kind"].isin(("rating", "mention"))]
    records: list[dict[str, object]] = []
    for group_by in by:
        keyed = _group_keys(rows, group_by)
        for (group, kind), grp in keyed.groupby(["group", "kind"], sort=True):
            rec: dict[str, object] = {"group_by": group_by, "group": group, "kind": kind}
            rec.update(_summary(grp))
            if kind == "mention":
                for col in ("n_hit_eligible", "n_hits"):
                    rec[col] = 0
                for col in ("hit_rate", "hit_rate_low", "hit_rate_high", "direction_hit_rate", "touch_hit_rate",
                            "median_days_to_touch", "ic_spearman", "share_bullish"):
                    rec[col] = np.nan
            records.append(rec)
    out = pd.DataFrame.from_records(records, columns=SCORECARD_COLUMNS)
    for col in ("n_signals", "n_complete", "n_incomplete", "n_no_price", "n_unscored", "n_hit_eligible", "n_hits"):
        out[col] = out[col].astype("int64")
    return out
