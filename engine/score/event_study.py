"""Event study: mean cumulative excess return for sessions 0..250 after publication, by rating level and by action.

1. One path per signal (horizon legs are irrelevant here): the carried-forward cumulative excess at ``base + k``
   sessions, NaN past the data (or past ``as_of``), as :func:`engine.kernels.forward_returns.excess_paths_nb`
   defines it.
2. Paths are never stored: :func:`engine.kernels.event_sums.event_group_sums_nb` walks each signal's path once and
   adds it into the counts, sums and sums of squares of its combination of groups (memory: groups × offsets floats).
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
from engine.kernels.event_sums import event_group_sums_nb
from engine.kernels.forward_returns import last_bar_index_nb
from engine.kernels.ordering import column_visit_order_nb
from engine.score.columns import factorize_strings
from engine.score.stats import Z_95

__all__ = ["event_study", "EVENT_STUDY_COLUMNS"]

EVENT_STUDY_COLUMNS = ["group_by", "group", "offset", "n", "mean_excess", "ci_low", "ci_high"]


def _level_label(level: float) -> str:
    return f"{int(level):+d}" if float(level).is_integer() else f"{level:+g}"


def _grouping_codes(windows: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(group_by, codes, labels)`` per grouping: each row's group as an int64 code into ``labels`` (-1 = the row is
    not in that grouping), from integer codes of the columns (no Python string per row)."""
    kind_codes, kinds = factorize_strings(windows["kind"])
    level = windows["rating_level"].to_numpy(dtype=float)
    action_codes, actions = factorize_strings(windows["action"])
    actions = np.where(actions == "", "(unknown)", actions).astype(object)
    rating_kind = np.flatnonzero(kinds == "rating")
    is_rating = np.isin(kind_codes, rating_kind)
    rated = is_rating & np.isfinite(level)
    level_values, level_codes = np.unique(np.where(rated, level, 0.0), return_inverse=True)
    level_codes = np.where(rated, level_codes.reshape(-1), -1).astype(np.int64)
    used = np.bincount(level_codes[rated], minlength=len(level_values)) > 0
    remap = np.cumsum(used) - 1
    level_codes = np.where(rated, remap[np.maximum(level_codes, 0)], -1)
    level_labels = np.array([_level_label(float(v)) for v in level_values[used]], dtype=object)
    kind_member = np.isin(kinds, ("rating", "mention"))
    return [
        ("rating_level", level_codes, level_labels),
        ("action", np.where(rated, action_codes, -1).astype(np.int64), actions),
        ("kind", np.where(kind_member[kind_codes], kind_codes, -1).astype(np.int64), kinds),
    ]


def event_study(windows: pd.DataFrame, asset_col: np.ndarray, bench_col: np.ndarray, base_idx: np.ndarray,
                panel: Panel, n_offsets: int = 251, excess_mode: str = "absolute",
                chunks: int = 16, visit_order: np.ndarray | None = None) -> pd.DataFrame:
    """Long table :data:`EVENT_STUDY_COLUMNS` (``offset`` in sessions, excess as fractions).

    ``windows`` holds one row per signal with ``kind``, ``rating_level`` and ``action``; ``asset_col``/``bench_col``/
    ``base_idx`` are its panel indices (``asset_col < 0``: no price data, skipped). Each signal is accumulated once,
    into the combination of its groups (level, action, kind); the groupings' sums are then sums over combinations.
    ``visit_order`` (optional) lists the rows with ``asset_col >= 0`` in the order to visit them (by asset, then base;
    :func:`engine.score.windows.score_windows_with_indices` returns it); computed here when not given.
    """
    groupings = _grouping_codes(windows)
    n_rows = len(windows)
    ok = np.asarray(asset_col) >= 0
    # one combined code per row: (level, action, kind) codes, each shifted by one so "not in grouping" is 0
    combined = np.zeros(n_rows, dtype=np.int64)
    for _, codes, labels in groupings:
        combined = combined * (len(labels) + 1) + (codes + 1)
    member = ok & np.column_stack([codes >= 0 for _, codes, _ in groupings]).any(axis=1)
    combo, combo_keys = pd.factorize(np.where(member, combined, -1))
    combo = combo.astype(np.int64)
    if len(combo_keys) and (combo_keys == -1).any():
        missing = int(np.flatnonzero(combo_keys == -1)[0])
        combo = np.where(combo == missing, -1, combo - (combo > missing))
        combo_keys = combo_keys[combo_keys != -1]
    close = panel.close if panel.close.flags.f_contiguous else np.asfortranarray(panel.close)
    last_bar = last_bar_index_nb(close)
    # visit signals by (asset, base): column-local memory access (see engine/score/windows.py)
    if visit_order is None:
        todo = column_visit_order_nb(np.flatnonzero(combo >= 0).astype(np.int64), np.asarray(asset_col, np.int64),
                                     np.asarray(base_idx, np.int64), close.shape[1], len(panel.sessions))
    else:
        todo = visit_order[combo[visit_order] >= 0]
    combo_sums = event_group_sums_nb(close, last_bar, np.ascontiguousarray(asset_col[todo], dtype=np.int64),
                                     np.ascontiguousarray(bench_col[todo], dtype=np.int64),
                                     np.ascontiguousarray(base_idx[todo], dtype=np.int64), combo[todo],
                                     len(combo_keys), n_offsets, EXCESS_MODE_NAMES[excess_mode], chunks)
    # decode each combination back into its group of every grouping
    frames = []
    rest = np.asarray(combo_keys, dtype=np.int64)
    parts = []
    for _, codes, labels in reversed(groupings):
        parts.append(rest % (len(labels) + 1) - 1)
        rest = rest // (len(labels) + 1)
    parts.reverse()
    for (group_by, _, labels), part in zip(groupings, parts):
        names = np.where(part >= 0, labels[np.maximum(part, 0)] if len(labels) else "", None)
        for label in sorted({str(x) for x in names if x is not None}):
            count, total, total_sq = combo_sums[:, names == label].sum(axis=1)
            if not count.any():
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / count
                var = (total_sq - count * mean * mean) / (count - 1)
                half = Z_95 * np.sqrt(np.maximum(var, 0.0) / count)
            half[count < 2] = np.nan
            frames.append(pd.DataFrame({"group_by": group_by, "group": label,
                                        "offset": np.arange(n_offsets), "n": count.astype(np.int64),
                                        "mean_excess": mean, "ci_low": mean - half, "ci_high": mean + half}))
    if not frames:
        return pd.DataFrame(columns=EVENT_STUDY_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    order = {"rating_level": 0, "action": 1, "kind": 2}
    out = out.sort_values(["group_by", "group", "offset"], key=lambda s: s.map(order) if s.name == "group_by" else s)
    return out.reset_index(drop=True)[EVENT_STUDY_COLUMNS]
