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

__all__ = ["GROUPINGS", "scorecard", "scored_legs", "group_labels", "SCORECARD_COLUMNS"]

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


def _labels(rows: pd.DataFrame, group_by: str) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, labels)``: row positions of ``rows`` and their group label (analysts: one entry each)."""
    n = len(rows)
    text = {c: rows[c].astype(str).to_numpy(dtype=object) for c in ("broker", "rating", "action", "market", "kind")}

    def unknown(values: np.ndarray) -> np.ndarray:
        return np.where(values == "", "(unknown)", values).astype(object)

    if group_by == "all":
        return np.arange(n), np.full(n, "all", dtype=object)
    if group_by == "broker":
        return np.arange(n), unknown(text["broker"])
    if group_by == "rating":
        rating = np.where(text["rating"] == "", "(unrated)", text["rating"])
        label = np.where(text["kind"] == "mention", text["broker"] + " · (mention)", text["broker"] + " · " + rating)
        return np.arange(n), label.astype(object)
    if group_by in ("action", "market"):
        return np.arange(n), unknown(text[group_by])
    if group_by == "analyst":
        positions, labels = [], []
        cache: dict[str, list[str]] = {}
        for i, names in enumerate(rows["analysts"].fillna("").astype(str).to_numpy(dtype=object)):
            if names not in cache:
                cache[names] = [a.strip() for a in _ANALYST_SPLIT.split(names) if a.strip()] or ["(unknown)"]
            for name in cache[names]:
                positions.append(i)
                labels.append(name)
        return np.asarray(positions, dtype=np.int64), np.asarray(labels, dtype=object)
    raise ValueError(f"group_by={group_by!r}; allowed: {', '.join(GROUPINGS)}")


#: Public name of :func:`_labels`: ``(positions, labels)`` of ``rows`` for a grouping (analysts: one entry each).
group_labels = _labels


def _as_float(col: pd.Series) -> np.ndarray:
    """Nullable boolean/number column → float array with NaN for NA."""
    return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _arrays(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    status = rows["status"].astype(str).to_numpy(dtype=object)
    return {
        "complete": rows["complete"].to_numpy(dtype=bool),
        "incomplete": status == "incomplete",
        "no_price": status == STATUS_NO_PRICE_DATA,
        "unscored": ~np.isin(status, ("complete", "incomplete", STATUS_NO_PRICE_DATA)),
        "hit": _as_float(rows["hit"]),
        "direction": _as_float(rows["direction_hit"]),
        "touch": _as_float(rows["touch_hit"]),
        "excess": rows["excess_return"].to_numpy(dtype=float),
        "days": rows["days_to_touch"].to_numpy(dtype=float, na_value=np.nan),
        "level": rows["rating_level"].to_numpy(dtype=float),
        "is_rating": (rows["kind"].astype(str) == "rating").to_numpy(),
    }


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else np.nan


def _summary(a: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, float]:
    complete = idx[a["complete"][idx]]
    hit = a["hit"][complete]
    hit = hit[np.isfinite(hit)]
    n_hits = int(hit.sum())
    low, high = wilson_interval(n_hits, len(hit))
    excess = a["excess"][complete]
    excess = excess[np.isfinite(excess)]
    levels = a["level"][idx[a["is_rating"][idx]]]
    levels = levels[np.isfinite(levels)]
    touched = complete[a["touch"][complete] == 1.0]
    days = a["days"][touched]
    days = days[np.isfinite(days)]
    return {
        "n_signals": len(idx),
        "n_complete": len(complete),
        "n_incomplete": int(a["incomplete"][idx].sum()),
        "n_no_price": int(a["no_price"][idx].sum()),
        "n_unscored": int(a["unscored"][idx].sum()),
        "n_hit_eligible": len(hit),
        "n_hits": n_hits,
        "hit_rate": n_hits / len(hit) if len(hit) else np.nan,
        "hit_rate_low": low,
        "hit_rate_high": high,
        "direction_hit_rate": _mean(a["direction"][complete]),
        "touch_hit_rate": _mean(a["touch"][complete]),
        "median_days_to_touch": float(np.median(days)) if len(days) else np.nan,
        "mean_excess": float(excess.mean()) if len(excess) else np.nan,
        "median_excess": float(np.median(excess)) if len(excess) else np.nan,
        "excess_t_stat": t_stat(excess),
        "mean_excess_incomplete": _mean(a["excess"][idx[a["incomplete"][idx]]]),
        "ic_spearman": spearman(a["level"][complete], a["excess"][complete]),
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
    arrays = _arrays(rows)
    kinds = rows["kind"].astype(str).to_numpy(dtype=object)
    for group_by in by:
        positions, labels = _labels(rows, group_by)
        if len(positions) == 0:
            continue
        label_codes, label_uniques = pd.factorize(labels)
        kind_codes, kind_uniques = pd.factorize(kinds[positions])
        combined = label_codes * len(kind_uniques) + kind_codes
        order = np.argsort(combined, kind="stable")
        cuts = np.flatnonzero(np.diff(combined[order])) + 1
        groups = []
        for at in np.split(order, cuts):
            key = combined[at[0]]
            groups.append((str(label_uniques[key // len(kind_uniques)]), str(kind_uniques[key % len(kind_uniques)]),
                           at))
        for group, kind, at in sorted(groups, key=lambda item: (item[0], item[1])):
            rec: dict[str, object] = {"group_by": group_by, "group": group, "kind": kind}
            rec.update(_summary(arrays, positions[at]))
            if kind == "mention":
                rec.update(n_hit_eligible=0, n_hits=0)
                for col in ("hit_rate", "hit_rate_low", "hit_rate_high", "direction_hit_rate", "touch_hit_rate",
                            "median_days_to_touch", "ic_spearman", "share_bullish"):
                    rec[col] = np.nan
            records.append(rec)
    out = pd.DataFrame.from_records(records, columns=SCORECARD_COLUMNS)
    for col in ("n_signals", "n_complete", "n_incomplete", "n_no_price", "n_unscored", "n_hit_eligible", "n_hits"):
        out[col] = out[col].astype("int64")
    return out
