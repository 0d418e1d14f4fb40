"""Linear-time orderings on small integer keys (counting sorts), used instead of ``np.argsort`` on million-row keys.

Pure numba on numpy arrays; tested against ``np.argsort(kind="stable")`` / ``np.lexsort`` in
``tests/kernels/test_ordering.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["stable_order_nb", "column_visit_order_nb"]


@njit(cache=True)
def stable_order_nb(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Stable counting sort: the permutation that orders ``keys`` ascending, ties kept in input order.

    Shapes: ``keys`` (E,) int64 in ``0 .. n_keys - 1`` → (E,) int64. NaN: none (integers).
    Units: positions into ``keys``. Reference: ``np.argsort(keys, kind="stable")``.
    """
    count = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(keys.shape[0]):
        count[keys[i] + 1] += 1
    for k in range(n_keys):
        count[k + 1] += count[k]
    out = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        out[count[k]] = i
        count[k] += 1
    return out


@njit(cache=True)
def column_visit_order_nb(rows: np.ndarray, asset_col: np.ndarray, base_idx: np.ndarray, n_assets: int,
                          n_sessions: int) -> np.ndarray:
    """``rows`` reordered by (asset column, base session), ties in input order: the order in which the path kernels
    read the price panel column by column (two stable counting passes, base then asset).

    Shapes: ``rows`` (M,) int64 row numbers; ``asset_col``, ``base_idx`` (N,) int64 indexed by ``rows``; asset in
    ``0 .. n_assets - 1``, base in ``-1 .. n_sessions`` (clipped to that range) → (M,) int64.
    NaN: none (integers). Units: row numbers.
    Reference: ``rows[np.lexsort((base_idx[rows], asset_col[rows]))]``.
    """
    m = rows.shape[0]
    keys = np.empty(m, dtype=np.int64)
    for i in range(m):
        b = base_idx[rows[i]] + 1
        keys[i] = 0 if b < 0 else (n_sessions + 1 if b > n_sessions + 1 else b)
    by_base = rows[stable_order_nb(keys, n_sessions + 2)]
    for i in range(m):
        keys[i] = asset_col[by_base[i]]
    return by_base[stable_order_nb(keys, n_assets)]
