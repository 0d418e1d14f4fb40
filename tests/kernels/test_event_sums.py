"""The fused event-study kernel against plain pandas (``ffill`` paths + ``groupby``), to 1e-12.

Hand-made panel: missing bars at and after the base, a stock whose data ends inside the window, a benchmark with gaps,
a signal before the first session and one without benchmark; groups of one and of two signals, and a skipped row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.enums import ExcessMode
from engine.kernels.event_sums import event_group_sums_nb
from engine.kernels.forward_returns import last_bar_index_nb

ATOL = 1e-12


def event_sums_pandas(close: np.ndarray, asset, bench, base, group, n_groups: int, n_offsets: int,
                      mode: int) -> np.ndarray:
    """Reference: each signal's path from ``ffill``-ed prices (NaN past either series' last bar or the panel), then
    ``groupby(group)`` count / sum / sum of squares per offset."""
    frame = pd.DataFrame(close)
    filled = frame.ffill()
    rows, keys = [], []
    for j, k, b, g in zip(asset, bench, base, group):
        path = np.full(n_offsets, np.nan)
        if g >= 0 and 0 <= b < len(frame) and k >= 0:
            stock, index = frame[j], frame[k]
            if (stock.first_valid_index() is not None and stock.first_valid_index() <= b
                    and stock.last_valid_index() >= b and index.first_valid_index() is not None
                    and index.first_valid_index() <= b):
                stop = min(b + n_offsets - 1, stock.last_valid_index(), index.last_valid_index())
                r = filled.loc[b:stop, j] / filled.loc[b, j] - 1.0
                rb = filled.loc[b:stop, k] / filled.loc[b, k] - 1.0
                x = (1.0 + r) / (1.0 + rb) - 1.0 if mode == ExcessMode.Relative else r - rb
                path[:len(x)] = x.to_numpy()
        rows.append(path)
        keys.append(g)
    paths = pd.DataFrame(rows)
    keep = np.asarray(keys) >= 0
    grouped = paths[keep].groupby(np.asarray(keys)[keep])
    out = np.zeros((3, n_groups, n_offsets))
    out[0] = grouped.count().reindex(range(n_groups), fill_value=0).to_numpy(dtype=float)
    out[1] = grouped.sum().reindex(range(n_groups), fill_value=0.0).to_numpy()
    out[2] = (paths[keep] ** 2).groupby(np.asarray(keys)[keep]).sum().reindex(range(n_groups),
                                                                               fill_value=0.0).to_numpy()
    return out


def hand_case():
    nan = np.nan
    close = np.array([
        # bench  stock A  stock B  stock C (ends at row 4)  bench2 (gaps)
        [100.0, 10.0, nan, 5.0, 50.0],
        [101.0, nan, 20.0, 5.5, nan],
        [99.0, 11.0, 21.0, 6.0, 51.0],
        [nan, 12.0, nan, 5.0, 52.0],
        [102.0, nan, 19.0, 4.0, nan],
        [103.0, 13.0, 18.0, nan, 53.0],
        [104.0, 12.5, 22.0, nan, 54.0],
    ])
    #                 A  A  B  C  A  B  C  A
    asset = np.array([1, 1, 2, 3, 1, 2, 3, 1], dtype=np.int64)
    bench = np.array([0, 4, 0, 0, 0, 4, 4, -1], dtype=np.int64)
    base = np.array([0, 1, 1, 2, 3, 0, 0, 2], dtype=np.int64)    # B has no bar at row 0 → no path for signal 5
    group = np.array([0, 1, 1, 2, 0, 2, -1, 0], dtype=np.int64)  # group 1: two signals; signal 6 skipped
    return close, asset, bench, base, group


@pytest.mark.parametrize("mode", [ExcessMode.Absolute, ExcessMode.Relative])
@pytest.mark.parametrize("chunks", [1, 3])
def test_event_sums_equal_pandas_on_hand_case(mode, chunks):
    close, asset, bench, base, group = hand_case()
    got = event_group_sums_nb(np.asfortranarray(close), last_bar_index_nb(close), asset, bench, base, group, 3, 5,
                              mode, chunks)
    want = event_sums_pandas(close, asset, bench, base, group, 3, 5, mode)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    # by hand: group 2 holds only signal 3 (stock C from row 2: 6.0 → 5.0 → 4.0, data ends at row 4)
    if mode == ExcessMode.Absolute:
        np.testing.assert_array_equal(got[0, 2], [1, 1, 1, 0, 0])
        np.testing.assert_allclose(got[1, 2, :3], [0.0, 5 / 6 - 1 - (99 / 99 - 1), 4 / 6 - 1 - (102 / 99 - 1)],
                                   rtol=0, atol=ATOL)


def test_event_sums_random_panel_equal_pandas():
    rng = np.random.default_rng(11)
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, (90, 9)), axis=0))
    close[rng.random(close.shape) < 0.1] = np.nan
    close[70:, 3] = np.nan
    asset = rng.integers(1, 9, 200).astype(np.int64)
    bench = np.zeros(200, dtype=np.int64)
    base = rng.integers(-2, 92, 200).astype(np.int64)
    group = rng.integers(-1, 4, 200).astype(np.int64)
    got = event_group_sums_nb(np.asfortranarray(close), last_bar_index_nb(close), asset, bench, base, group, 4, 30,
                              ExcessMode.Absolute, 4)
    want = event_sums_pandas(close, asset, bench, base, group, 4, 30, ExcessMode.Absolute)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert got[0].sum() > 1000  # many (signal, offset) cells compared, not an empty table
