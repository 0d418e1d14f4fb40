"""The broker kernels (pre-event paths, target reach) against plain pandas references, to 1e-12, on random panels
with gaps (missing bars, late listings, early delistings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.enums import ExcessMode
from engine.kernels.broker_paths import pre_event_paths_nb, target_reach_nb
from engine.kernels.forward_returns import last_bar_index_nb

ATOL = 1e-12


def pre_event_paths_pandas(close: pd.DataFrame, asset, bench, base, n_before: int, mode: int) -> np.ndarray:
    """Reference: forward-filled prices, value at ``base + k`` over the value at ``base`` for k = -n_before … -1."""
    filled = close.ffill()
    out = np.full((len(asset), n_before), np.nan)
    for s, (j, k, b) in enumerate(zip(asset, bench, base)):
        s0, b0 = filled.iloc[b, j], filled.iloc[b, k]
        if not (np.isfinite(s0) and np.isfinite(b0)):
            continue
        for c in range(n_before):
            t = b - n_before + c
            if t < 0:
                continue
            r, q = filled.iloc[t, j] / s0 - 1, filled.iloc[t, k] / b0 - 1
            out[s, c] = r - q if mode == ExcessMode.Absolute else (1 + r) / (1 + q) - 1
    return out


def target_reach_pandas(close: pd.DataFrame, asset, base, end, ratio) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the first bar after the base whose close over the (carried) base close crosses the ratio."""
    filled = close.ffill()
    n = len(close)
    reach = np.full(len(asset), -1)
    decided = np.zeros(len(asset), dtype=bool)
    for s, (j, b, e, q) in enumerate(zip(asset, base, end, ratio)):
        p0 = filled.iloc[b, j]
        if not np.isfinite(p0) or not np.isfinite(q):
            continue
        col = close.iloc[:, j]
        last = col.last_valid_index()
        window = col.iloc[b + 1:min(e, n - 1) + 1].dropna() / p0
        hit = window[window >= q] if q >= 1 else window[window <= q]
        if len(hit):
            reach[s] = close.index.get_loc(hit.index[0])
            decided[s] = True
        elif e < n and last is not None and close.index.get_loc(last) >= e:
            decided[s] = True
    return reach, decided


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n, m = 160, 6
    close = np.exp(np.cumsum(rng.normal(0, 0.02, (n, m)), axis=0)) * 10
    close[rng.random((n, m)) < 0.08] = np.nan      # missing bars
    close[:30, 2] = np.nan                         # listed late
    close[120:, 3] = np.nan                        # delisted early
    return pd.DataFrame(close)


@pytest.mark.parametrize("mode", [ExcessMode.Absolute, ExcessMode.Relative])
def test_pre_event_paths_match_pandas(panel, mode):
    rng = np.random.default_rng(1)
    asset = rng.integers(0, 5, 60).astype(np.int64)
    bench = np.full(60, 5, dtype=np.int64)
    base = rng.integers(0, 159, 60).astype(np.int64)
    got = pre_event_paths_nb(panel.to_numpy(), asset, bench, base, 20, int(mode))
    want = pre_event_paths_pandas(panel, asset, bench, base, 20, int(mode))
    assert np.isfinite(want).sum() > 500
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0, equal_nan=True)


def test_pre_event_paths_hand_case():
    close = np.array([[10.0, 100.0], [11.0, 100.0], [12.0, 110.0]])
    out = pre_event_paths_nb(close, np.array([0]), np.array([1]), np.array([2]), 3, int(ExcessMode.Absolute))
    # offset -3 is before the data; -2: 10/12-1 - (100/110-1); -1: 11/12-1 - (100/110-1)
    np.testing.assert_allclose(out[0], [np.nan, 10 / 12 - 100 / 110, 11 / 12 - 100 / 110], atol=ATOL)


def test_target_reach_matches_pandas(panel):
    rng = np.random.default_rng(3)
    k = 80
    asset = rng.integers(0, 5, k).astype(np.int64)
    base = rng.integers(0, 150, k).astype(np.int64)
    end = base + rng.integers(5, 60, k)          # some past the panel's end (160)
    ratio = rng.uniform(0.8, 1.25, k)
    close = panel.to_numpy()
    reach, decided = target_reach_nb(np.asfortranarray(close), last_bar_index_nb(close), asset, base,
                                     end.astype(np.int64), ratio)
    want_reach, want_decided = target_reach_pandas(panel, asset, base, end, ratio)
    assert (want_reach >= 0).sum() > 10 and (want_decided & (want_reach < 0)).sum() > 3
    np.testing.assert_array_equal(reach, want_reach)
    np.testing.assert_array_equal(decided, want_decided)
