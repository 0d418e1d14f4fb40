"""One pass over the adjustment factor: traded-price scale, its basis and the factor steps (numba).

The rules (nearest known factor, the rounding bound ``eps``, which steps count) are documented in
:mod:`engine.backtest.actions`, which calls :func:`factor_scan_nb` and turns the steps into corporate actions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.enums import PriceBasis

__all__ = ["factor_scan_nb"]


@njit(cache=True)
def factor_scan_nb(close, raw, noise_multiple, min_bonus):
    """Traded ÷ adjusted scale per session and stock, and the factor steps beyond the rounding noise.

    Shapes / NaN / Units
    --------------------
    ``close``, ``raw``: ``(n_sessions, n_assets)`` float64 adjusted and raw (traded) closes in the stock's currency;
    NaN = unknown. The factor ``f = close / raw`` is known where both are finite and positive.
    ``noise_multiple``: a step counts when ``|f / f_prev - 1| > noise_multiple × eps`` with
    ``eps = 0.005/raw + 0.005/raw_prev + 0.00005/close + 0.00005/close_prev`` (cent-rounded raw, 4-decimal adjusted).
    ``min_bonus``: downward steps with ``1 / (1 + min_bonus) < step < 1`` are no corporate action (``kind`` 1).

    Returns ``(scale, basis, rows, cols, steps, prev_raw, eps, kind)``: ``scale`` ``(n_sessions, n_assets)`` float64
    ``1 / f`` (the session's own, else the last known before, else the first known after, else 1.0); ``basis`` the
    same shape int8 :class:`engine.enums.PriceBasisT`; then one entry per step, sorted by session then stock:
    int64 session and stock, float64 step ``f / f_prev``, previous raw close, ``eps``, and int8 ``kind`` (0 = a
    corporate action, 1 = a downward step that is none). Reference: the pandas construction in
    ``tests/kernels/test_factor_scan.py``.
    """
    n, m = close.shape
    first_f = np.full(m, np.nan)
    found = 0
    for i in range(n):
        if found == m:
            break
        for j in range(m):
            if np.isnan(first_f[j]):
                c = close[i, j]
                r = raw[i, j]
                if c > 0.0 and r > 0.0:
                    first_f[j] = c / r
                    found += 1
    scale = np.empty((n, m))
    basis = np.empty((n, m), dtype=np.int8)
    last_f = first_f.copy()       # before the first known factor: the first one (back-filled)
    last_raw = np.full(m, np.nan)
    inv_last_raw = np.full(m, np.nan)
    inv_last_close = np.full(m, np.nan)
    cap = 16
    rows = np.empty(cap, dtype=np.int64)
    cols = np.empty(cap, dtype=np.int64)
    vals = np.empty((cap, 3))
    kinds = np.empty(cap, dtype=np.int8)
    k = 0
    lo = 1.0 / (1.0 + min_bonus)
    for i in range(n):
        for j in range(m):
            if np.isnan(first_f[j]):
                scale[i, j] = 1.0
                basis[i, j] = PriceBasis.ADJUSTED
                continue
            c = close[i, j]
            r = raw[i, j]
            if c > 0.0 and r > 0.0:
                inv_r = 1.0 / r
                inv_c = 1.0 / c
                f = c * inv_r
                if not np.isnan(last_raw[j]):
                    step = f / last_f[j]
                    eps = 0.005 * (inv_r + inv_last_raw[j]) + 0.00005 * (inv_c + inv_last_close[j])
                    if abs(step - 1.0) > noise_multiple * eps:
                        if k == cap:
                            cap *= 2
                            rows2 = np.empty(cap, dtype=np.int64)
                            cols2 = np.empty(cap, dtype=np.int64)
                            vals2 = np.empty((cap, 3))
                            kinds2 = np.empty(cap, dtype=np.int8)
                            rows2[:k] = rows
                            cols2[:k] = cols
                            vals2[:k] = vals
                            kinds2[:k] = kinds
                            rows, cols, vals, kinds = rows2, cols2, vals2, kinds2
                        rows[k] = i
                        cols[k] = j
                        vals[k, 0] = step
                        vals[k, 1] = last_raw[j]
                        vals[k, 2] = eps
                        kinds[k] = 1 if (step < 1.0 and step > lo) else 0
                        k += 1
                last_f[j] = f
                last_raw[j] = r
                inv_last_raw[j] = inv_r
                inv_last_close[j] = inv_c
                scale[i, j] = r * inv_c
                basis[i, j] = PriceBasis.TRADED
            else:
                scale[i, j] = 1.0 / last_f[j]
                basis[i, j] = PriceBasis.FACTOR
    return (scale, basis, rows[:k].copy(), cols[:k].copy(), vals[:k, 0].copy(), vals[:k, 1].copy(),
            vals[:k, 2].copy(), kinds[:k].copy())
