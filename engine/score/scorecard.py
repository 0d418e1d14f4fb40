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
from engine.score.columns import as_strings, factorize_strings
from engine.score.stats import spearman, wilson_interval

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


def _codes(values: pd.Series, empty: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a string column and its distinct values (``""`` shown as ``empty``)."""
    codes, uniques = factorize_strings(values)
    return codes, np.where(uniques == "", empty, uniques).astype(object)


def _labels(rows: pd.DataFrame, group_by: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positions, label_codes, labels)``: row positions of ``rows``, each entry's group as an integer code into
    ``labels`` (analysts: one entry per analyst of a row). Works on codes, never on one Python string per row."""
    n = len(rows)
    if group_by == "all":
        return np.arange(n), np.zeros(n, dtype=np.int64), np.array(["all"], dtype=object)
    if group_by in ("broker", "action", "market"):
        codes, uniques = _codes(rows[group_by], "(unknown)")
        return np.arange(n), codes, uniques
    if group_by == "rating":
        broker, brokers = _codes(rows["broker"], "")
        rating, ratings = _codes(rows["rating"], "(unrated)")
        mention = as_strings(rows["kind"]) == "mention"
        rating = np.where(mention, len(ratings), rating)
        ratings = np.append(ratings, "(mention)").astype(object)
        combined, pairs = pd.factorize(broker * len(ratings) + rating)
        labels = np.array([f"{brokers[k // len(ratings)]} · {ratings[k % len(ratings)]}" for k in pairs], dtype=object)
        return np.arange(n), combined.astype(np.int64), labels
    if group_by == "analyst":
        text_codes, texts = factorize_strings(rows["analysts"])
        names: dict[str, int] = {}
        per_text: list[list[int]] = []
        for text in texts:
            split = [a.strip() for a in _ANALYST_SPLIT.split(str(text)) if a.strip()] or ["(unknown)"]
            per_text.append([names.setdefault(a, len(names)) for a in split])
        counts = np.array([len(ids) for ids in per_text], dtype=np.int64)
        flat = np.array([i for ids in per_text for i in ids], dtype=np.int64)
        offsets = np.r_[0, np.cumsum(counts)[:-1]]
        per_row = counts[text_codes]
        positions = np.repeat(np.arange(n, dtype=np.int64), per_row)
        within = np.arange(len(positions)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        label_codes = flat[offsets[text_codes][positions] + within] if len(positions) else np.empty(0, np.int64)
        return positions, label_codes, np.array(list(names), dtype=object)
    raise ValueError(f"group_by={group_by!r}; allowed: {', '.join(GROUPINGS)}")


#: Public name of :func:`_labels`: ``(positions, label_codes, labels)`` of ``rows`` for a grouping (analysts: one
#: entry per analyst of a row).
group_labels = _labels


def _as_float(col: pd.Series) -> np.ndarray:
    """Nullable boolean/number column → float array with NaN for NA."""
    return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _arrays(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    status = as_strings(rows["status"])
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
        "is_rating": as_strings(rows["kind"]) == "rating",
    }


def _group_mean(g: np.ndarray, x: np.ndarray, keep: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the number of kept finite values of ``x`` and their mean (NaN for none)."""
    ok = keep & np.isfinite(x)
    count = np.bincount(g[ok], minlength=n_groups).astype(float)
    total = np.bincount(g[ok], weights=x[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return count, np.where(count > 0, total / count, np.nan)


def _group_median(g: np.ndarray, x: np.ndarray, keep: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: the median of the kept finite values of ``x`` (NaN for none), from one sort."""
    ok = keep & np.isfinite(x)
    gg, xx = g[ok], x[ok]
    order = np.lexsort((xx, gg))
    gg, xx = gg[order], xx[order]
    count = np.bincount(gg, minlength=n_groups)
    start = np.r_[0, np.cumsum(count)[:-1]]
    out = np.full(n_groups, np.nan)
    has = count > 0
    lo = start[has] + (count[has] - 1) // 2
    hi = start[has] + count[has] // 2
    out[has] = (xx[lo] + xx[hi]) / 2.0
    return out


def _summaries(a: dict[str, np.ndarray], positions: np.ndarray, g: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Every statistic of the module docstring for each group at once: ``g[i]`` is the group of row
    ``positions[i]`` (counts and sums by ``np.bincount``, medians from one sort; the IC per group)."""
    e = {name: values[positions] for name, values in a.items()}
    complete = e["complete"]
    count = lambda mask: np.bincount(g[mask], minlength=n_groups)  # noqa: E731
    eligible = complete & np.isfinite(e["hit"])
    n_eligible = count(eligible)
    n_hits = count(eligible & (e["hit"] == 1.0))
    _, direction = _group_mean(g, e["direction"], complete, n_groups)
    _, touch = _group_mean(g, e["touch"], complete, n_groups)
    n_excess, mean_excess = _group_mean(g, e["excess"], complete, n_groups)
    ok = complete & np.isfinite(e["excess"])
    deviation = e["excess"] - mean_excess[g]
    sq = np.bincount(g[ok], weights=deviation[ok] ** 2, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(sq / (n_excess - 1))
        t = np.where((n_excess >= 2) & (sd > 0), mean_excess / (sd / np.sqrt(n_excess)), np.nan)
        hit_rate = np.where(n_eligible > 0, n_hits / n_eligible, np.nan)
    _, bullish = _group_mean(g, (e["level"] > 0).astype(float), e["is_rating"] & np.isfinite(e["level"]), n_groups)
    interval = np.array([wilson_interval(int(k), int(n)) for k, n in zip(n_hits, n_eligible)]).reshape(-1, 2)
    ic = np.full(n_groups, np.nan)
    rows = np.flatnonzero(complete)
    rows = rows[np.argsort(g[rows], kind="stable")]
    cuts = np.flatnonzero(np.diff(g[rows])) + 1
    for part in np.split(rows, cuts) if len(rows) else []:
        ic[g[part[0]]] = spearman(e["level"][part], e["excess"][part])
    return {
        "n_signals": count(np.ones(len(g), dtype=bool)),
        "n_complete": count(complete),
        "n_incomplete": count(e["incomplete"]),
        "n_no_price": count(e["no_price"]),
        "n_unscored": count(e["unscored"]),
        "n_hit_eligible": n_eligible,
        "n_hits": n_hits,
        "hit_rate": hit_rate,
        "hit_rate_low": interval[:, 0],
        "hit_rate_high": interval[:, 1],
        "direction_hit_rate": direction,
        "touch_hit_rate": touch,
        "median_days_to_touch": _group_median(g, e["days"], complete & (e["touch"] == 1.0), n_groups),
        "mean_excess": mean_excess,
        "median_excess": _group_median(g, e["excess"], complete, n_groups),
        "excess_t_stat": t,
        "mean_excess_incomplete": _group_mean(g, e["excess"], e["incomplete"], n_groups)[1],
        "ic_spearman": ic,
        "share_bullish": bullish,
    }


def scorecard(scores: pd.DataFrame, by: tuple[str, ...] = GROUPINGS, range_leg: str = "long") -> pd.DataFrame:
    """The scorecard table (:data:`SCORECARD_COLUMNS`), one row per (``group_by``, ``group``, ``kind``).

    Rates and returns are fractions; ``excess_t_stat`` is the one-sample t statistic of the mean excess;
    ``ic_spearman`` is Spearman's rho between ``rating_level`` and ``excess_return``; ``hit_rate_low/high`` is the
    Wilson 95 % interval. See the module docstring for which rows enter which statistic.
    """
    needed = ["horizon_leg", "kind", "broker", "rating", "action", "market", "analysts", "status", "complete", "hit",
              "direction_hit", "touch_hit", "excess_return", "days_to_touch", "rating_level"]
    rows = scored_legs(scores[needed], range_leg)
    rows = rows[rows["kind"].isin(("rating", "mention"))]
    records: list[dict[str, object]] = []
    arrays = _arrays(rows)
    kind_codes, kind_uniques = factorize_strings(rows["kind"])
    for group_by in by:
        positions, label_codes, label_uniques = _labels(rows, group_by)
        if len(positions) == 0:
            continue
        n_kinds = len(kind_uniques)
        g, keys = pd.factorize(label_codes * n_kinds + kind_codes[positions], sort=False)
        stats = _summaries(arrays, positions, g.astype(np.int64), len(keys))
        groups = [(str(label_uniques[key // n_kinds]), str(kind_uniques[key % n_kinds]), i)
                  for i, key in enumerate(keys)]
        for group, kind, i in sorted(groups, key=lambda item: (item[0], item[1])):
            rec: dict[str, object] = {"group_by": group_by, "group": group, "kind": kind}
            rec.update({name: values[i] for name, values in stats.items()})
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
