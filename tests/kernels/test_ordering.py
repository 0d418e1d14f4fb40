"""Counting-sort orderings against numpy's stable sorts."""

from __future__ import annotations

import numpy as np

from engine.kernels.ordering import column_visit_order_nb, stable_order_nb


def test_stable_order_equals_numpy_stable_argsort():
    keys = np.random.default_rng(2).integers(0, 7, 500).astype(np.int64)
    np.testing.assert_array_equal(stable_order_nb(keys, 7), np.argsort(keys, kind="stable"))
    assert len(stable_order_nb(np.zeros(0, np.int64), 3)) == 0


def test_column_visit_order_equals_lexsort():
    rng = np.random.default_rng(3)
    asset = rng.integers(0, 6, 300).astype(np.int64)
    base = rng.integers(-1, 40, 300).astype(np.int64)
    rows = np.flatnonzero(rng.random(300) < 0.7).astype(np.int64)
    got = column_visit_order_nb(rows, asset, base, 6, 40)
    np.testing.assert_array_equal(got, rows[np.lexsort((base[rows], asset[rows]))])
