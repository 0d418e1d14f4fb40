"""Through the runner: whole shares in positions.csv across a bonus issue and a dividend; ST flags and listing dates
from the config (user files and akshare's ST list, faked)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.reference import (ReferenceDataError, fetch_st_snapshot, read_listings, read_st_flags,
                                       st_matrix, stored_st_periods)
from engine.backtest.run import run_backtest, write_run
from engine.config import ConfigError, load_backtest_config

from .conftest import SESSIONS


def _weights_config(config_file, weights, portfolio: dict):
    """The test config following a weights file (strategy ``target_weights``) with ``portfolio`` replaced."""
    return load_backtest_config(config_file(), {"portfolio": portfolio, "strategy": {
        "name": "target_weights", "params": {"path": str(weights)}}})


def _write_with_actions(prices_dir):
    """SH600000 with raw closes from session 5 on, a 1.00 dividend ex session 12 and 10转5 (1.5) ex session 25."""
    bars = pd.read_csv(prices_dir / "SH600000.csv")
    raw = np.round(bars["close"].to_numpy() * 3.0, 2)   # traded ≈ 30 CNY
    raw[12:] -= 1.0                                     # the dividend leaves the price on the ex-date
    raw[25:] = np.round(raw[25:] / 1.5, 2)              # bonus shares
    factor = np.ones(len(raw))
    factor[:25] *= 1 / 1.5                              # qfq as of the last session
    factor[:12] *= (raw[11] - 1.0) / raw[11]
    close = np.round(raw * factor, 4)
    ratio = close / bars["close"].to_numpy()
    bars = bars.assign(open=np.round(bars["open"] * ratio, 4), high=np.round(bars["high"] * ratio, 4),
                       low=np.round(bars["low"] * ratio, 4), close=close)
    bars["raw_close"] = np.where(np.arange(len(raw)) >= 5, raw, np.nan)
    bars.to_csv(prices_dir / "SH600000.csv", index=False)
    return raw


def test_positions_stay_whole_through_a_dividend_and_a_bonus_issue(config_file, prices_dir, tmp_path):
    raw = _write_with_actions(prices_dir)
    weights = tmp_path / "weights.csv"
    weights.write_text("date,600000.SH\n2024-03-04,0.6\n", encoding="utf-8")   # bought at session 1's open
    cfg = _weights_config(config_file, weights, {"cash": 100000, "costs": "none"})
    run = run_backtest(cfg)
    buy = run.trades.iloc[0]
    assert buy["price_basis"] == "nearest_factor" and buy["shares"] % 100 == 0
    written = write_run(run, tmp_path / "out")
    assert "actions.csv" in [p.name for p in written]
    pos = pd.read_csv(tmp_path / "out" / "positions.csv")
    assert (pos["shares"] % 1 == 0).all()
    shares = pos.set_index("date")["shares"]
    n0 = buy["shares"]
    # constant until the bonus issue, then × 1.5 (a multiple of 100 × 1.5: whole)
    before = shares[shares.index < SESSIONS[25].strftime("%Y-%m-%d")]
    after = shares[shares.index >= SESSIONS[25].strftime("%Y-%m-%d")]
    assert (before == n0).all() and (after == n0 * 1.5).all()
    actions = pd.read_csv(tmp_path / "out" / "actions.csv")
    assert actions["date"].tolist() == [SESSIONS[12].strftime("%Y-%m-%d"), SESSIONS[25].strftime("%Y-%m-%d")]
    assert actions["ratio"].tolist() == pytest.approx([1.0, 1.5])
    assert actions["dividend"].iloc[0] == pytest.approx(1.0, abs=0.01)
    # equity = cash + shares × raw close (pandas on the file's raw column)
    eq = run.equity
    held = pd.Series(0.0, index=eq.index)
    held[pd.DatetimeIndex(shares.index)] = shares.to_numpy()
    np.testing.assert_allclose(eq["equity"].iloc[5:], (eq["cash"] + held * raw).iloc[5:], rtol=1e-12)


def test_st_file_and_listing_file_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "st.csv"
    bad.write_text("code,start,end\n600000.SH,2024-03-01,\n000001,03/01/2024,\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"st.csv, line 3: start '03/01/2024' is not a date YYYY-MM-DD"):
        read_st_flags(bad)
    bad.write_text("code,begin\n600000.SH,2024-03-01\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"missing column\(s\) start, end"):
        read_st_flags(bad)
    listing = tmp_path / "listings.csv"
    listing.write_text("code,listing_date\nNOPE!,2024-03-01\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"listings.csv, line 2: code 'NOPE!'"):
        read_listings(listing)
    good = tmp_path / "st2.csv"
    good.write_text("code,start,end\n000001,2024-03-04,2024-03-05\n600000.SH,2024-03-06,\n", encoding="utf-8")
    flags = st_matrix(read_st_flags(good), ["600000.SH", "000001.SZ"], pd.bdate_range("2024-03-01", periods=6))
    # 03-01 04 05 06 07 08: 000001 ST on 03-04 and 03-05 (end inclusive); 600000 from 03-06 on
    assert flags[:, 1].tolist() == [False, True, True, False, False, False]
    assert flags[:, 0].tolist() == [False, False, False, True, True, True]


def _st_limit_prices(prices_dir, day_from: int):
    """SH600000 opens +6 % over the previous close at session ``day_from`` (inside ±10 %, beyond ST ±5 %)."""
    bars = pd.read_csv(prices_dir / "SH600000.csv")
    close = np.full(len(bars), 10.0)
    close[day_from:] = 10.6
    bars = bars.assign(open=close, high=close, low=close, close=close, raw_close=close)
    bars.to_csv(prices_dir / "SH600000.csv", index=False)


@pytest.mark.parametrize("start, blocked", [("2024-03-01", True), ("2024-03-20", False)])
def test_st_flags_from_the_config_apply_the_five_percent_limit_by_date(config_file, prices_dir, tmp_path, start,
                                                                       blocked):
    _st_limit_prices(prices_dir, 8)
    weights = tmp_path / "weights.csv"
    weights.write_text(f"date,600000.SH\n{SESSIONS[8].date()},0.5\n", encoding="utf-8")
    st = tmp_path / "st.csv"
    st.write_text(f"code,start,end\n600000,{start},\n", encoding="utf-8")
    cfg = _weights_config(config_file, weights, {"cash": 100000, "costs": "none", "st_flags": str(st),
                                                 "rules": {"retry_rejected": False}})
    run = run_backtest(cfg)
    # +6 % at the open: ST (±5 %) from 03-01 → limit-up, refused; ST only from 03-20 → 10.6 < 11.00, filled
    assert list(run.trades["reason"]) == (["limit_up"] if blocked else ["filled"])
    assert run.trades.iloc[0]["price"] == pytest.approx(10.6)


def test_listing_dates_from_the_config_open_the_no_limit_window(config_file, prices_dir, tmp_path):
    _st_limit_prices(prices_dir, 8)
    weights = tmp_path / "weights.csv"
    weights.write_text(f"date,600000.SH\n{SESSIONS[8].date()},0.5\n", encoding="utf-8")
    st = tmp_path / "st.csv"
    st.write_text("code,start,end\n600000,2024-03-01,\n", encoding="utf-8")
    listings = tmp_path / "listings.csv"
    # listed on session 5: session 8 is its 4th session, inside the 5-session no-limit window
    listings.write_text(f"code,listing_date\n600000.SH,{SESSIONS[5].date()}\n", encoding="utf-8")
    cfg = _weights_config(config_file, weights, {"cash": 100000, "costs": "none", "st_flags": str(st),
                                                 "listings": str(listings), "rules": {"retry_rejected": False}})
    assert list(run_backtest(cfg).trades["reason"]) == ["filled"]
    listings.write_text("code,listing_date\n600000.SH,2024-02-30\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"portfolio.listings: .*listings.csv, line 2: listing_date '2024-02-30'"):
        run_backtest(cfg)


def test_akshare_st_list_is_a_dated_snapshot_never_applied_before_it_was_taken(tmp_path):
    # the real columns of akshare's stock_zh_a_st_em() (akshare 1.19: 序号, 代码, 名称, 最新价, ...), codes as strings
    def snapshot(codes):
        frame = pd.DataFrame({"序号": range(1, len(codes) + 1), "代码": codes, "名称": [f"*ST{c}" for c in codes],
                              "最新价": 3.0, "涨跌幅": 0.0, "涨跌额": 0.0, "成交量": 1.0, "成交额": 1.0, "振幅": 0.0,
                              "最高": 3.0, "最低": 3.0, "今开": 3.0, "昨收": 3.0, "量比": 1.0, "换手率": 1.0,
                              "市盈率-动态": -1.0, "市净率": 1.0})
        return SimpleNamespace(stock_zh_a_st_em=lambda: frame)

    fetch_st_snapshot(tmp_path, snapshot(["600001", "000002"]), today=dt.date(2024, 3, 6))
    fetch_st_snapshot(tmp_path, snapshot(["600001"]), today=dt.date(2024, 3, 8))
    periods = stored_st_periods(tmp_path)
    days = pd.bdate_range("2024-03-04", periods=6)   # 03-04 … 03-11
    flags = st_matrix(periods, ["600001.SH", "000002.SZ"], days)
    # 600001: ST from the first snapshot (03-06) on; 000002: in the 03-06 list, gone by 03-08 → 03-06..03-07
    assert flags[:, 0].tolist() == [False, False, True, True, True, True]
    assert flags[:, 1].tolist() == [False, False, True, True, False, False]
    with pytest.raises(ReferenceDataError, match="no column 代码"):
        fetch_st_snapshot(tmp_path, SimpleNamespace(stock_zh_a_st_em=lambda: pd.DataFrame({"code": ["1"]})))


def test_cli_refuses_a_bad_st_file_in_one_line_naming_file_line_and_field(config_file, tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    st = tmp_path / "st.csv"
    st.write_text("code,start,end\n600000,2024-03-01,yesterday\n", encoding="utf-8")
    cfg = config_file()
    text = open(cfg, encoding="utf-8").read().replace("portfolio: {cash: 100000,",
                                                        f"portfolio: {{st_flags: {st}, cash: 100000,")
    open(cfg, "w", encoding="utf-8").write(text)
    result = CliRunner().invoke(app, ["backtest", cfg, "--output", str(tmp_path / "runs")])
    out = " ".join(result.output.split())   # the terminal wraps long lines
    assert result.exit_code != 0
    assert "error: portfolio.st_flags:" in out and "st.csv, line 2: end 'yesterday' is not a date YYYY-MM-DD" in out
    assert "Traceback" not in out
