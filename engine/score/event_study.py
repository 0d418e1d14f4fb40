"""Event study: mean cumulative excess return for sessions 0..250 after publication, by rating level and by action.

1. One path per signal (horizon legs are irrelevant here): :func:`engine.kernels.forward_returns.excess_paths_nb`
   gives the carried-forward cumulative excess at ``base + k`` sessions, NaN past the data (or past ``as_of``).
2. Paths are aggregated per group in chunks of ``chunk`` signals (memory stays ``chunk × offsets`` floats): counts,
   sums and sums of squares per group and offset come from one pass of
   :func:`engine.kernels.forward_returns.group_path_sums_nb`.
3. Groups: ``rating_level`` (rated rows, e.g. ``2``, ``1``, ``0``, ``-1``), ``action`` (rated rows; empty →
   ``(unknown)``) and ``kind`` (``rating`` vs ``mention``, so mentions are their own group).
4. Confidence band: ``mean ± 1.96 · sd / sqrt(n)`` over the signals that still have data at that offset (normal
   approximation; NaN for n < 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.enums import EXCESS_MODE_NAMES
from engine.kernels.forward_returns import excess_paths_nb, group_path_sums_nb, last_bar_index_nb
from engine.score.columns import as_strings
from engine.score.stats import Z_95

__all__ = ["event_study", "EVENT_STUDY_COLUMNS"]

EVENT_STUDY_COLUMNS = ["group_by", "group", "offset", "n", "mean_excess", "ci_low", "ci_high"]


def _level_label(level: float) -> str:
    return f"{int(level):+d}" if float(level).is_integer() else f"{level:+g}"


def _level_labels(level: np.ndarray, rated: np.ndarray) -> np.ndarray:
    """``"+2"``, ``"-1"`` … for rated rows, ``""`` otherwise (computed once per distinct level)."""
    out = np.full(len(level), "", dtype=object)
    for value in np.unique(level[rated]):
        out[rated & (level == value)] = _level_label(float(value))
    return out


def event_study(windows: pd.DataFrame, asset_col: np.ndarray, bench_col: np.ndarray, base_idx: np.ndarray,
                panel: Panel, n_offsets: int = 251, excess_mode: str = "absolute",
                chunk: int = 50_000) -> pd.DataFrame:
    """Long table :data:`EVENT_STUDY_COLUMNS` (``offset`` in sessions, excess as fractions).

    ``windows`` holds one row per signal with ``kind``, ``rating_level`` and ``action``; ``asset_col``/``bench_col``/
    ``base_idx`` are its panel indices (``asset_col < 0``: no price data, skipped).
    """
    kind = as_strings(windows["kind"])
    level = windows["rating_level"].to_numpy(dtype=float)
    action = as_strings(windows["action"])
    action = np.where(action == "", "(unknown)", action).astype(object)
    rated = (kind == "rating") & np.isfinite(level)
    groupings: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("rating_level", rated, _level_labels(level, rated)),
        ("action", rated, action),
        ("kind", np.isin(kind, ("rating", "mention")), kind),
    ]
    ok = asset_col >= 0
    close = panel.close if panel.close.flags.f_contiguous else np.asfortranarray(panel.close)
    last_bar = last_bar_index_nb(close)
    # every row's group in each grouping, as codes in one shared range (factorised once, not per chunk)
    keys: list[tuple[str, str]] = []
    codes_by_grouping = []
    for group_by, member, labels in groupings:
        codes, uniques = pd.factorize(np.where(member, labels, None).astype(object))  # None → -1
        codes = np.where(codes >= 0, codes + len(keys), -1).astype(np.int64)
        keys += [(group_by, str(label)) for label in uniques]
        codes_by_grouping.append(codes)
    group_codes = np.column_stack(codes_by_grouping) if codes_by_grouping else np.empty((len(kind), 0), np.int64)
    totals = np.zeros((3, len(keys), n_offsets))
    todo = np.flatnonzero(ok & (group_codes >= 0).any(axis=1))
    # visit signals by (asset, base): column-local memory access (see engine/score/windows.py)
    todo = todo[np.argsort(asset_col[todo] * (len(panel.sessions) + 2) + base_idx[todo])]
    for start in range(0, len(todo), chunk):
        sel = todo[start:start + chunk]
        paths = excess_paths_nb(close, last_bar, asset_col[sel], bench_col[sel], base_idx[sel], n_offsets,
                                EXCESS_MODE_NAMES[excess_mode])
        totals += group_path_sums_nb(paths, np.ascontiguousarray(group_codes[sel]), len(keys))
    sums = {key: totals[:, g] for g, key in enumerate(keys) if totals[0, g].any()}
    frames = []
    for (group_by, label), (count, total, total_sq) in sums.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            var = (total_sq - count * mean * mean) / (count - 1)
            half = Z_95 * np.sqrt(np.maximum(var, 0.0) / count)
        half[count < 2] = np.nan
        frames.append(pd.DataFrame({"group_by": group_by, "group": label, "offset": np.arange(n_offsets),
                                    "n": count.astype(np.int64), "mean_excess": mean,
                                    "ci_low": mean - half, "ci_high": mean + half}))
    if not frames:
        return pd.DataFrame(columns=EVENT_STUDY_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    order = {"rating_level": 0, "action": 1, "kind": 2}
    out = out.sort_values(["group_by", "group", "offset"], key=lambda s: s.map(order) if s.name == "group_by" else s)
    return out.reset_index(drop=True)[EVENT_STUDY_COLUMNS]
