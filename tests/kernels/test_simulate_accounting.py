"""Bookkeeping invariants with every rule on, checked against the trade table in plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.simulate import SimulationRules, simulate_weights
from engine.data.panel import Panel


def mixed_panel(seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    codes = np.array(["600000.SH", "300474.SZ", "688981.SH", "000001.SZ", "00700.HK", "01810.HK"], dtype=object)
    sessions = pd.bdate_range("2023-08-01", periods=90)
    rets = rng.normal(0.0, 0.03, (len(sessions), len(codes)))
    rets[rng.random(rets.shape) < 0.04] = 0.0999  # some limit-up days
    close = 20.0 * np.cumprod(1 + rets, axis=0)
    open_ = close * (1 + rng.normal(0, 0.01, close.shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.04, close.shape))
    volume = np.where(rng.random(close.shape) < 0.03, 0.0, 1e6)  # suspensions
    raw = close * 1.02
    raw[:30] = np.nan  # raw price known only from session 30
    return Panel(sessions=sessions.to_numpy(dtype="datetime64[ns]"), codes=codes, open=open_, high=np.maximum(open_, close),
                 low=low, close=close, raw_close=raw, volume=volume, tradable=volume > 0)


def random_weights(shape, seed):
    rng = np.random.default_rng(seed + 7)
    w = np.full(shape, np.nan)
    for i in range(0, shape[0], 5):
        row = rng.random(shape[1]) * (rng.random(shape[1]) < 0.6)
        w[i] = row / max(row.sum(), 1e-9) * 0.9
    return w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cash_and_equity_reconcile_with_the_trades(seed):
    panel = mixed_panel(seed)
    weights = random_weights(panel.shape, seed)
    rules = SimulationRules(init_cash=1_000_000.0, stop_loss=0.08)
    res = simulate_weights(panel, weights, rules, fx=0.9, hk_lots={"00700.HK": 100, "01810.HK": 200})
    fills = res.trades[res.trades["filled"]]
    assert len(fills) > 20 and (~res.trades["filled"]).any()
    # the draw really exercises the rules it reconciles: stop-loss fills and a rule rejection (suspension / limit-up)
    reasons = set(res.trades["reason"])
    assert "stop_loss" in reasons and reasons & {"suspended", "limit_up"}, reasons
    # cash: start − buys − fees + sells, day by day
    signed = (np.where(fills["side"] == "buy", -fills["value"], fills["value"]) - fills["fees"]).to_numpy()
    flows = pd.Series(signed, index=fills["date"]).groupby(level=0).sum()
    expected_cash = 1_000_000.0 + flows.reindex(res.cash.index, fill_value=0.0).cumsum()
    np.testing.assert_allclose(res.cash.to_numpy(), expected_cash.to_numpy(), rtol=1e-10)
    assert (res.cash >= -1e-6).all()
    # equity: cash + Σ shares × last traded close × fx; every raw close is 1.02 × the adjusted close (a constant
    # factor, known from session 30: before it the nearest known factor, the same 1.02, gives the traded price)
    last_close = (panel.frame("close") * 1.02).ffill().fillna(0.0).to_numpy()
    fx = np.where(np.asarray(panel.markets) == "HK", 0.9, 1.0)
    np.testing.assert_allclose(res.equity.to_numpy(),
                               res.cash.to_numpy() + (res.positions.to_numpy() * last_close * fx).sum(axis=1),
                               rtol=1e-10)
    # shares: A-share main/ChiNext buys in 100s, STAR ≥ 200, HK in board lots; value = shares × price × fx
    buys = fills[fills["side"] == "buy"]
    lot = buys["code"].map({"600000.SH": 100, "300474.SZ": 100, "000001.SZ": 100, "00700.HK": 100, "01810.HK": 200})
    a_or_hk = lot.notna()
    assert ((buys.loc[a_or_hk, "shares"] % lot[a_or_hk]) == 0).all()
    assert (buys.loc[buys["code"] == "688981.SH", "shares"] >= 200).all()
    rate = np.where(fills["code"].isin(["00700.HK", "01810.HK"]), 0.9, 1.0)
    np.testing.assert_allclose(fills["value"], fills["shares"] * fills["price"] * rate, rtol=1e-10)
    # whole shares held, and each fill's basis: the session's own raw close from session 30, the nearest factor before
    assert (res.positions.to_numpy() % 1 == 0).all()
    early = fills["date"] < panel.sessions[30]
    assert early.any() and (~early).any()
    assert set(fills.loc[early, "price_basis"]) == {"nearest_factor"}
    assert set(fills.loc[~early, "price_basis"]) == {"traded"}


def test_fees_match_a_pandas_reference_by_date():
    panel = mixed_panel(3)
    res = simulate_weights(panel, random_weights(panel.shape, 3), SimulationRules(init_cash=1_000_000.0), fx=0.9,
                           hk_lots={"00700.HK": 100, "01810.HK": 200})
    fills = res.trades[res.trades["filled"]].copy()
    hk = fills["code"].isin(["00700.HK", "01810.HK"])
    rate = np.where(hk, 0.9, 1.0)
    local = fills["value"] / rate
    sell = fills["side"] == "sell"
    after = fills["date"] >= "2023-08-28"
    commission = np.maximum(0.00025 * local, 5.0)
    a_fees = (np.where(sell, np.where(after, 0.0005, 0.001), 0.0) * local + 0.00001 * local
              + np.where(after, 0.0000341, 0.0000487) * local)
    hk_stamp = np.ceil(np.where(fills["date"] >= "2023-11-17", 0.001, 0.0013) * local - 1e-9)
    hk_fees = hk_stamp + (0.0000565 + 0.000027 + 0.0000015) * local
    expected = (commission + np.where(hk, hk_fees, a_fees)) * rate
    assert sell.any() and hk.any() and after.any() and (~after).any()
    np.testing.assert_allclose(fills["fees"].to_numpy(), expected.to_numpy(), rtol=1e-10)


def test_traded_value_and_fees_per_session_reconcile_with_the_trades():
    """The per-session ``traded_value`` (turnover's input) and ``fees`` (costs paid) equal the fills grouped by date
    (each fill's value = shares × price × fx and fee are checked above against pandas)."""
    panel = mixed_panel(1)
    res = simulate_weights(panel, random_weights(panel.shape, 1), SimulationRules(init_cash=1_000_000.0), fx=0.9,
                           hk_lots={"00700.HK": 100, "01810.HK": 200})
    fills = res.trades[res.trades["filled"]]
    by_day = fills.groupby("date")[["value", "fees"]].sum().reindex(res.equity.index, fill_value=0.0)
    np.testing.assert_allclose(res.traded_value.to_numpy(), by_day["value"].to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res.fees.to_numpy(), by_day["fees"].to_numpy(), rtol=1e-12, atol=1e-9)
    assert (by_day["value"] > 0).sum() > 5
