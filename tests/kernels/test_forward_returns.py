"""The forward-return kernels against plain pandas references, to 1e-12, on random panels with gaps.

The panels have missing days, suspensions at the base and at the horizon end, stocks listed after some signals
(signals before the first price) and delisted before others (signals after the last price), two benchmarks (an
A-share and an HK market) and horizons running past the panel's end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.enums import ExcessMode, WindowStatus
from engine.kernels.forward_returns import (excess_paths_nb, forward_returns_nb, group_path_sums_nb,
                                            last_bar_index_nb)

ATOL = 1e-12


# --------------------------------------------------------------------------------------------------- pandas references
def forward_returns_pandas(close: pd.DataFrame, asset_col, bench_col, base_idx, end_idx, band_low, band_high,
                           mode: int) -> pd.DataFrame:
    """Reference: carry prices forward with ``ffill`` and read the base/end rows with ``iloc``."""
    n_sessions = len(close)
    filled = close.ffill()
    rows = []
    for j, k, b, e_nom, lo, hi in zip(asset_col, bench_col, base_idx, end_idx, band_low, band_high):
        rec = dict(stock_base_idx=-1, stock_end_idx=-1, bench_base_idx=-1, bench_end_idx=-1, stock_return=np.nan,
                   bench_return=np.nan, excess_return=np.nan, best_excess=np.nan, worst_excess=np.nan, touch_idx=-1)
        stock = close.iloc[:, j]
        b = min(b, n_sessions - 1)
        first_s, last_s = stock.first_valid_index(), stock.last_valid_index()
        if b < 0 or first_s is None or first_s > b:
            rows.append({**rec, "window_status": WindowStatus.NoBasePrice})
            continue
        if last_s < b:
            rows.append({**rec, "window_status": WindowStatus.NoPriceSince})
            continue
        bench = close.iloc[:, k] if k >= 0 else pd.Series(np.nan, index=close.index)
        first_k, last_k = bench.first_valid_index(), bench.last_valid_index()
        if first_k is None or first_k > b:
            rows.append({**rec, "window_status": WindowStatus.NoBenchmark})
            continue
        complete = e_nom < n_sessions and last_s >= e_nom and last_k >= e_nom
        e = e_nom if complete else max(b, min(e_nom, n_sessions - 1, last_s, last_k))
        s_path = filled.iloc[b:e + 1, j] / filled.iloc[b, j] - 1.0
        b_path = filled.iloc[b:e + 1, k] / filled.iloc[b, k] - 1.0
        if mode == ExcessMode.Relative:
            x_path = (1.0 + s_path) / (1.0 + b_path) - 1.0
        else:
            x_path = s_path - b_path
        after = x_path.iloc[1:]
        in_band = pd.Series(True, index=after.index)
        if not np.isnan(lo):
            in_band &= after >= lo
        if not np.isnan(hi):
            in_band &= after <= hi
        touched = after.index[in_band] if not (np.isnan(lo) and np.isnan(hi)) else []
        rec.update(
            stock_base_idx=stock.iloc[:b + 1].last_valid_index(), stock_end_idx=stock.iloc[:e + 1].last_valid_index(),
            bench_base_idx=bench.iloc[:b + 1].last_valid_index(), bench_end_idx=bench.iloc[:e + 1].last_valid_index(),
            stock_return=s_path.iloc[-1], bench_return=b_path.iloc[-1], excess_return=x_path.iloc[-1],
            best_excess=after.max() if len(after) else np.nan, worst_excess=after.min() if len(after) else np.nan,
            touch_idx=int(touched[0]) if len(touched) else -1,
            window_status=WindowStatus.Complete if complete else WindowStatus.Incomplete)
        rows.append(rec)
    return pd.DataFrame(rows)


def excess_paths_pandas(close: pd.DataFrame, asset_col, bench_col, base_idx, n_offsets: int, mode: int) -> np.ndarray:
    """Reference event-study paths: ``ffill`` then relative change from the base row, NaN past either series' data."""
    filled = close.ffill()
    out = np.full((len(asset_col), n_offsets), np.nan)
    for s, (j, k, b) in enumerate(zip(asset_col, bench_col, base_idx)):
        if b < 0 or k < 0 or b >= len(close):
            continue
        stock, bench = close.iloc[:, j], close.iloc[:, k]
        if stock.first_valid_index() is None or stock.first_valid_index() > b or stock.last_valid_index() < b:
            continue
        if bench.first_valid_index() is None or bench.first_valid_index() > b:
            continue
        stop = min(b + n_offsets - 1, stock.last_valid_index(), bench.last_valid_index())
        r = filled.iloc[b:stop + 1, j] / filled.iloc[b, j] - 1.0
        rb = filled.iloc[b:stop + 1, k] / filled.iloc[b, k] - 1.0
        x = (1.0 + r) / (1.0 + rb) - 1.0 if mode == ExcessMode.Relative else r - rb
        out[s, :len(x)] = x.to_numpy()
    return out


# --------------------------------------------------------------------------------------------------- random case
def random_case(seed: int, n_sessions: int = 260, n_stocks: int = 14, n_signals: int = 400):
    """Close panel (col 0 = CSI 300-like, col 1 = HSI-like benchmark) and signals covering every edge case."""
    rng = np.random.default_rng(seed)
    n_assets = n_stocks + 2
    rets = rng.normal(0.0005, 0.02, size=(n_sessions, n_assets))
    close = 10.0 * np.exp(np.cumsum(rets, axis=0))
    close[:, 0] *= 400.0
    close[:, 1] *= 2000.0
    close[rng.random((n_sessions, n_assets)) < 0.04] = np.nan          # missing days
    close[[5, 50, 51], 1] = np.nan                                      # HK holidays in the HSI column
    for j in range(2, n_assets):                                        # suspensions of 3..15 sessions
        start = rng.integers(0, n_sessions - 20)
        close[start:start + rng.integers(3, 16), j] = np.nan
    close[:60, 2] = np.nan                                              # listed late
    close[150:, 3] = np.nan                                             # delisted / data ends early
    close[:, 4] = np.nan                                                # never any price (wrapper's "no price data")
    close[240:, 0] = np.nan                                             # benchmark data ends before the panel
    n_random = n_signals - 8
    asset = rng.integers(2, n_assets, n_random)
    asset[asset == 4] = 5
    bench = rng.integers(0, 2, n_random)
    base = rng.integers(-5, n_sessions + 3, n_random)
    end = base + rng.integers(0, 130, n_random)
    # forced cases: suspension at base, suspension at the end, before the first / after the last price, no benchmark
    susp = np.flatnonzero(np.isnan(close[:, 6]) & (np.arange(n_sessions) > 5))
    susp = susp[susp < n_sessions - 30]
    forced = [(6, 0, int(susp[0]), int(susp[0]) + 20), (6, 1, int(susp[0]) - 25, int(susp[0])),
              (2, 0, 30, 120), (3, 1, 200, 240), (5, 0, 100, n_sessions), (5, -1, 100, 150),
              (7, 0, n_sessions - 10, n_sessions + 40), (8, 1, 0, 0)]
    asset = np.concatenate([asset, [f[0] for f in forced]]).astype(np.int64)
    bench = np.concatenate([bench, [f[1] for f in forced]]).astype(np.int64)
    base = np.concatenate([base, [f[2] for f in forced]]).astype(np.int64)
    end = np.concatenate([end, [f[3] for f in forced]]).astype(np.int64)
    end = np.minimum(end, n_sessions)  # the wrapper's contract: n_sessions = "ends after the panel"
    low = rng.choice([0.15, 0.05, -0.05, np.nan], n_signals)
    high = np.where(np.isnan(low), rng.choice([-0.05, np.nan], n_signals),
                    np.where(low == 0.15, np.nan, low + 0.1))
    return close, asset, bench, base, end, low, high


OUTPUT_NAMES = ("stock_base_idx", "stock_end_idx", "bench_base_idx", "bench_end_idx", "stock_return", "bench_return",
                "excess_return", "best_excess", "worst_excess", "touch_idx", "window_status")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", [ExcessMode.Absolute, ExcessMode.Relative])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_forward_returns_equal_pandas(seed, mode, layout):
    close, asset, bench, base, end, low, high = random_case(seed)
    arr = np.asfortranarray(close) if layout == "F" else np.ascontiguousarray(close)
    got = forward_returns_nb(arr, last_bar_index_nb(arr), asset, bench, base, end, low, high, mode)
    got = pd.DataFrame(dict(zip(OUTPUT_NAMES, got)))
    want = forward_returns_pandas(pd.DataFrame(close), asset, bench, base, end, low, high, mode)
    for name in OUTPUT_NAMES:
        if name.endswith(("_idx", "status")):
            np.testing.assert_array_equal(got[name].to_numpy(), want[name].to_numpy().astype(np.int64), err_msg=name)
        else:
            np.testing.assert_allclose(got[name].to_numpy(), want[name].to_numpy(dtype=float), rtol=0, atol=ATOL,
                                       equal_nan=True, err_msg=name)
    # every edge case really occurred in this draw
    status = got["window_status"].to_numpy()
    for code in (WindowStatus.Complete, WindowStatus.Incomplete, WindowStatus.NoBasePrice, WindowStatus.NoBenchmark,
                 WindowStatus.NoPriceSince):
        assert (status == code).any(), code
    ok = status <= WindowStatus.Incomplete
    assert (got["stock_base_idx"][ok] < np.minimum(base, len(close) - 1)[ok]).any()   # suspended at the base
    assert ((got["stock_end_idx"] < got["bench_end_idx"]) & ok & (status == 0)).any()  # suspended at the end
    assert (got["touch_idx"] >= 0).any() and ((got["touch_idx"] < 0) & ok).any()
    assert set(bench[ok]) == {0, 1}                                                     # both markets scored


def test_suspension_at_base_and_end_by_hand():
    """A 6-session panel worked by hand: stock suspended on the base day and on the horizon-end day."""
    nan = np.nan
    close = np.array([[100.0, 10.0], [101.0, nan], [102.0, 11.0], [103.0, 12.0], [104.0, nan], [105.0, 13.0]])
    out = forward_returns_nb(close, last_bar_index_nb(close), np.array([1]), np.array([0]), np.array([1]),
                             np.array([4]), np.array([0.15]), np.array([nan]), ExcessMode.Absolute)
    res = dict(zip(OUTPUT_NAMES, (o[0] for o in out)))
    # base session 1: stock suspended → last traded close 10.0 (session 0); benchmark 101.0 (session 1)
    assert (res["stock_base_idx"], res["bench_base_idx"]) == (0, 1)
    # end session 4: stock suspended → 12.0 (session 3); benchmark 104.0; 12/10 - 1 = 0.2, 104/101 - 1 = 0.0297029...
    assert (res["stock_end_idx"], res["bench_end_idx"]) == (3, 4)
    assert res["stock_return"] == pytest.approx(0.2, abs=1e-15)
    assert res["excess_return"] == pytest.approx(0.2 - 3.0 / 101.0, abs=1e-15)
    # path: s2 11/10-1-1/101 = 0.0900990 (<15%), s3 0.2-2/101 = 0.1801980 → touch at session 3
    assert res["touch_idx"] == 3
    assert res["best_excess"] == pytest.approx(0.2 - 2.0 / 101.0, abs=1e-15)
    assert res["worst_excess"] == pytest.approx(0.1 - 1.0 / 101.0, abs=1e-15)
    assert res["window_status"] == WindowStatus.Complete


@pytest.mark.parametrize("mode", [ExcessMode.Absolute, ExcessMode.Relative])
def test_excess_paths_equal_pandas(mode):
    close, asset, bench, base, _end, _low, _high = random_case(3)
    got = excess_paths_nb(np.asfortranarray(close), last_bar_index_nb(close), asset, bench, base, 60, mode)
    want = excess_paths_pandas(pd.DataFrame(close), asset, bench, base, 60, mode)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL, equal_nan=True)
    assert np.isnan(got).any() and np.isfinite(got).any()
    assert (got[np.isfinite(got[:, 0]), 0] == 0.0).all()


def test_last_bar_index():
    close = np.array([[1.0, np.nan, np.nan], [np.nan, 2.0, np.nan], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(last_bar_index_nb(close), [0, 1, -1])


def test_group_path_sums_equal_pandas():
    rng = np.random.default_rng(5)
    paths = rng.normal(0, 0.1, (300, 7))
    paths[rng.random(paths.shape) < 0.2] = np.nan
    first = rng.integers(-1, 4, 300).astype(np.int64)            # grouping 0: groups 0..3
    second = np.where(rng.random(300) < 0.3, -1, rng.integers(4, 6, 300)).astype(np.int64)  # grouping 1: 4..5
    got = group_path_sums_nb(paths, np.column_stack([first, second]), 6)
    frame = pd.DataFrame(paths)
    for codes, groups in ((first, range(4)), (second, range(4, 6))):
        keep = codes >= 0
        grouped = frame[keep].groupby(codes[keep])
        np.testing.assert_array_equal(got[0, groups.start:groups.stop],
                                      grouped.count().reindex(groups).to_numpy(dtype=float))
        np.testing.assert_allclose(got[1, groups.start:groups.stop], grouped.sum().reindex(groups).to_numpy(),
                                   rtol=0, atol=ATOL)
        np.testing.assert_allclose(got[2, groups.start:groups.stop],
                                   (frame[keep] ** 2).groupby(codes[keep]).sum().reindex(groups).to_numpy(),
                                   rtol=0, atol=ATOL)
