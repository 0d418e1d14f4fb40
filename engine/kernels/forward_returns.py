"""Forward (post-publication) returns of rated stocks against their benchmark: the kernels behind ``ratingbt score``.

Pure numba functions on numpy arrays; no pandas. The pandas wrapper is :mod:`engine.score.windows` /
:func:`engine.score.run_scoring`; the pandas references these kernels are tested against live in
``tests/kernels/test_forward_returns.py`` (``forward_returns_pandas``, ``excess_paths_pandas``).

Shared conventions
------------------
- ``close`` is the *adjusted* close panel, shape ``(n_sessions, n_assets)``, float64, ``NaN`` = no bar that session
  (not listed, suspended, data ended). Benchmarks are ordinary columns. Any memory layout works; a Fortran-ordered
  array (``np.asfortranarray(close)``) makes each asset's path contiguous and is several times faster on big panels.
- Sessions are integer row indices into ``close``. The *base session* ``base_idx`` of a signal is the last session on
  or before its publication date; the *horizon end* ``end_idx`` is the last session on or before publication date +
  horizon. ``end_idx >= n_sessions`` means "the horizon ends after the last session of the panel".
- Prices are carried forward over missing bars ("last traded close on or before"): a stock suspended at the base or
  at the horizon end is valued at its last traded close; the benchmark likewise.
- A window is *complete* when both the stock and the benchmark have a bar at or after the horizon end. Otherwise it is
  scored *so far*: up to the last session at which both still have data (``effective end``).
- Returns and excess returns are fractions (0.15 = 15 %). ``mode`` is :data:`engine.enums.ExcessMode`
  (0 absolute ``r - b``, 1 relative ``(1 + r) / (1 + b) - 1``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.enums import ExcessMode, WindowStatus

__all__ = ["last_bar_index_nb", "forward_returns_nb", "forward_returns_rows_nb", "excess_paths_nb",
           "group_path_sums_nb"]


@njit(cache=True, parallel=True)
def last_bar_index_nb(close: np.ndarray) -> np.ndarray:
    """Index of the last session with a finite close, per asset.

    Shapes: ``close`` (n_sessions, n_assets) → (n_assets,) int64.
    NaN: NaN closes are skipped; an all-NaN column gives -1.
    Units: session indices (rows of ``close``).
    Pandas reference: ``df.apply(lambda s: s.notna()[::-1].idxmax())`` on a RangeIndex (``last_valid_index``).
    """
    n_sessions, n_assets = close.shape
    out = np.full(n_assets, -1, dtype=np.int64)
    for j in prange(n_assets):
        for i in range(n_sessions - 1, -1, -1):
            if np.isfinite(close[i, j]):
                out[j] = i
                break
    return out


@njit(cache=True)
def _excess_nb(stock_return: float, bench_return: float, mode: int) -> float:
    """Excess return of a stock over its benchmark by :data:`ExcessMode`.

    Shapes: scalars. NaN: propagates. Units: fractions in and out.
    Pandas reference: ``r - b`` / ``(1 + r) / (1 + b) - 1`` on Series.
    """
    if mode == ExcessMode.Relative:
        return (1.0 + stock_return) / (1.0 + bench_return) - 1.0
    return stock_return - bench_return


@njit(cache=True)
def _last_bar_at_or_before_nb(close: np.ndarray, col: int, idx: int) -> int:
    """Last session ``<= idx`` with a finite close in column ``col``; -1 if none.

    Shapes: ``close`` (S, A), scalars ``col``, ``idx`` → int. NaN: NaN closes are skipped. Units: row indices.
    Pandas reference: ``df.iloc[:idx + 1, col].last_valid_index()`` on a RangeIndex.
    """
    for i in range(idx, -1, -1):
        if np.isfinite(close[i, col]):
            return i
    return -1


@njit(cache=True)
def path_bounds_nb(close: np.ndarray, last_bar: np.ndarray, j: int, k: int, b: int,
                   n_offsets: int) -> tuple[int, int, int]:
    """Where the excess path of stock column ``j`` against benchmark column ``k`` from base session ``b`` starts and
    stops: ``(sb, bb, stop)`` = the stock's and the benchmark's last bar at or before ``b`` and the last session of
    the path (``min(b + n_offsets - 1, last_bar[j], last_bar[k])``); ``stop = -1`` when there is no path (base
    outside the panel, no benchmark, no bar at or before the base, or the stock's data ends before it).

    Shapes: ``close`` (S, A), ``last_bar`` (A,), scalars → three ints. NaN: NaN closes are skipped. Units: row indices.
    Used by every kernel that walks a signal's path (:func:`excess_paths_nb`,
    :func:`engine.kernels.event_sums.event_group_sums_nb`) so they agree on where a path exists.
    """
    if b < 0 or k < 0 or b >= close.shape[0] or last_bar[j] < b:
        return -1, -1, -1
    sb = _last_bar_at_or_before_nb(close, j, b)
    bb = _last_bar_at_or_before_nb(close, k, b)
    if sb < 0 or bb < 0:
        return -1, -1, -1
    return sb, bb, min(b + n_offsets - 1, last_bar[j], last_bar[k])


@njit(cache=True)
def forward_returns_nb(
    close: np.ndarray,
    last_bar: np.ndarray,
    asset_col: np.ndarray,
    bench_col: np.ndarray,
    base_idx: np.ndarray,
    end_idx: np.ndarray,
    band_low: np.ndarray,
    band_high: np.ndarray,
    mode: int,
):
    """Stock, benchmark and excess return of each signal from its base session to its horizon end.

    Algorithm per signal (parallel over signals with ``prange``):

    1. base: stock close = last finite close of ``asset_col`` on or before ``base_idx`` (``stock_base_idx``), same for
       the benchmark (``bench_base_idx``). Missing → status ``NoBasePrice`` / ``NoBenchmark``; a stock whose last bar
       is before ``base_idx`` → ``NoPriceSince``. These statuses leave every float output NaN.
    2. end: ``complete = end_idx < n_sessions and last_bar[stock] >= end_idx and last_bar[bench] >= end_idx``.
       Complete: evaluate at ``end_idx``. Incomplete: at ``max(base_idx, min(last stock bar, last bench bar <= end))``.
       Prices are carried forward, so a suspension at the end uses the last traded close before it.
    3. path: for every session ``t`` in ``(base_idx, effective end]`` the carried-forward excess return; its max and
       min are ``best_excess`` / ``worst_excess`` (NaN when the path is empty), and the first ``t`` whose excess lies
       in ``[band_low, band_high]`` is ``touch_idx`` (-1 when never, or when both band ends are NaN).

    Shapes:
        ``close`` (S, A) float64; ``last_bar`` (A,) int64 from :func:`last_bar_index_nb`; ``asset_col``,
        ``bench_col``, ``base_idx``, ``end_idx`` (N,) int64; ``band_low``, ``band_high`` (N,) float64.
        Returns a tuple of (N,) arrays: ``stock_base_idx, stock_end_idx, bench_base_idx, bench_end_idx`` (int64, -1 =
        none), ``stock_return, bench_return, excess_return, best_excess, worst_excess`` (float64), ``touch_idx``
        (int64), ``window_status`` (int8, :data:`engine.enums.WindowStatus`).
    NaN:
        NaN closes = no bar (carried forward). ``bench_col < 0`` or ``base_idx < 0`` are allowed (no benchmark /
        published before the first session). NaN band end = open end. ``asset_col`` must be a valid column.
    Units:
        Returns are fractions; indices are rows of ``close``; ``mode`` 0 = ``r - b``, 1 = ``(1+r)/(1+b) - 1``.
    Pandas reference:
        ``forward_returns_pandas`` in ``tests/kernels/test_forward_returns.py`` (``ffill`` + ``iloc``), equal to 1e-12.
    """
    n = asset_col.shape[0]
    res = forward_returns_rows_nb(close, last_bar, np.arange(n), asset_col, bench_col, base_idx, end_idx, band_low,
                                  band_high, mode)
    return res[0], res[1], res[2], res[3], res[4], res[5], res[6], res[7], res[8], res[9], res[10]


@njit(cache=True)
def _forward_one_nb(close: np.ndarray, last_bar: np.ndarray, j: int, k: int, b: int, e_nominal: int, lo: float,
                    hi: float, mode: int):
    """One signal of :func:`forward_returns_nb` (same rules): ``(stock_base_idx, stock_end_idx, bench_base_idx,
    bench_end_idx, stock_return, bench_return, excess_return, best_excess, worst_excess, touch_idx, status,
    base_close, end_close, bench_base_close, bench_end_close)`` (the closes at those four indices).

    Shapes: ``close`` (S, A), ``last_bar`` (A,); scalars in and out. NaN: as :func:`forward_returns_nb` (NaN floats
    and -1 indices when the window cannot be scored). Units: fractions; row indices of ``close``.
    Pandas reference: ``forward_returns_pandas`` in ``tests/kernels/test_forward_returns.py``.
    """
    nan = np.nan
    n_sessions = close.shape[0]
    if b >= n_sessions:
        b = n_sessions - 1
    if b < 0:
        return -1, -1, -1, -1, nan, nan, nan, nan, nan, -1, WindowStatus.NoBasePrice, nan, nan, nan, nan
    sb = _last_bar_at_or_before_nb(close, j, b)
    if sb < 0:
        return -1, -1, -1, -1, nan, nan, nan, nan, nan, -1, WindowStatus.NoBasePrice, nan, nan, nan, nan
    if last_bar[j] < b:
        return -1, -1, -1, -1, nan, nan, nan, nan, nan, -1, WindowStatus.NoPriceSince, nan, nan, nan, nan
    if k < 0:
        return -1, -1, -1, -1, nan, nan, nan, nan, nan, -1, WindowStatus.NoBenchmark, nan, nan, nan, nan
    bb = _last_bar_at_or_before_nb(close, k, b)
    if bb < 0:
        return -1, -1, -1, -1, nan, nan, nan, nan, nan, -1, WindowStatus.NoBenchmark, nan, nan, nan, nan
    status = WindowStatus.Complete
    complete = e_nominal < n_sessions and last_bar[j] >= e_nominal and last_bar[k] >= e_nominal
    if complete:
        e = e_nominal
    else:
        status = WindowStatus.Incomplete
        e = min(e_nominal, n_sessions - 1)
        e = min(e, last_bar[j], last_bar[k])
        if e < b:
            e = b
    s0 = close[sb, j]
    b0 = close[bb, k]
    inv_s0 = 1.0 / s0
    inv_b0 = 1.0 / b0
    ps = s0
    pb = b0
    se = sb
    be = bb
    has_band = not (np.isnan(lo) and np.isnan(hi))
    lo_edge = -np.inf if np.isnan(lo) else lo
    hi_edge = np.inf if np.isnan(hi) else hi
    relative = mode == ExcessMode.Relative
    best = -np.inf
    worst = np.inf
    touch = -1
    for t in range(b + 1, e + 1):
        x = close[t, j]
        if x == x:  # not NaN: a bar this session
            ps = x
            se = t
        y = close[t, k]
        if y == y:
            pb = y
            be = t
        if relative:
            ex = (ps * inv_s0) / (pb * inv_b0) - 1.0
        else:
            ex = ps * inv_s0 - pb * inv_b0
        if ex > best:
            best = ex
        if ex < worst:
            worst = ex
        if touch < 0 and has_band and lo_edge <= ex <= hi_edge:
            touch = t
    r = ps / s0 - 1.0
    rb = pb / b0 - 1.0
    if e <= b:
        best = nan
        worst = nan
    return sb, se, bb, be, r, rb, _excess_nb(r, rb, mode), best, worst, touch, status, s0, ps, b0, pb


@njit(cache=True, parallel=True)
def forward_returns_rows_nb(
    close: np.ndarray,
    last_bar: np.ndarray,
    rows: np.ndarray,
    asset_col: np.ndarray,
    bench_col: np.ndarray,
    base_idx: np.ndarray,
    end_idx: np.ndarray,
    band_low: np.ndarray,
    band_high: np.ndarray,
    mode: int,
):
    """:func:`forward_returns_nb` for the signals ``rows`` only, written straight into full-length outputs.

    Rows not listed keep the "not scored" fill (-1 indices, NaN floats, status 0). Visiting ``rows`` sorted by
    (asset, base) reads the panel column by column (see :func:`engine.kernels.ordering.column_visit_order_nb`);
    outputs land at their own row, so no scatter copy is needed afterwards.

    Shapes:
        ``rows`` (M,) int64 distinct row numbers into the (N,) inputs ``asset_col``, ``bench_col``, ``base_idx``,
        ``end_idx``, ``band_low``, ``band_high``; returns the 11 (N,) arrays of :func:`forward_returns_nb` and four
        more (float64): ``base_close, end_close, bench_base_close, bench_end_close``, the closes at the four returned
        indices (NaN where the index is -1).
    NaN:
        As :func:`forward_returns_nb`; ``asset_col`` must be a valid column for every listed row.
    Units:
        Fractions; row indices of ``close``.
    Pandas reference:
        ``forward_returns_pandas`` in ``tests/kernels/test_forward_returns.py``.
    """
    n = asset_col.shape[0]
    stock_base_idx = np.full(n, -1, dtype=np.int64)
    stock_end_idx = np.full(n, -1, dtype=np.int64)
    bench_base_idx = np.full(n, -1, dtype=np.int64)
    bench_end_idx = np.full(n, -1, dtype=np.int64)
    stock_return = np.full(n, np.nan)
    bench_return = np.full(n, np.nan)
    excess_return = np.full(n, np.nan)
    best_excess = np.full(n, np.nan)
    worst_excess = np.full(n, np.nan)
    touch_idx = np.full(n, -1, dtype=np.int64)
    window_status = np.zeros(n, dtype=np.int8)
    base_close = np.full(n, np.nan)
    end_close = np.full(n, np.nan)
    bench_base_close = np.full(n, np.nan)
    bench_end_close = np.full(n, np.nan)
    for i in prange(rows.shape[0]):
        s = rows[i]
        res = _forward_one_nb(close, last_bar, asset_col[s], bench_col[s], base_idx[s], end_idx[s], band_low[s],
                              band_high[s], mode)
        stock_base_idx[s] = res[0]
        stock_end_idx[s] = res[1]
        bench_base_idx[s] = res[2]
        bench_end_idx[s] = res[3]
        stock_return[s] = res[4]
        bench_return[s] = res[5]
        excess_return[s] = res[6]
        best_excess[s] = res[7]
        worst_excess[s] = res[8]
        touch_idx[s] = res[9]
        window_status[s] = res[10]
        base_close[s] = res[11]
        end_close[s] = res[12]
        bench_base_close[s] = res[13]
        bench_end_close[s] = res[14]
    return (stock_base_idx, stock_end_idx, bench_base_idx, bench_end_idx, stock_return, bench_return,
            excess_return, best_excess, worst_excess, touch_idx, window_status, base_close, end_close,
            bench_base_close, bench_end_close)


@njit(cache=True, parallel=True)
def excess_paths_nb(
    close: np.ndarray,
    last_bar: np.ndarray,
    asset_col: np.ndarray,
    bench_col: np.ndarray,
    base_idx: np.ndarray,
    n_offsets: int,
    mode: int,
) -> np.ndarray:
    """Cumulative excess return of each signal at sessions ``base_idx + k``, ``k = 0 .. n_offsets - 1`` (event study).

    Same base and carry-forward conventions as :func:`forward_returns_nb`; offset 0 is the base session (excess 0).

    Shapes:
        ``close`` (S, A) float64; ``last_bar`` (A,) int64; ``asset_col``, ``bench_col``, ``base_idx`` (N,) int64
        → (N, n_offsets) float64.
    NaN:
        A row is all NaN when the stock or the benchmark has no bar on or before the base (or ``bench_col < 0``,
        ``base_idx < 0``) or the stock's data ended before the base. Offsets past the panel's last session or past the
        last bar of the stock or the benchmark are NaN ("NaN past data").
    Units:
        Fractions; offsets in sessions of the panel's calendar.
    Pandas reference:
        ``excess_paths_pandas`` in ``tests/kernels/test_forward_returns.py``.
    """
    n = asset_col.shape[0]
    out = np.full((n, n_offsets), np.nan)
    for s in prange(n):
        j = asset_col[s]
        k = bench_col[s]
        b = base_idx[s]
        sb, bb, stop = path_bounds_nb(close, last_bar, j, k, b, n_offsets)
        if stop < 0:
            continue
        s0 = close[sb, j]
        b0 = close[bb, k]
        ps = s0
        pb = b0
        if stop >= b:
            out[s, 0] = 0.0
        for t in range(b + 1, stop + 1):
            x = close[t, j]
            if np.isfinite(x):
                ps = x
            y = close[t, k]
            if np.isfinite(y):
                pb = y
            out[s, t - b] = _excess_nb(ps / s0 - 1.0, pb / b0 - 1.0, mode)
    return out


@njit(cache=True)
def group_path_sums_nb(paths: np.ndarray, group_codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group and offset: count of finite values, their sum and their sum of squares (one pass over ``paths``).

    A row may belong to several groups at once (one per grouping, e.g. its rating level, its action and its kind):
    ``group_codes[s, m]`` is row ``s``'s group in grouping ``m``, with the groupings' codes in disjoint ranges of
    ``0 .. n_groups - 1``; every grouping is accumulated in the same pass over the row.

    Shapes:
        ``paths`` (N, K) float64 (e.g. from :func:`excess_paths_nb`); ``group_codes`` (N, M) int64 in
        ``0..n_groups-1`` (-1 = the row belongs to no group of that grouping) → (3, n_groups, K) float64: ``[0]``
        counts, ``[1]`` sums, ``[2]`` sums of squares.
    NaN:
        NaN entries are skipped (not counted).
    Units:
        Those of ``paths`` (fractions); counts are numbers of signals.
    Pandas reference:
        ``pd.DataFrame(paths).groupby(group_codes[:, m]).agg(["count", "sum"])`` per grouping ``m``, and
        ``(paths ** 2)`` summed likewise.
    """
    n, k = paths.shape
    n_groupings = group_codes.shape[1]
    out = np.zeros((3, n_groups, k))
    for s in range(n):
        for m in range(n_groupings):
            g = group_codes[s, m]
            if g < 0:
                continue
            for t in range(k):
                v = paths[s, t]
                if np.isfinite(v):
                    out[0, g, t] += 1.0
                    out[1, g, t] += v
                    out[2, g, t] += v * v
    return out
