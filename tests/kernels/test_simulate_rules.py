"""One hand-worked case per market rule of the simulator (numbers computed by hand in the comments)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.simulate import SimulationRules, simulate_weights
from engine.data.panel import Panel

NAN = np.nan


def make_panel(codes, dates, close, open_=None, low=None, raw_close=None, volume=None) -> Panel:
    close = np.asarray(close, dtype=float).reshape(len(dates), len(codes))
    open_ = close.copy() if open_ is None else np.asarray(open_, dtype=float).reshape(close.shape)
    low = np.minimum(open_, close) if low is None else np.asarray(low, dtype=float).reshape(close.shape)
    raw = np.full(close.shape, NAN) if raw_close is None else np.asarray(raw_close, dtype=float).reshape(close.shape)
    vol = np.where(np.isfinite(close), 1e6, NAN) if volume is None else np.asarray(volume, float).reshape(close.shape)
    return Panel(sessions=pd.DatetimeIndex(dates).to_numpy(dtype="datetime64[ns]"),
                 codes=np.array(codes, dtype=object), open=open_, high=np.maximum(open_, close), low=low,
                 close=close, raw_close=raw, volume=vol, tradable=np.isfinite(close) & (np.nan_to_num(vol) > 0))


NO_COSTS = SimulationRules(init_cash=100_000.0, costs=False)
DAYS = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]


def fills(result):
    return result.trades[result.trades["filled"]].reset_index(drop=True)


def test_t_plus_one_blocks_a_same_day_stop_sell_but_hk_is_t_plus_zero():
    # bought 10,000 shares at the 10.00 open of 03-05; the low of 9.00 hits the 5 % stop (9.50) the same session
    rules = SimulationRules(init_cash=100_000.0, costs=False, stop_loss=0.05)
    close = [10.0, 9.3, 9.4, 9.4]
    open_ = [10.0, 10.0, 9.2, 9.4]
    low = [10.0, 9.0, 9.1, 9.3]
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    a_share = simulate_weights(make_panel(["600000.SH"], DAYS, close, open_, low), weights, rules)
    t = a_share.trades
    assert list(t["reason"]) == ["filled", "t_plus_one", "filled"]
    assert t.loc[1, "date"] == pd.Timestamp("2024-03-05") and t.loc[1, "shares"] == 0
    # sold at the next open instead: 10,000 × 9.20 = 92,000
    assert t.loc[2, "date"] == pd.Timestamp("2024-03-06") and t.loc[2, "price"] == 9.2
    assert a_share.cash.iloc[-1] == pytest.approx(92_000.0, abs=1e-6)
    hk = simulate_weights(make_panel(["00700.HK"], DAYS, close, open_, low), weights, rules, currency="HKD",
                          hk_lots={"00700.HK": 100})
    # T+0: the stop fills the same session at 9.50 → 95,000
    assert list(fills(hk)["reason"]) == ["filled", "stop_loss"]
    assert hk.cash.iloc[-1] == pytest.approx(95_000.0, abs=1e-6)


def test_limit_up_blocks_a_buy_at_the_open():
    # previous close 10.00 → up-limit 11.00; an open of 11.00 is at the limit, 10.98 is not
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    blocked = simulate_weights(make_panel(["600000.SH"], DAYS, [10, 11, 11, 11], [10, 11.0, 11, 11]), weights,
                               NO_COSTS)
    assert list(blocked.trades["reason"]) == ["limit_up", "filled"]
    # nothing bought on 03-05; the standing order fills at the 03-06 open (11.00 vs the 11.00 close: no limit)
    assert blocked.positions.iloc[1, 0] == 0 and blocked.trades.loc[1, "date"] == pd.Timestamp("2024-03-06")
    filled = simulate_weights(make_panel(["600000.SH"], DAYS, [10, 11, 11, 11], [10, 10.98, 11, 11]), weights,
                              NO_COSTS)
    # floor(100,000 / 10.98 / 100) × 100 = 9,100 shares
    assert fills(filled).loc[0, "shares"] == 9_100


def test_limit_down_blocks_a_sell_and_limits_follow_the_board_and_date():
    weights = np.array([[1.0], [0.0], [NAN], [NAN]])
    # bought 10,000 at 10.00 on 03-05; exit ordered for the 03-06 open of 9.00 = 10.00 × 0.9: at the down-limit
    res = simulate_weights(make_panel(["600000.SH"], DAYS, [10, 10, 9.0, 9.5], [10, 10, 9.0, 9.5]), weights,
                           NO_COSTS)
    assert list(res.trades["reason"])[:2] == ["filled", "limit_down"]
    assert res.positions.iloc[2, 0] == 10_000
    # the standing exit fills at the next open, 9.50 (inside the limit from 9.00)
    assert res.trades.iloc[-1]["reason"] == "filled" and res.trades.iloc[-1]["price"] == 9.5
    assert res.positions.iloc[-1, 0] == 0
    # ChiNext: +15 % at the open is inside the 20 % limit from 2020-08-24, but at the 10 % limit before it
    close, open_ = [10, 11.5, 11.5, 11.5], [10, 11.5, 11.5, 11.5]
    buy = np.array([[1.0], [NAN], [NAN], [NAN]])
    after = simulate_weights(make_panel(["300474.SZ"], DAYS, close, open_), buy, NO_COSTS)
    assert fills(after).shape[0] == 1
    before = simulate_weights(make_panel(["300474.SZ"], ["2020-08-18", "2020-08-19", "2020-08-20", "2020-08-21"],
                                         close, open_), buy, NO_COSTS)
    assert list(before.trades["reason"]) == ["limit_up", "filled"]


def test_star_market_minimum_is_200_shares_then_single_shares():
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    panel = make_panel(["688981.SH"], DAYS, [10.0] * 4)
    small = simulate_weights(panel, weights, SimulationRules(init_cash=1_500.0, costs=False))
    assert list(small.trades["reason"]) == ["below_min_lot"]          # 150 shares < 200
    ok = simulate_weights(panel, weights, SimulationRules(init_cash=2_550.0, costs=False))
    assert fills(ok).loc[0, "shares"] == 255                           # 200 minimum, then 1-share steps
    main = simulate_weights(make_panel(["600000.SH"], DAYS, [10.0] * 4), weights,
                            SimulationRules(init_cash=2_550.0, costs=False))
    assert fills(main).loc[0, "shares"] == 200                         # main board: 100-share lots


@pytest.mark.parametrize("sell_day, stamp, handling", [("2023-08-25", 10.0, 0.487), ("2023-08-28", 5.0, 0.341)])
def test_stamp_duty_on_a_sell_before_and_from_2023_08_28(sell_day, stamp, handling):
    days = pd.bdate_range(end=sell_day, periods=3)
    weights = np.array([[1.0], [0.0], [NAN]])
    res = simulate_weights(make_panel(["600000.SH"], days, [10.0] * 3), weights,
                           SimulationRules(init_cash=10_050.0))
    sell = fills(res).iloc[1]
    assert sell["date"] == pd.Timestamp(sell_day) and sell["shares"] == 1_000
    # 10,000 CNY sold: commission max(2.5, 5) = 5, stamp duty, transfer 0.1, handling fee
    assert sell["fees"] == pytest.approx(5.0 + stamp + 0.1 + handling, abs=1e-9)


@pytest.mark.parametrize("day, stamp", [("2023-11-16", 14.0), ("2024-03-05", 11.0)])
def test_hk_stamp_duty_rounds_up_to_a_whole_dollar(day, stamp):
    days = pd.bdate_range(end=day, periods=2)
    weights = np.array([[1.0], [NAN]])
    rules = SimulationRules(init_cash=10_100.0, commission_rate=0.0, commission_min=0.0)
    res = simulate_weights(make_panel(["00700.HK"], days, [33.35, 33.35]), weights, rules, currency="HKD",
                           hk_lots={"00700.HK": 100})
    buy = fills(res).iloc[0]
    assert buy["shares"] == 300                                        # 10,005 HKD
    # 0.13 % → 13.0065 → 14; 0.1 % → 10.005 → 11; plus trading fee, SFC and AFRC levies 0.0085 % = 0.850425
    assert buy["fees"] == pytest.approx(stamp + 10_005 * 0.000085, abs=1e-9)


def test_suspended_day_is_untradeable():
    volume = [1e6, 0.0, 1e6, 1e6]  # a bar with zero volume on 03-05: suspended
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    panel = make_panel(["600000.SH"], DAYS, [10.0] * 4, volume=volume)
    no_retry = simulate_weights(panel, weights, replace(NO_COSTS, retry_rejected=False))
    assert list(no_retry.trades["reason"]) == ["suspended"]
    assert no_retry.equity.iloc[-1] == 100_000.0 and (no_retry.positions.to_numpy() == 0).all()
    # by default the rejected order stands and fills when trading resumes on 03-06
    res = simulate_weights(panel, weights, NO_COSTS)
    assert list(res.trades["reason"]) == ["suspended", "filled"]
    assert res.trades.loc[1, "date"] == pd.Timestamp("2024-03-06") and res.trades.loc[1, "shares"] == 10_000


def test_lots_use_the_raw_price_and_equity_the_adjusted_one():
    # adjusted close 10, traded close 20 (an old qfq basis): 100,000 buys 5,000 real shares at 20
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    panel = make_panel(["600000.SH"], DAYS, [10.0, 10.0, 11.0, 11.0], raw_close=[20.0, 20.0, 22.0, 22.0])
    res = simulate_weights(panel, weights, NO_COSTS)
    buy = fills(res).iloc[0]
    assert (buy["shares"], buy["price"]) == (5_000, 20.0)
    assert res.equity.iloc[-1] == pytest.approx(110_000.0)


def test_hk_stock_in_a_cny_account_converts_with_fx():
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    panel = make_panel(["00700.HK"], DAYS, [100.0, 100.0, 110.0, 110.0])
    fx = pd.Series([0.90, 0.90, 0.92, 0.92], index=pd.DatetimeIndex(DAYS))
    res = simulate_weights(panel, weights, NO_COSTS, fx=fx, hk_lots={"00700.HK": 100})
    # 100,000 CNY / (100 HKD × 0.90) = 1,111 shares → 1,100 (lots of 100), then 1,100 × 110 × 0.92 + leftover cash
    assert fills(res).loc[0, "shares"] == 1_100
    assert res.equity.iloc[-1] == pytest.approx(1_100 * 110 * 0.92 + (100_000 - 1_100 * 100 * 0.90))


def test_hk_default_lot_warns():
    panel = make_panel(["00700.HK"], DAYS, [100.0] * 4)
    with pytest.warns(UserWarning, match="00700.HK"):
        simulate_weights(panel, np.array([[1.0], [NAN], [NAN], [NAN]]), NO_COSTS, currency="HKD")


def test_hk_settlement_fee_from_2025_06_30():
    days = pd.bdate_range(end="2025-07-02", periods=2)
    rules = SimulationRules(init_cash=10_100.0, commission_rate=0.0, commission_min=0.0)
    res = simulate_weights(make_panel(["00700.HK"], days, [33.35, 33.35]), np.array([[1.0], [NAN]]), rules,
                           currency="HKD", hk_lots={"00700.HK": 100})
    # 10,005 HKD: stamp 11 + (0.00565 % + 0.0027 % + 0.00015 % + 0.0042 %) × 10,005
    assert fills(res).iloc[0]["fees"] == pytest.approx(11.0 + 10_005 * 0.000127, abs=1e-9)


def test_st_limit_and_ipo_window():
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    close, open_ = [10, 10.5, 10.5, 10.5], [10, 10.5, 10.5, 10.5]
    panel = make_panel(["600000.SH"], DAYS, close, open_)
    # +5 % at the open: inside the main-board 10 % limit, at the ST 5 % limit
    assert fills(simulate_weights(panel, weights, NO_COSTS)).loc[0, "date"] == pd.Timestamp("2024-03-05")
    st = np.ones((4, 1), dtype=bool)
    st_run = simulate_weights(panel, weights, NO_COSTS, st=st)
    assert list(st_run.trades["reason"]) == ["limit_up", "filled"]
    # a STAR stock whose first bar is 03-05 (listed in the panel): +50 % on its 2nd session fills (no limit in 5)
    new = make_panel(["688999.SH"], DAYS, [NAN, 20.0, 30.0, 30.0], [NAN, 20.0, 30.0, 30.0])
    ipo = simulate_weights(new, np.array([[NAN], [1.0], [NAN], [NAN]]), NO_COSTS)
    assert list(ipo.trades["reason"]) == ["filled"] and ipo.trades.loc[0, "price"] == 30.0


def test_order_for_a_stock_without_a_price_yet_stands_until_its_first_bar():
    panel = make_panel(["600000.SH"], DAYS, [NAN, NAN, 10.0, 10.0], [NAN, NAN, 10.0, 10.0])
    res = simulate_weights(panel, np.array([[1.0], [NAN], [NAN], [NAN]]), NO_COSTS)
    # one no_price record on 03-05 (not repeated), then the fill at the first bar's open on 03-06
    assert list(res.trades["reason"]) == ["no_price", "filled"]
    assert res.trades.loc[1, "date"] == pd.Timestamp("2024-03-06") and res.trades.loc[1, "shares"] == 10_000
    dropped = simulate_weights(panel, np.array([[1.0], [NAN], [NAN], [NAN]]), replace(NO_COSTS, retry_rejected=False))
    assert list(dropped.trades["reason"]) == ["no_price"] and dropped.positions.iloc[-1, 0] == 0


def test_limit_check_at_the_open_reads_only_the_previous_close_and_the_open():
    """No look-ahead in the limit test: at the open of 03-05 only the 03-04 close (10.00 → up-limit 11.00) and the
    03-05 open are known; that session's high, low and close must not matter."""
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    # opens 10.50 (inside the limit), then closes limit-up at 11.00 with a high of 11.00: the buy fills at 10.50
    closes_up = make_panel(["600000.SH"], DAYS, [10, 11.0, 11, 11], [10, 10.5, 11, 11])
    res = simulate_weights(closes_up, weights, NO_COSTS)
    assert list(res.trades["reason"]) == ["filled"]
    assert (res.trades.loc[0, "date"], res.trades.loc[0, "price"]) == (pd.Timestamp("2024-03-05"), 10.5)
    # floor(100,000 / 10.50 / 100) × 100 = 9,500 shares
    assert res.trades.loc[0, "shares"] == 9_500
    # opens at the limit 11.00, then falls to a 10.20 close (low 10.10): blocked at the open all the same
    opens_up = make_panel(["600000.SH"], DAYS, [10, 10.2, 10.2, 10.2], [10, 11.0, 10.2, 10.2],
                          low=[10, 10.1, 10.2, 10.2])
    blocked = simulate_weights(opens_up, weights, NO_COSTS)
    assert list(blocked.trades["reason"]) == ["limit_up", "filled"]
    assert blocked.positions.iloc[1, 0] == 0
    # the previous close is the last *traded* close: suspended on 03-05, the 03-06 open of 11.00 is judged against
    # the 03-04 close of 10.00 (limit 11.00 → blocked), not against a later price
    suspended = make_panel(["600000.SH"], DAYS, [10, NAN, 11.0, 11.0], [10, NAN, 11.0, 11.0])
    res = simulate_weights(suspended, weights, NO_COSTS)
    assert list(res.trades["reason"]) == ["no_price", "limit_up", "filled"]
    assert res.trades.loc[1, "date"] == pd.Timestamp("2024-03-06")
    assert res.trades.loc[2, "date"] == pd.Timestamp("2024-03-07")


def test_round_trip_with_costs_and_lots_by_hand():
    """A complete A-share round trip with every cost on (2024: stamp 0.05 % on sells, transfer 0.001 %, handling
    0.00341 %, commission 2.5 bp, minimum 5 CNY), 100-share lots, next-open execution."""
    closes = [10.0, 10.5, 10.5, 11.2]
    opens = [10.0, 10.0, 10.6, 11.0]
    weights = np.array([[1.0], [NAN], [0.0], [NAN]])   # decided after the 03-04 close, exit after the 03-06 close
    res = simulate_weights(make_panel(["600000.SH"], DAYS, closes, opens), weights,
                           SimulationRules(init_cash=100_000.0))
    buy, sell = fills(res).iloc[0], fills(res).iloc[1]
    # 03-05 open 10.00: 10,000 shares cost 100,000 + 29.41 fees > cash → cut to 9,900 shares = 99,000
    # fees 99,000 × (0.00025 + 0.00001 + 0.0000341) = 24.75 + 0.99 + 3.3759 = 29.1159
    assert (buy["date"], buy["shares"], buy["price"]) == (pd.Timestamp("2024-03-05"), 9_900, 10.0)
    assert buy["fees"] == pytest.approx(29.1159, abs=1e-9)
    cash_after_buy = 100_000 - 99_000 - 29.1159                       # 970.8841
    # equity at the 03-05 and 03-06 closes: cash + 9,900 × 10.50
    assert res.equity.iloc[1] == pytest.approx(cash_after_buy + 9_900 * 10.5, abs=1e-9)
    assert res.equity.iloc[2] == pytest.approx(cash_after_buy + 9_900 * 10.5, abs=1e-9)
    # 03-07 open 11.00: sell 9,900 = 108,900; fees 27.225 + stamp 54.45 + 1.089 + 3.71349 = 86.47749
    assert (sell["date"], sell["shares"], sell["price"]) == (pd.Timestamp("2024-03-07"), 9_900, 11.0)
    assert sell["fees"] == pytest.approx(86.47749, abs=1e-9)
    assert res.equity.iloc[3] == pytest.approx(cash_after_buy + 108_900 - 86.47749, abs=1e-9)   # 109,784.40661
    assert res.equity.iloc[3] == pytest.approx(109_784.40661, abs=1e-6)
    assert res.fees.sum() == pytest.approx(29.1159 + 86.47749, abs=1e-9)


def test_limit_on_an_ex_dividend_day_uses_the_ex_rights_previous_close():
    """Cash dividend of 1.00 CNY going ex on 03-05: the exchange's reference price is the previous close minus the
    dividend, 10.00 − 1.00 = 9.00, so the up-limit is 9.90. Adjusted (forward, latest basis) closes: 9.00, 9.90, …;
    raw closes 10.00, 9.90, …. An open of 9.90 on 03-05 is at the limit (blocked), although it is below the raw
    previous close of 10.00."""
    weights = np.array([[1.0], [NAN], [NAN], [NAN]])
    panel = make_panel(["600000.SH"], DAYS, [9.0, 9.9, 9.9, 9.9], [9.0, 9.9, 9.9, 9.9],
                       raw_close=[10.0, 9.9, 9.9, 9.9])
    res = simulate_weights(panel, weights, NO_COSTS)
    assert list(res.trades["reason"]) == ["limit_up", "filled"]
    assert res.trades.loc[0, "date"] == pd.Timestamp("2024-03-05") and res.trades.loc[0, "price"] == 9.9
    # the standing order fills at the 03-06 open of 9.90 (previous close 9.90): floor(100,000 / 9.90 / 100) × 100
    assert (res.trades.loc[1, "date"], res.trades.loc[1, "shares"]) == (pd.Timestamp("2024-03-06"), 10_100)


def test_a_stock_suspended_on_the_first_sessions_is_not_taken_for_a_new_listing():
    """The IPO window (no limit for 5 sessions) must not apply to a stock that merely has no bar on the panel's first
    session: the data layer's ``first_bar_dates`` (bars held before the panel start) say it listed long ago, so a
    +50 % open against the previous close of 20.00 is limit-up (main board ±10 %) and the buy does not fill."""
    weights = np.array([[NAN], [1.0], [NAN], [NAN]])
    suspended = make_panel(["600001.SH"], DAYS, [NAN, 20.0, 30.0, 30.0], [NAN, 20.0, 30.0, 30.0])
    assert list(simulate_weights(suspended, weights, NO_COSTS).trades["reason"]) == ["filled"]  # no history known
    suspended.first_bar_dates = {"600001.SH": pd.Timestamp("2020-01-02")}
    blocked = simulate_weights(suspended, weights, NO_COSTS)
    assert list(blocked.trades["reason"])[0] == "limit_up"
    assert not blocked.trades["filled"].iloc[0]


def test_load_panel_records_the_first_bar_held_before_the_panel(tmp_path):
    from engine.data.cache import PriceCache
    from engine.data.importer import import_paths
    from engine.data.load import load_panel

    src = tmp_path / "prices"
    src.mkdir()
    (src / "SH600001.csv").write_text("date,open,high,low,close,volume\n2024-02-01,19,20,19,20,100\n"
                                      "2024-03-05,20,20,20,20,100\n")
    import_paths([src], PriceCache(tmp_path / "cache"))
    panel = load_panel(["600001.SH"], "2024-03-04", "2024-03-05", offline=True, cache=tmp_path / "cache",
                       calendar="XSHG", on_missing="raise")
    assert panel.first_bar_dates == {"600001.SH": pd.Timestamp("2024-02-01")}
    assert np.isnan(panel.close[0, 0]) and panel.close[1, 0] == 20.0
