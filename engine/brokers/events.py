"""Rating-change event study: mean cumulative excess return from 20 sessions before to 250 after a rating event.

Events are rated signals by ``action``: ``upgrade``, ``downgrade``, ``initiate``, ``reiterate`` (as the source states
it, else derived from the broker's previous rating: :func:`engine.signals.history.derive_actions`). Steps:

1. Panel indices of every event (:func:`engine.score.windows.prepare_windows`: base = last session on or before the
   publication date, benchmark = the rating's or the market's).
2. Paths: offsets ``0 … +post`` from :func:`engine.kernels.forward_returns.excess_paths_nb` (the scoring stage's
   kernel: cumulative excess from the base close, carried forward, NaN past the data) and ``−pre … −1`` from
   :func:`engine.kernels.broker_paths.pre_event_paths_nb` (the excess of that earlier close over the base close, so
   the curve runs through 0 at the event: a run-up before an upgrade shows as negative values left of 0).
3. Per group and offset: ``n`` (events with data at that offset), mean, and the 95 % band ``mean ± 1.96·sd/√n``
   (normal approximation; NaN for n < 2), from :func:`engine.kernels.forward_returns.group_path_sums_nb`.
4. Groups: every action over all brokers (``broker = "all"``), and per broker × action when that broker has at
   least ``min_events`` events of the action with data at offset 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.panel import Panel
from engine.enums import EXCESS_MODE_NAMES
from engine.kernels.broker_paths import pre_event_paths_nb
from engine.kernels.forward_returns import excess_paths_nb, group_path_sums_nb, last_bar_index_nb
from engine.score.stats import Z_95
from engine.score.windows import ScoreConfig, expand_horizons, prepare_windows

__all__ = ["ACTIONS", "EVENT_COLUMNS", "rating_events"]

ACTIONS = ("upgrade", "downgrade", "initiate", "reiterate")
EVENT_COLUMNS = ["broker", "action", "offset", "n", "mean_excess", "ci_low", "ci_high"]


def _event_paths(events: pd.DataFrame, panel: Panel, pre: int, post: int, excess_mode: str) -> np.ndarray:
    """(n_events, pre + post + 1) cumulative excess, offsets −pre … +post (step 2)."""
    windows = expand_horizons(events, ScoreConfig())
    windows = windows[windows["horizon_leg"] != "long"].reset_index(drop=True)  # one row per event
    idx = prepare_windows(windows, panel)
    close = panel.close if panel.close.flags.f_contiguous else np.asfortranarray(panel.close)
    last_bar = last_bar_index_nb(close)
    asset, bench, base = idx["asset_col"], idx["bench_col"], idx["base_idx"]
    ok = (asset >= 0) & (bench >= 0) & (base >= 0)
    paths = np.full((len(windows), pre + post + 1), np.nan)
    sel = np.flatnonzero(ok)
    if len(sel):
        mode = EXCESS_MODE_NAMES[excess_mode]
        paths[sel, pre:] = excess_paths_nb(close, last_bar, asset[sel], bench[sel], base[sel], post + 1, mode)
        paths[sel, :pre] = pre_event_paths_nb(close, asset[sel], bench[sel], base[sel], pre, mode)
    return paths


def _summarise(paths: np.ndarray, codes: np.ndarray, labels: list[tuple[str, str]], pre: int) -> pd.DataFrame:
    """Step 3: ``codes`` (N, M) gives each event's group in each of M groupings (disjoint code ranges, -1 = none)."""
    totals = group_path_sums_nb(paths, np.ascontiguousarray(codes, dtype=np.int64), len(labels))
    frames = []
    offsets = np.arange(-pre, paths.shape[1] - pre)
    for g, (broker, action) in enumerate(labels):
        count, total, total_sq = totals[0, g], totals[1, g], totals[2, g]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            var = (total_sq - count * mean * mean) / (count - 1)
            half = Z_95 * np.sqrt(np.maximum(var, 0.0) / count)
        half[count < 2] = np.nan
        frames.append(pd.DataFrame({"broker": broker, "action": action, "offset": offsets,
                                    "n": count.astype(np.int64), "mean_excess": mean,
                                    "ci_low": mean - half, "ci_high": mean + half}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=EVENT_COLUMNS)


def rating_events(signals: pd.DataFrame, panel: Panel, *, pre: int = 20, post: int = 250, min_events: int = 30,
                  excess_mode: str = "absolute") -> pd.DataFrame:
    """Long table :data:`EVENT_COLUMNS`: per (broker or ``all``, action) and offset ``−pre … +post`` sessions, the
    number of events with data, the mean cumulative excess (fraction) and its 95 % band. See module docstring."""
    events = signals[(signals["kind"] == "rating") & signals["action"].isin(ACTIONS)].reset_index(drop=True)
    if events.empty:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    paths = _event_paths(events, panel, pre, post, excess_mode)
    action = events["action"].astype(str).to_numpy(dtype=object)
    broker = events["broker"].astype(str).to_numpy(dtype=object)
    has_base = np.isfinite(paths[:, pre])
    labels: list[tuple[str, str]] = []
    codes = np.full((len(events), 2), -1, dtype=np.int64)  # grouping 0: action over all brokers; 1: broker × action
    for name in ACTIONS:
        member = action == name
        if member.any():
            codes[member, 0] = len(labels)
            labels.append(("all", name))
    pairs = pd.Series(has_base).groupby([broker, action]).sum()
    lookup = {}
    for (b, a), n in pairs.items():
        if n >= min_events:
            lookup[(b, a)] = len(labels)
            labels.append((b, a))
    codes[:, 1] = [lookup.get((b, a), -1) for b, a in zip(broker, action)]
    out = _summarise(paths, codes, labels, pre)
    out = out[out["n"] > 0] if len(out) else out
    return out.reset_index(drop=True)[EVENT_COLUMNS]
