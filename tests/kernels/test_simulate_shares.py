"""Positions in traded shares: prices before the first raw close, corporate actions from factor steps, factor noise.

Every expected number is worked by hand in the comments (or by plain pandas on the panel's own columns).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.actions import detect_actions, split_step
from engine.backtest.simulate import SimulationRules, simulate_weights
from engine.data.panel import Panel

NAN = np.nan
CLOSE_NO_COSTS = SimulationRules(init_cash=1_000_000.0, costs=False, execution="close")


def one_stock(code, dates, close, raw, open_=None) -> Panel:
    close = np.asarray(close, dtype=float)[:, None]
    raw = np.asarray(raw, dtype=float)[:, None]
    open_ = close.copy() if open_ is None else np.asarray(open_, dtype=float)[:, None]
    return Panel(sessions=pd.DatetimeIndex(dates).to_numpy(dtype="datetime64[ns]"),
                 codes=np.array([code], dtype=object),
                 open=open_, high=np.maximum(open_, close), low=np.minimum(open_, close), close=close, raw_close=raw,
                 volume=np.full(close.shape, 1e6), tradable=np.ones(close.shape, dtype=bool))


DAYS5 = pd.bdate_range("2024-05-27", periods=5)


def test_a_buy_before_the_first_raw_price_uses_the_nearest_factor_never_adjusted_units():
    # adjusted closes 63.0 … 65.8 with a constant factor 0.7 (raw 90 … 94), the raw close known only from session 3
    close = [63.0, 63.7, 64.4, 65.1, 65.8]
    raw = [NAN, NAN, NAN, 93.0, 94.0]
    panel = one_stock("600000.SH", DAYS5, close, raw)
    weights = np.array([[0.5], [NAN], [NAN], [NAN], [NAN]])
    res = simulate_weights(panel, weights, CLOSE_NO_COSTS)
    buy = res.trades.iloc[0]
    # traded price = 63.0 / 0.7 = 90.00 (not 63.0); 500,000 / 90 = 5,555.6 → 5,500 shares (7,900 at 63.0 would be
    # the phantom lot); cost 495,000
    assert buy["price"] == pytest.approx(90.0, abs=1e-9)
    assert buy["shares"] == 5_500 and buy["price_basis"] == "nearest_factor"
    assert (res.positions.iloc[:, 0] == 5_500).all()
    # equity on the last session: cash 505,000 + 5,500 × 94.00 = 1,022,000
    assert res.equity.iloc[-1] == pytest.approx(1_022_000.0, abs=1e-6)
    # derived prices off: refused on 05-27 with a reason, the standing order fills at the first raw close (93.00):
    # 500,000 / 93 = 5,376.3 → 5,300 shares
    strict = simulate_weights(panel, weights, replace(CLOSE_NO_COSTS, derived_prices=False))
    t = strict.trades
    assert list(t["reason"]) == ["no_traded_price", "filled"]
    assert t.loc[0, "shares"] == 0 and t.loc[1, "date"] == DAYS5[3]
    assert t.loc[1, "shares"] == 5_300 and t.loc[1, "price"] == pytest.approx(93.0)
    assert t.loc[1, "price_basis"] == "traded"


def qfq(raw: np.ndarray, events: dict[int, tuple[float, float]]) -> np.ndarray:
    """Forward-adjusted closes (as of the last session) from raw closes and {session: (ratio, dividend)}: before an
    ex-date the factor is multiplied by (P - D) / (m × P), P the raw close of the session before; 4 decimals."""
    factor = np.ones(len(raw))
    for i, (m, d) in events.items():
        p = raw[i - 1]
        factor[:i] *= (p - d) / (m * p)
    return np.round(raw * factor, 4)


def test_a_cash_dividend_and_a_bonus_issue_apply_on_their_ex_dates_in_whole_shares():
    days = pd.bdate_range("2025-05-05", periods=6)
    raw = np.array([100.00, 101.00, 99.00, 99.50, 71.50, 72.00])
    # ex-date 05-07: cash dividend 1.00 per share; ex-date 05-09: 10-for-4 bonus shares (转增), no cash
    close = qfq(raw, {2: (1.0, 1.00), 4: (1.4, 0.0)})
    panel = one_stock("000001.SZ", days, close, raw)
    found = detect_actions(panel).table
    assert list(found["date"]) == [days[2], days[4]]
    # factor steps 101/100 = 1.01 → dividend 101 × (1 - 1/1.01) = 1.00; 1.4 → ratio 1.40, no dividend
    assert found["ratio"].tolist() == pytest.approx([1.0, 1.4])
    assert found["dividend"].tolist() == pytest.approx([1.00, 0.0], abs=2e-3)
    weights = np.array([[0.5], [NAN], [NAN], [NAN], [NAN], [NAN]])
    res = simulate_weights(panel, weights, CLOSE_NO_COSTS)
    # bought 500,000 / 100.00 = 5,000 shares on 05-05; 05-07 +5,000 × 1.00 cash; 05-09 5,000 × 1.4 = 7,000 shares
    assert res.positions.iloc[:, 0].tolist() == [5_000, 5_000, 5_000, 5_000, 7_000, 7_000]
    # (the dividend is read from 4-decimal adjusted prices: 0.99998 per share here, within 0.0001 of 1.00, so the
    # cash is within 5,000 × 0.0001 = 0.5 CNY of the round figure)
    np.testing.assert_allclose(res.cash.to_numpy(), [500_000, 500_000, 505_000, 505_000, 505_000, 505_000],
                               atol=0.5)
    # equity = shares × raw close + cash every session (plain pandas on the panel's raw column)
    expected = res.positions.iloc[:, 0] * pd.Series(raw, index=res.equity.index) + res.cash
    np.testing.assert_allclose(res.equity.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert res.equity.iloc[-1] == pytest.approx(505_000 + 7_000 * 72.00, abs=0.5)   # 1,009,000
    np.testing.assert_allclose(res.equity.to_numpy(), (res.cash + res.position_values.sum(axis=1)).to_numpy(),
                               rtol=1e-12)
    acts = res.corporate_actions
    assert acts["shares_before"].tolist() == [5_000, 5_000] and acts["shares_after"].tolist() == [5_000, 7_000]
    # the sell after the bonus issue is in whole shares: everything, 7,000
    out = simulate_weights(panel, np.array([[0.5], [NAN], [NAN], [NAN], [0.0], [NAN]]), CLOSE_NO_COSTS)
    assert out.trades.iloc[-1]["shares"] == 7_000 and out.trades.iloc[-1]["price"] == pytest.approx(71.50)


def test_a_fractional_bonus_share_is_paid_in_cash_at_the_ex_reference_price():
    days = pd.bdate_range("2025-05-05", periods=4)
    raw = np.array([10.00, 10.00, 7.00, 7.10])
    close = qfq(raw, {2: (1.45, 0.0)})   # 10-for-4.5 bonus issue on 05-07
    panel = one_stock("688001.SH", days, close, raw)   # STAR: 200 minimum, then 1-share steps
    res = simulate_weights(panel, np.array([[0.00333], [NAN], [NAN], [NAN]]), replace(CLOSE_NO_COSTS,
                                                                                      init_cash=1_000_000.0))
    # 3,330 / 10.00 = 333 shares; × 1.45 = 482.85 → 482 shares + 0.85 × (10.00 / 1.45 = 6.896552) = 5.862 cash
    assert res.positions.iloc[:, 0].tolist() == [333, 333, 482, 482]
    assert res.cash.iloc[2] - res.cash.iloc[1] == pytest.approx(0.85 * 10.0 / 1.45, rel=1e-3)


def test_a_year_of_factor_noise_leaves_the_share_count_unchanged():
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2024-01-02", periods=250)
    true_raw = 8.0 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))   # a low price: large rounding noise
    raw = np.round(true_raw, 2)                                           # traded prices on the cent grid
    # adjusted = true price × 0.8 with up to ±0.4 cent of noise from the chained source, stored to 4 decimals
    close = np.round(true_raw * 0.8 * (1 + rng.uniform(-0.004, 0.004, len(days)) / true_raw), 4)
    panel = one_stock("600000.SH", days, close, raw)
    factor = close / raw
    steps = factor[1:] / factor[:-1] - 1
    assert np.abs(steps).max() > 5e-4     # the factor really moves (as on 300002.SZ), with no corporate action
    assert detect_actions(panel).table.empty
    weights = np.full((len(days), 1), NAN)
    weights[0] = 0.9
    res = simulate_weights(panel, weights, SimulationRules(init_cash=100_000.0, execution="close"))
    held = res.positions.iloc[:, 0]
    assert held.iloc[0] > 0 and held.iloc[0] % 100 == 0 and (held == held.iloc[0]).all()
    # equity = shares × raw close + cash (pandas)
    np.testing.assert_allclose(res.equity.to_numpy(), (held * raw + res.cash).to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("step, prev, ratio, dividend", [
    (1.01, 101.0, 1.0, 1.0),               # 1 % cash dividend: 101 × (1 - 1/1.01) = 1.00
    (1.49, 56.62, 1.49, 0.0),              # 10转4.9 (300781.SZ 2025-07-16)
    (1.407706, 90.52, 1.40, 0.4955),       # 10转4 + dividend (300394.SZ 2025-06-09): 90.52 × (1 - 1.4/1.407706)
    (0.5, 20.0, 0.5, 0.0),                 # 2-for-1 consolidation
])
def test_factor_steps_split_into_shares_and_cash(step, prev, ratio, dividend):
    m, d = split_step(np.array([step]), np.array([prev]), np.array([1e-4]))
    assert m[0] == pytest.approx(ratio)
    # value conserved: m × ex-reference + D = P, with ex-reference = P / step
    assert m[0] * prev / step + d[0] == pytest.approx(prev)
    assert d[0] == pytest.approx(dividend, abs=1e-3)


def test_a_stop_loss_is_not_triggered_by_a_bonus_issue():
    days = pd.bdate_range("2025-05-05", periods=5)
    raw = np.array([100.00, 100.00, 70.00, 66.00, 62.00])
    close = qfq(raw, {2: (1.4, 0.0)})   # 10转4 on 05-07: the entry 100.00 becomes 100 / 1.4 = 71.43
    panel = one_stock("000001.SZ", days, close, raw)
    rules = replace(CLOSE_NO_COSTS, stop_loss=0.1)
    res = simulate_weights(panel, np.array([[0.5], [NAN], [NAN], [NAN], [NAN]]), rules)
    # stop at 71.43 × 0.9 = 64.29: 70.00 and 66.00 stay above (no stop on the ex-date), 62.00 on 05-09 is below
    sells = res.trades[res.trades["side"] == "sell"]
    assert list(sells["date"]) == [days[4]] and list(sells["reason"]) == ["stop_loss"]
    # 5,000 shares × 1.4 = 7,000 sold at the open of 62.00 (it gapped below the 64.29 stop: the open is the fill)
    assert sells.iloc[0]["shares"] == 7_000 and sells.iloc[0]["price"] == pytest.approx(62.00)


@pytest.mark.parametrize("first_day, filled", [("2026-07-02", False), ("2026-07-06", True)])
def test_st_limit_is_five_percent_until_2026_07_05_and_ten_percent_from_2026_07_06(first_day, filled):
    # traded closes 20.00 → open 21.30 the next session (+6.5 %): beyond ST ±5 % (limit 21.00), inside ±10 % (22.00)
    days = pd.bdate_range(first_day, periods=3)
    panel = one_stock("600000.SH", days, [20.0, 21.3, 21.3], [20.0, 21.3, 21.3])
    rules = replace(CLOSE_NO_COSTS, execution="open", retry_rejected=False)
    res = simulate_weights(panel, np.array([[1.0], [NAN], [NAN]]), rules, st=np.ones((3, 1), dtype=bool))
    t = res.trades
    assert t.loc[0, "date"] == days[1] and t.loc[0, "price"] == pytest.approx(21.30)
    assert t.loc[0, "price_basis"] == "traded"
    assert list(t["reason"]) == (["filled"] if filled else ["limit_up"])
