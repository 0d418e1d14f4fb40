"""Kernels for the broker league table and the rating-change event study (``ratingbt brokers``).

Pure numba functions on numpy arrays; no pandas. The pandas wrappers are :mod:`engine.brokers.events` and
:mod:`engine.brokers.targets`; the pandas references these kernels are tested against live in
``tests/brokers/test_broker_kernels.py``.

Conventions are those of :mod:`engine.kernels.forward_returns`: ``close`` is the *adjusted* close panel
``(n_sessions, n_assets)`` float64 with NaN for "no bar"; prices are carried forward over missing bars ("last traded
close on or before"); the *base session* ``base_idx`` is the last session on or before the publication date; returns
are fractions; ``mode`` is :data:`engine.enums.ExcessMode` (0 absolute ``r - b``, 1 relative).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.kernels.forward_returns import _excess_nb, _last_bar_at_or_before_nb

__all__ = ["pre_event_paths_nb", "target_reach_nb"]


@njit(cache=True, parallel=True)
def pre_event_paths_nb(
    close: np.ndarray,
    asset_col: np.ndarray,
    bench_col: np.ndarray,
    base_idx: np.ndarray,
    n_before: int,
    mode: int,
) -> np.ndarray:
    """Excess return of the close ``k`` sessions *before* the base over the base close, ``k = n_before .. 1``.

    Column ``c`` holds offset ``c - n_before`` (so ``-n_before`` … ``-1``); the value is
    ``excess(P[t] / P[base] - 1, B[t] / B[base] - 1)`` with ``t = base + offset``, which makes the pre-event part
    continue the post-event path of :func:`engine.kernels.forward_returns.excess_paths_nb` through 0 at the base: a
    stock that ran up 5 % more than the index over the 20 sessions before an upgrade shows about -5 % at offset -20.

    Shapes:
        ``close`` (S, A) float64; ``asset_col``, ``bench_col``, ``base_idx`` (N,) int64 → (N, n_before) float64.
    NaN:
        A row is all NaN when ``asset_col``/``bench_col``/``base_idx`` is negative or either series has no bar on or
        before the base. An offset before the first bar of the stock or the benchmark (``t < 0`` included) is NaN.
    Units:
        Fractions; offsets in sessions of the panel's calendar.
    Pandas reference:
        ``pre_event_paths_pandas`` in ``tests/brokers/test_broker_kernels.py``.
    """
    n_sessions = close.shape[0]
    n = asset_col.shape[0]
    out = np.full((n, n_before), np.nan)
    for s in prange(n):
        j = asset_col[s]
        k = bench_col[s]
        b = base_idx[s]
        if j < 0 or k < 0 or b < 0 or b >= n_sessions:
            continue
        sb = _last_bar_at_or_before_nb(close, j, b)
        bb = _last_bar_at_or_before_nb(close, k, b)
        if sb < 0 or bb < 0:
            continue
        s0 = close[sb, j]
        b0 = close[bb, k]
        for c in range(n_before):
            t = b - n_before + c
            if t < 0:
                continue
            st = _last_bar_at_or_before_nb(close, j, t)
            bt = _last_bar_at_or_before_nb(close, k, t)
            if st < 0 or bt < 0:
                continue
            out[s, c] = _excess_nb(close[st, j] / s0 - 1.0, close[bt, k] / b0 - 1.0, mode)
    return out


@njit(cache=True, parallel=True)
def target_reach_nb(
    close: np.ndarray,
    last_bar: np.ndarray,
    asset_col: np.ndarray,
    base_idx: np.ndarray,
    end_idx: np.ndarray,
    target_ratio: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """First session after the base at which the stock's close reached its target, and whether the window is over.

    The target is reached at session ``t`` (``base < t <= end``) when ``P[t] / P[base] >= target_ratio`` for a target
    above the price (``target_ratio >= 1``), or ``<=`` for a target below it.

    Shapes:
        ``close`` (S, A) float64; ``last_bar`` (A,) int64 (:func:`last_bar_index_nb`); ``asset_col``, ``base_idx``,
        ``end_idx`` (N,) int64; ``target_ratio`` (N,) float64 → ``(reach_idx (N,) int64, decided (N,) bool)``.
    NaN:
        ``reach_idx = -1`` when not reached (or not computable: negative index, NaN/non-positive ratio, no bar on or
        before the base). ``decided`` is True when the target was reached, or when the stock has a bar at or after
        ``end`` (the window is over without reaching it); ``end_idx >= S`` means the horizon ends after the panel.
    Units:
        ``target_ratio`` is target price / price at the base (both traded prices, a plain ratio); session indices.
    Pandas reference:
        ``target_reach_pandas`` in ``tests/brokers/test_broker_kernels.py``.
    """
    n_sessions = close.shape[0]
    n = asset_col.shape[0]
    reach = np.full(n, -1, dtype=np.int64)
    decided = np.zeros(n, dtype=np.bool_)
    for s in prange(n):
        j = asset_col[s]
        b = base_idx[s]
        ratio = target_ratio[s]
        if j < 0 or b < 0 or b >= n_sessions or not np.isfinite(ratio) or ratio <= 0.0:
            continue
        sb = _last_bar_at_or_before_nb(close, j, b)
        if sb < 0:
            continue
        p0 = close[sb, j]
        up = ratio >= 1.0
        stop = min(end_idx[s], n_sessions - 1, last_bar[j])
        for t in range(b + 1, stop + 1):
            x = close[t, j]
            if not np.isfinite(x):
                continue
            r = x / p0
            if (up and r >= ratio) or ((not up) and r <= ratio):
                reach[s] = t
                decided[s] = True
                break
        if reach[s] < 0 and end_idx[s] < n_sessions and last_bar[j] >= end_idx[s]:
            decided[s] = True
    return reach, decided
