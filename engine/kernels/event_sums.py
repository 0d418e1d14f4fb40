"""Event-study group sums straight from the price panel, without materialising one path per signal.

Pure numba on numpy arrays; no pandas. The pandas wrapper is :func:`engine.score.event_study.event_study`; the
references these kernels are tested against live in ``tests/kernels/test_event_sums.py`` (a plain pandas
``ffill`` + groupby computation on hand-made panels with missing bars).

Conventions are those of :mod:`engine.kernels.forward_returns` (adjusted ``close`` panel ``(n_sessions, n_assets)``
with NaN for "no bar", prices carried forward, base session = last session on or before publication, excess
returns as fractions, ``mode`` = :data:`engine.enums.ExcessMode`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.enums import ExcessMode
from engine.kernels.forward_returns import path_bounds_nb

__all__ = ["event_group_sums_nb"]


@njit(cache=True, parallel=True)
def event_group_sums_nb(
    close: np.ndarray,
    last_bar: np.ndarray,
    asset_col: np.ndarray,
    bench_col: np.ndarray,
    base_idx: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    n_offsets: int,
    mode: int,
    n_chunks: int,
) -> np.ndarray:
    """Per group and offset ``k = 0 .. n_offsets - 1``: the number of signals whose cumulative excess path is defined
    at ``base + k``, the sum of those excess values and the sum of their squares.

    The path of a signal is that of :func:`engine.kernels.forward_returns.excess_paths_nb` (offset 0 = base, excess
    0; NaN past the panel, past the stock's or the benchmark's last bar; an all-NaN row when there is no base price),
    computed as :func:`engine.kernels.forward_returns.forward_returns_nb` does (``P/P0`` as ``P · (1/P0)``, equal to
    the division within a unit in the last place);
    it is accumulated into its group as it is walked, so memory is ``n_chunks × n_groups × n_offsets`` floats whatever
    the number of signals. Signals are split into ``n_chunks`` contiguous chunks run in parallel (``prange``); give the
    signals sorted by (asset, base) for column-local reads. Per-chunk sums are added in chunk order (deterministic).

    Shapes:
        ``close`` (S, A) float64 (Fortran order is fastest); ``last_bar`` (A,) int64 from
        :func:`engine.kernels.forward_returns.last_bar_index_nb`; ``asset_col``, ``bench_col``, ``base_idx``,
        ``group`` (N,) int64 → (3, n_groups, n_offsets) float64: ``[0]`` counts, ``[1]`` sums, ``[2]`` sums of
        squares.
    NaN:
        ``group < 0`` skips the signal; ``bench_col < 0`` / ``base_idx < 0`` / ``base_idx >= S`` give no path (nothing
        counted); non-finite path values are not counted. ``asset_col`` must be a valid column when ``group >= 0``.
    Units:
        Fractions (sums of excess returns), fractions squared, counts of signals; offsets in sessions.
    Pandas reference:
        ``event_sums_pandas`` in ``tests/kernels/test_event_sums.py`` (ffill, ``iloc`` and ``groupby().agg``).
    """
    n = asset_col.shape[0]
    chunks = max(1, min(n_chunks, n))
    relative = mode == ExcessMode.Relative
    acc = np.zeros((chunks, n_groups, n_offsets, 3))
    size = (n + chunks - 1) // chunks
    for c in prange(chunks):
        lo = c * size
        hi = min(n, lo + size)
        for s in range(lo, hi):
            g = group[s]
            if g < 0:
                continue
            j = asset_col[s]
            k = bench_col[s]
            b = base_idx[s]
            sb, bb, stop = path_bounds_nb(close, last_bar, j, k, b, n_offsets)
            if stop < 0 or stop < b:  # no path (-1), or the benchmark's data ends before the base
                continue
            s0 = close[sb, j]
            b0 = close[bb, k]
            inv_s0 = 1.0 / s0  # multiply, not divide, on every step (as forward_returns_nb does)
            inv_b0 = 1.0 / b0
            ps = s0
            pb = b0
            out = acc[c, g]
            out[0, 0] += 1.0  # offset 0: excess 0 by definition
            for t in range(b + 1, stop + 1):
                x = close[t, j]
                if np.isfinite(x):
                    ps = x
                y = close[t, k]
                if np.isfinite(y):
                    pb = y
                if relative:
                    v = (ps * inv_s0) / (pb * inv_b0) - 1.0
                else:
                    v = ps * inv_s0 - pb * inv_b0
                if np.isfinite(v):
                    row = out[t - b]
                    row[0] += 1.0
                    row[1] += v
                    row[2] += v * v
    total = np.zeros((3, n_groups, n_offsets))
    for c in range(chunks):
        for g in range(n_groups):
            for t in range(n_offsets):
                for m in range(3):
                    total[m, g, t] += acc[c, g, t, m]
    return total
