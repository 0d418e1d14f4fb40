"""The league table: one row per broker (and per analyst) with its accuracy, its significance and its rank.

Steps of :func:`league_table`:

1. The scoring stage's per-window ``scores`` (:func:`engine.score.run_scoring`), rated rows only, one leg per signal
   (:func:`engine.score.scorecard.scored_legs`).
2. :func:`engine.score.scorecard.scorecard` by ``broker`` and ``analyst``: counts, band hit rate with its Wilson
   95 % interval, direction and touch rates, median days to touch, mean / median excess with the t statistic, IC
   (Spearman of rating level and excess), share bullish. Rates and returns are fractions, days calendar days.
3. Added per group: direction counts with their Wilson interval; target-price hit rate and median days to target
   (:mod:`engine.brokers.targets`, where targets exist); ``scale`` (which scale judged the bands: the registry file,
   ``report`` for a report's own 评级说明, ``none``) and ``horizon`` (the horizon as given → months scored, with
   ``default`` when none was given and 12 months were assumed); ``judged_by`` says what the rank rests on.
4. :func:`engine.brokers.ranking.rank_league` ranks brokers against brokers and analysts against analysts.
5. Groups with fewer than ``min_ratings`` rated signals are left out (and counted).
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import numpy as np
import pandas as pd

from engine.brokers.ranking import BASIS_BAND, BASIS_DIRECTION, rank_league
from engine.score.scorecard import group_labels, scorecard, scored_legs
from engine.score.stats import wilson_interval

__all__ = ["LEAGUE_COLUMNS", "league_table", "row_scale_labels"]

LEAGUE_COLUMNS = [
    "group_by", "group", "rank", "rank_basis", "rank_score", "judged_by", "scale", "horizon", "brokers",
    "n_ratings", "n_complete", "n_incomplete", "n_no_price",
    "n_hit_eligible", "n_hits", "hit_rate", "hit_rate_low", "hit_rate_high",
    "n_direction", "direction_hits", "direction_hit_rate", "direction_low", "direction_high",
    "touch_hit_rate", "median_days_to_touch", "mean_excess", "median_excess", "excess_t_stat", "ic_spearman",
    "share_bullish", "n_targets", "n_targets_decided", "target_hit_rate", "median_days_to_target",
]


def row_scale_labels(scores: pd.DataFrame, scale_name: Callable[[str], str] | None = None) -> np.ndarray:
    """Which scale judged each row: ``scale_source`` when the row has one, else (a band present) the registry label
    ``scale_name(broker)`` or ``"band in the signals"``; ``"none"`` for a row without a band."""
    has_band = (scores["band_low"].notna() | scores["band_high"].notna()).to_numpy()
    source = scores["scale_source"].astype(str).str.replace(r"^(registry:)+", "registry:", regex=True) \
        .to_numpy(dtype=object) if "scale_source" in scores.columns else np.full(len(scores), "", dtype=object)
    brokers = scores["broker"].astype(str).to_numpy(dtype=object)
    names = {b: (scale_name(b) if scale_name else "") or "band in the signals" for b in pd.unique(brokers)}
    fallback = np.array([names[b] for b in brokers], dtype=object)
    return np.where(has_band, np.where(source != "", source, fallback), "none").astype(object)


def _horizon_labels(rows: pd.DataFrame) -> np.ndarray:
    given = rows["horizon_months"].astype(str).str.strip().to_numpy(dtype=object)
    scored = rows["horizon_scored_months"].astype(int).astype(str).to_numpy(dtype=object)
    return np.where(given == "", scored + "m (default)",
                    np.where(given == scored, scored + "m", given + "m → " + scored + "m")).astype(object)


def _most_common(values: list[str], top: int = 2) -> str:
    counts = Counter(values).most_common()
    text = ", ".join(v for v, _ in counts[:top])
    return text + (f" (+{len(counts) - top} more)" if len(counts) > top else "")


def _extras(rows: pd.DataFrame, group_by: str, targets: pd.DataFrame | None) -> pd.DataFrame:
    """Per group of ``group_by``: direction counts, scale/horizon labels, brokers, target statistics."""
    positions, label_codes, uniques = group_labels(rows, group_by)
    labels = np.asarray(uniques, dtype=object)[label_codes]
    complete = rows["complete"].to_numpy(dtype=bool)
    direction = rows["direction_hit"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    scale = rows["_scale"].to_numpy(dtype=object)
    horizon = _horizon_labels(rows)
    band = rows["_has_band"].to_numpy(dtype=bool)
    brokers = rows["broker"].astype(str).to_numpy(dtype=object)
    target_hit = np.full(len(rows), np.nan)
    target_days = np.full(len(rows), np.nan)
    has_target = np.zeros(len(rows), dtype=bool)
    if targets is not None and len(targets):
        t = targets.set_index("signal_id")
        idx = t.index.get_indexer(rows["signal_id"].astype(str))
        has_target = idx >= 0
        hits = t["target_hit"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        days = t["days_to_target"].to_numpy(dtype=float)
        target_hit[has_target] = hits[idx[has_target]]
        target_days[has_target] = days[idx[has_target]]
    frame = pd.DataFrame({"pos": positions, "group": labels})
    records = []
    for group, part in frame.groupby("group", sort=False):
        at = part["pos"].to_numpy()
        d = direction[at][complete[at]]
        d = d[np.isfinite(d)]
        k = int(d.sum())
        low, high = wilson_interval(k, len(d))
        judged = at[band[at]]
        th = target_hit[at][has_target[at]]
        decided = th[np.isfinite(th)]
        reached_days = target_days[at][has_target[at] & (target_hit[at] == 1.0)]
        records.append({
            "group": str(group),
            "n_direction": len(d), "direction_hits": k, "direction_low": low, "direction_high": high,
            "scale": _most_common([str(s) for s in scale[judged]]) if len(judged) else "none",
            "horizon": _most_common([str(h) for h in horizon[judged if len(judged) else at]]),
            "brokers": _most_common([str(b) for b in brokers[at]], top=3) if group_by == "analyst" else "",
            "n_targets": int(has_target[at].sum()), "n_targets_decided": len(decided),
            "target_hit_rate": float(decided.mean()) if len(decided) else np.nan,
            "median_days_to_target": float(np.median(reached_days)) if len(reached_days) else np.nan,
        })
    return pd.DataFrame.from_records(records)


def league_table(scores: pd.DataFrame, *, targets: pd.DataFrame | None = None, range_leg: str = "long",
                 by: tuple[str, ...] = ("broker", "analyst"), min_ratings: int = 20,
                 scale_name: Callable[[str], str] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The league table (:data:`LEAGUE_COLUMNS`) and, per grouping, how many groups had fewer than ``min_ratings``
    rated signals and were left out. ``scale_name(broker)`` names a broker's registry scale (e.g.
    ``registry:民生证券.yaml``); see the module docstring for every step."""
    rows = scored_legs(scores, range_leg)
    rows = rows[rows["kind"] == "rating"].reset_index(drop=True)
    rows = rows.assign(_scale=row_scale_labels(rows, scale_name),
                       _has_band=(rows["band_low"].notna() | rows["band_high"].notna()).to_numpy())
    card = scorecard(rows, by=by, range_leg=range_leg)
    card = card[card["kind"] == "rating"].drop(columns=["kind", "mean_excess_incomplete", "n_unscored"])
    card = card.rename(columns={"n_signals": "n_ratings"})
    parts, skipped = [], {}
    for group_by in by:
        part = card[card["group_by"] == group_by]
        if part.empty:
            continue
        extras = _extras(rows, group_by, targets)
        part = part.merge(extras, on="group", how="left")
        small = part["n_ratings"] < min_ratings
        skipped[group_by] = int(small.sum())
        parts.append(part[~small])
    if not parts:
        return pd.DataFrame(columns=LEAGUE_COLUMNS), skipped
    table = pd.concat(parts, ignore_index=True)
    table = rank_league(table)
    table["judged_by"] = np.where(
        table["rank_basis"] == BASIS_BAND, "own band: " + table["scale"].astype(str),
        np.where(table["rank_basis"] == BASIS_DIRECTION, "no scale: direction and excess only",
                 "no complete window yet"))
    order = {g: i for i, g in enumerate(by)}
    table = table.sort_values("group_by", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return table[LEAGUE_COLUMNS], skipped
