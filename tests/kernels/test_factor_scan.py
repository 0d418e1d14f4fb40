"""The factor-scan kernel against a plain pandas construction of the same rules (ffill / bfill of the factor)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.backtest.actions import MIN_BONUS, NOISE_MULTIPLE
from engine.enums import PriceBasis
from engine.kernels.factor_scan import factor_scan_nb


def pandas_reference(close: np.ndarray, raw: np.ndarray):
    f = pd.DataFrame(close / raw)
    f = f.where(np.isfinite(f) & (f > 0))
    known = f.notna().to_numpy()
    nearest = f.ffill().fillna(f.bfill())
    scale = (1.0 / nearest).fillna(1.0).to_numpy()
    basis = np.where(known, PriceBasis.TRADED, np.where(nearest.isna(), PriceBasis.ADJUSTED, PriceBasis.FACTOR))
    rawk = pd.DataFrame(np.where(known, raw, np.nan))
    closek = pd.DataFrame(np.where(known, close, np.nan))
    prev_f, prev_raw, prev_close = (x.ffill().shift(1).to_numpy() for x in (f, rawk, closek))
    step = f.to_numpy() / prev_f
    eps = 0.005 / raw + 0.005 / prev_raw + 0.00005 / close + 0.00005 / prev_close
    hit = known & np.isfinite(step) & (np.abs(step - 1) > NOISE_MULTIPLE * eps)
    rows, cols = np.nonzero(hit)
    down = (step[rows, cols] < 1) & (step[rows, cols] > 1 / (1 + MIN_BONUS))
    return scale, basis, rows, cols, step[rows, cols], prev_raw[rows, cols], down


def test_scan_matches_pandas_on_gappy_noisy_factors_with_steps():
    rng = np.random.default_rng(11)
    n, m = 300, 40
    raw_true = 5 + 50 * rng.random(m) * np.exp(np.cumsum(rng.normal(0, 0.02, (n, m)), axis=0))
    factor = np.ones((n, m))
    for j in range(m):                              # 0-3 steps per stock: dividends, bonus issues, odd downs
        for i in rng.integers(1, n, rng.integers(0, 4)):
            factor[:i, j] /= rng.choice([1.01, 1.4, 1.003, 0.97, 0.5])
    raw = np.round(raw_true, 2)
    close = np.round(raw_true * factor, 4)
    raw[rng.random((n, m)) < 0.2] = np.nan         # raw unknown on scattered sessions
    raw[: rng.integers(0, 100), : m // 2] = np.nan  # and before a first raw price for half the stocks
    raw[:, -2:] = np.nan                            # two stocks without any raw price
    close[rng.random((n, m)) < 0.03] = np.nan       # no bar
    scale, basis, rows, cols, step, prev_raw, _, kind = factor_scan_nb(close, raw, NOISE_MULTIPLE, MIN_BONUS)
    ref = pandas_reference(close, raw)
    np.testing.assert_allclose(scale, ref[0], rtol=1e-14)
    np.testing.assert_array_equal(basis, ref[1])
    np.testing.assert_array_equal(rows, ref[2])
    np.testing.assert_array_equal(cols, ref[3])
    np.testing.assert_allclose(step, ref[4], rtol=1e-14)
    np.testing.assert_allclose(prev_raw, ref[5], rtol=1e-14)
    np.testing.assert_array_equal(kind == 1, ref[6])
    assert len(rows) > 20 and (kind == 1).any() and (basis == PriceBasis.FACTOR).any()
    assert (basis[:, -2:] == PriceBasis.ADJUSTED).all() and (scale[:, -2:] == 1.0).all()
