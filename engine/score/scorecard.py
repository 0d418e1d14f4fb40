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
from engine.kernels.group_stats import GROUP_STAT_NAMES, group_stats_nb
from engine.score.columns import as_strings, factorize_strings
from engine.score.stats import wilson_interval

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


def _sorted_rows(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rows where ``keep`` and ``values`` is finite, in ascending order of ``values`` (for :func:`group_stats_nb`)."""
    rows = np.flatnonzero(keep & np.isfinite(values))
    return rows[np.argsort(values[rows], kind="stable")].astype(np.int64)


def _arrays(scores: pd.DataFrame, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays of the rows ``rows`` of ``scores`` for :func:`engine.kernels.group_stats.group_stats_nb` (each column
    read once and indexed; rows sorted by value once per scorecard, for every grouping)."""
    status_codes, statuses = factorize_strings(scores["status"])
    status_codes = status_codes[rows]
    kind_codes, kinds = factorize_strings(scores["kind"])
    kind_codes = kind_codes[rows]
    level = scores["rating_level"].to_numpy(dtype=float)[rows]
    levels, level_code = np.unique(np.where(np.isfinite(level), level, np.inf), return_inverse=True)
    level_code = np.where(np.isfinite(level), level_code.reshape(-1), -1).astype(np.int64)
    excess = scores["excess_return"].to_numpy(dtype=float)[rows]
    days = scores["days_to_touch"].to_numpy(dtype=float, na_value=np.nan)[rows]
    complete = scores["complete"].to_numpy(dtype=bool)[rows]
    touch = _as_float(scores["touch_hit"])[rows]
    excess_rows = _sorted_rows(excess, complete)
    days_rows = _sorted_rows(days, complete & (touch == 1.0))
    return {
        "excess_rows": excess_rows,
        "excess_sorted": excess[excess_rows],
        "level_sorted": level_code[excess_rows],
        "days_rows": days_rows,
        "days_sorted": days[days_rows],
        "complete": complete,
        "incomplete": (statuses == "incomplete")[status_codes],
        "no_price": (statuses == STATUS_NO_PRICE_DATA)[status_codes],
        "unscored": ~np.isin(statuses, ("complete", "incomplete", STATUS_NO_PRICE_DATA))[status_codes],
        "hit": _as_float(scores["hit"])[rows],
        "direction": _as_float(scores["direction_hit"])[rows],
        "touch": touch,
        "excess": excess,
        "days": days,
        "level": level,
        "level_code": level_code,
        "n_levels": int(np.isfinite(levels).sum()),
        "is_rating": (kinds == "rating")[kind_codes],
    }


def _summaries(a: dict[str, np.ndarray], positions: np.ndarray, g: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Every statistic of the module docstring for each group at once: ``g[i]`` is the group of row
    ``positions[i]`` (one pass of :func:`engine.kernels.group_stats.group_stats_nb`; Wilson intervals per group)."""
    positions = np.asarray(positions, dtype=np.int64)
    g = np.asarray(g, dtype=np.int64)
    if len(positions) > 1 and (np.diff(positions) < 0).any():  # the kernel wants entries sorted by row
        by_row = np.argsort(positions, kind="stable")
        positions, g = positions[by_row], g[by_row]
    raw = group_stats_nb(np.ascontiguousarray(positions), np.ascontiguousarray(g), n_groups,
                         a["excess_rows"], a["excess_sorted"], a["level_sorted"], a["days_rows"], a["days_sorted"],
                         a["complete"], a["incomplete"], a["no_price"], a["unscored"], a["hit"], a["direction"],
                         a["touch"], a["excess"], a["days"], a["level"], a["level_code"], a["n_levels"],
                         a["is_rating"])
    st = dict(zip(GROUP_STAT_NAMES, raw))
    n_eligible = st["n_hit_eligible"].astype(np.int64)
    n_hits = st["n_hits"].astype(np.int64)
    n_excess, mean_excess, sd = st["n_excess"], st["mean_excess"], st["excess_sd"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where((n_excess >= 2) & (sd > 0), mean_excess / (sd / np.sqrt(n_excess)), np.nan)
        hit_rate = np.where(n_eligible > 0, n_hits / n_eligible, np.nan)
    interval = np.array([wilson_interval(int(k), int(n)) for k, n in zip(n_hits, n_eligible)]).reshape(-1, 2)
    return {
        "n_signals": st["n_signals"].astype(np.int64),
        "n_complete": st["n_complete"].astype(np.int64),
        "n_incomplete": st["n_incomplete"].astype(np.int64),
        "n_no_price": st["n_no_price"].astype(np.int64),
        "n_unscored": st["n_unscored"].astype(np.int64),
        "n_hit_eligible": n_eligible,
        "n_hits": n_hits,
        "hit_rate": hit_rate,
        "hit_rate_low": interval[:, 0],
        "hit_rate_high": interval[:, 1],
        "direction_hit_rate": st["direction_hit_rate"],
        "touch_hit_rate": st["touch_hit_rate"],
        "median_days_to_touch": st["median_days_to_touch"],
        "mean_excess": mean_excess,
        "median_excess": st["median_excess"],
        "excess_t_stat": t,
        "mean_excess_incomplete": st["mean_excess_incomplete"],
        "ic_spearman": st["ic_spearman"],
        "share_bullish": st["share_bullish"],
    }


#: Above this many rows the scorecard computes two groupings at a time (threads; same result).
THREADED_ROWS = 100_000


def scorecard(scores: pd.DataFrame, by: tuple[str, ...] = GROUPINGS, range_leg: str = "long") -> pd.DataFrame:
    """The scorecard table (:data:`SCORECARD_COLUMNS`), one row per (``group_by``, ``group``, ``kind``).

    Rates and returns are fractions; ``excess_t_stat`` is the one-sample t statistic of the mean excess;
    ``ic_spearman`` is Spearman's rho between ``rating_level`` and ``excess_return``; ``hit_rate_low/high`` is the
    Wilson 95 % interval. See the module docstring for which rows enter which statistic.
    """
    # the rows used (scored_legs, kinds rating and mention) as positions: only the label columns are copied
    keep = np.flatnonzero((scores["horizon_leg"].isin(("single", range_leg))
                           & scores["kind"].isin(("rating", "mention"))).to_numpy(dtype=bool))
    rows = scores[["kind", "broker", "rating", "action", "market", "analysts"]].take(keep)
    records: list[dict[str, object]] = []
    arrays = _arrays(scores, keep)
    kind_codes, kind_uniques = factorize_strings(rows["kind"])
    n_kinds = len(kind_uniques)

    def grouping(group_by: str):
        positions, label_codes, label_uniques = _labels(rows, group_by)
        if len(positions) == 0:
            return None
        g, keys = pd.factorize(label_codes * n_kinds + kind_codes[positions], sort=False)
        return _summaries(arrays, positions, g.astype(np.int64), len(keys)), keys, label_uniques

    # the groupings are independent and their kernel releases the GIL: two at a time on a large table
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2 if len(keep) > THREADED_ROWS else 1) as pool:
        done = list(pool.map(grouping, by))
    for group_by, found in zip(by, done):
        if found is None:
            continue
        stats, keys, label_uniques = found
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
