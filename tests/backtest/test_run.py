"""Runner and CLI on a hand-made panel: entry timing, exits, files written, sweeps, error messages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.backtest.run import run_backtest, write_run
from engine.cli import app
from engine.config import ConfigError, load_backtest_config

from .conftest import SESSIONS


def test_single_name_equity_matches_a_hand_computation(config_file, prices_dir, tmp_path):
    cfg = load_backtest_config(config_file(params="{max_weight: 1.0, brokers: [BrokerA]}"))
    run = run_backtest(cfg)
    bars = pd.read_csv(prices_dir / "SH600000.csv", parse_dates=["date"]).set_index("date")
    fills = run.trades[run.trades["filled"]]
    entry, exit_ = fills.iloc[0], fills.iloc[1]
    # published 2024-03-07 → bought at the 03-08 open; horizon 1 month → sold at the 04-08 open (first session ≥ 04-07)
    assert entry["date"] == pd.Timestamp("2024-03-08") and entry["side"] == "buy"
    assert exit_["date"] == pd.Timestamp("2024-04-08") and exit_["side"] == "sell"
    shares = 100_000 / bars.loc["2024-03-08", "open"]            # fractional (lots off), no costs
    held = (bars.index >= "2024-03-08") & (bars.index < "2024-04-08")
    expected = pd.Series(100_000.0, index=bars.index)
    expected[held] = shares * bars.loc[held, "close"]
    expected[bars.index >= "2024-04-08"] = shares * bars.loc["2024-04-08", "open"]
    np.testing.assert_allclose(run.equity["equity"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    bench = pd.read_csv(prices_dir / "SH000300.csv")["close"].to_numpy()
    np.testing.assert_allclose(run.equity["benchmark"].to_numpy(), bench / bench[0] * 100_000, rtol=1e-12)
    assert run.stats["total_return"] == pytest.approx(expected.iloc[-1] / 100_000 - 1)
    # positions.csv: fully invested while held, value = shares × close (no cash left: lots off, no costs)
    pos = run.positions.set_index("date")
    assert list(pos.index) == list(bars.index[held])
    np.testing.assert_allclose(pos["shares"], round(shares, 6), rtol=0, atol=1e-6)
    np.testing.assert_allclose(pos["value"], shares * bars.loc[held, "close"], rtol=1e-10)
    np.testing.assert_allclose(pos["weight"], 1.0, rtol=1e-10)


def test_downgrade_by_the_same_broker_exits_and_weekend_publication_enters_monday(config_file):
    run = run_backtest(load_backtest_config(config_file(params="{brokers: [BrokerB], max_weight: 1.0}")))
    fills = run.trades[run.trades["filled"]]
    assert list(fills["date"]) == [pd.Timestamp("2024-03-11"), pd.Timestamp("2024-03-21")]
    assert list(fills["side"]) == ["buy", "sell"]


def test_run_folder_layout(config_file, tmp_path):
    cfg = load_backtest_config(config_file())
    run = run_backtest(cfg)
    written = write_run(run, tmp_path / "out", "ratingbt backtest bt.yaml")
    assert sorted(p.name for p in written) == sorted(
        ["config.yaml", "equity.csv", "trades.csv", "positions.csv", "stats.json", "price_sources.csv"])
    sources = pd.read_csv(tmp_path / "out" / "price_sources.csv")
    assert set(sources["code"]) == {"600000.SH", "000001.SZ", "000300.SH"}   # every code says where it came from
    assert sources["file"].str.endswith(".csv").all() and sources["sha256"].str.len().eq(64).all()
    equity = pd.read_csv(tmp_path / "out" / "equity.csv")
    assert list(equity.columns) == ["date", "equity", "cash", "benchmark"]
    assert len(equity) == len(SESSIONS)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["total_return"] == pytest.approx(equity["equity"].iloc[-1] / 100_000 - 1, rel=1e-6)
    positions = pd.read_csv(tmp_path / "out" / "positions.csv")
    # two names at 50 % each while both are held
    both = positions.groupby("date")["code"].count() == 2
    assert both.any()
    assert "ratingbt backtest bt.yaml" in (tmp_path / "out" / "config.yaml").read_text()


def test_sweep_runs_every_variant_and_variant_zero_matches_the_detailed_run(config_file):
    cfg = load_backtest_config(config_file(params="{max_weight: [0.5, 1.0], stop_loss: [0.0, 0.02]}"))
    run = run_backtest(cfg)
    assert len(run.sweep) == 4
    assert list(run.sweep["max_weight"]) == [0.5, 0.5, 1.0, 1.0]
    assert list(run.sweep["stop_loss"]) == [0.0, 0.02, 0.0, 0.02]
    assert run.sweep.loc[0, "total_return"] == pytest.approx(run.stats["total_return"], rel=1e-12)
    assert run.sweep["total_return"].nunique() > 1


def test_config_errors_name_the_key_and_allowed_values(config_file, tmp_path):
    with pytest.raises(ConfigError, match=r"portfolio.execution.*'open' or 'close'"):
        load_backtest_config(config_file(extra=""), {"portfolio": {"execution": "vwap"}})
    with pytest.raises(ConfigError, match=r"portfolio.cassh: unknown key"):
        load_backtest_config(config_file(), {"portfolio": {"cassh": 1}})
    with pytest.raises(ConfigError, match=r"bt.yaml: strategy.params: weighting.*'equal' or 'conviction'"):
        load_backtest_config(config_file(params="{weighting: biggest}"))  # checked when the config loads
    cfg = load_backtest_config(config_file(params="{}"))
    cfg = cfg.model_copy(update={"strategy": cfg.strategy.model_copy(update={"name": "nope"})})
    with pytest.raises(ValueError, match="available: follow_ratings, hedged, target_weights"):
        run_backtest(cfg)


def test_cli_writes_the_run_and_prints_a_summary(config_file, tmp_path):
    result = CliRunner().invoke(app, ["backtest", config_file(), "--output", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "excess return" in result.output
    assert (tmp_path / "runs" / "test-run" / "equity.csv").is_file()


def test_cli_says_what_is_missing_without_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("RATINGBT_SHARED", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(app, ["backtest", "configs/seeds.yaml"])
    assert result.exit_code == 2
    assert "signals.reports" in result.output and "RATINGBT_SHARED" in result.output


def test_hedged_strategy_subtracts_the_benchmark_overlay(config_file, tmp_path):
    long_only = run_backtest(load_backtest_config(config_file()))
    cfg = load_backtest_config(config_file(),  # strategy parameters are checked against the strategy at load
                               {"strategy": {"name": "hedged", "params": {"max_weight": 0.5, "hedge_ratio": 1.0}}})
    hedged = run_backtest(cfg)
    long_value = (long_only.equity["equity"] - long_only.equity["cash"]).shift(1).fillna(0.0)
    bench_ret = long_only.equity["benchmark"].pct_change().fillna(0.0)
    expected = long_only.equity["equity"] - (long_value * bench_ret).cumsum()
    np.testing.assert_allclose(hedged.equity["equity"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert not np.allclose(hedged.equity["equity"], long_only.equity["equity"])


def test_sessions_per_year_come_from_the_exchange_calendar():
    from engine.backtest.run import calendar_sessions_per_year

    # 2024 had 242 Shanghai sessions (published SSE calendar)
    assert calendar_sessions_per_year(pd.bdate_range("2024-03-01", "2024-05-31").to_numpy(), "000300.SH") == 242.0


def test_fx_file_errors_name_the_file_and_line(config_file, tmp_path):
    from engine.backtest.run import _fx

    good = tmp_path / "fx.csv"
    good.write_text("date,rate\n2024-03-01,0.91\n2024-03-15,0.92\n", encoding="utf-8")
    cfg = load_backtest_config(config_file(), {"portfolio": {"fx": str(good)}})
    assert _fx(cfg).tolist() == [0.91, 0.92]
    bad = tmp_path / "fx_bad.csv"
    bad.write_text("date,rate\n2024-03-01,0.91\n2024-03-15,-1\n", encoding="utf-8")
    cfg = load_backtest_config(config_file(), {"portfolio": {"fx": str(bad)}})
    with pytest.raises(ConfigError, match=r"fx_bad.csv, line 3: rate must be a positive number"):
        _fx(cfg)


def test_target_weights_file_through_the_runner(config_file, tmp_path):
    weights = tmp_path / "weights.csv"
    weights.write_text("date,600000.SH,000001.SZ\n2024-03-11,0.5,0.5\n2024-03-25,0,1.0\n", encoding="utf-8")
    cfg = load_backtest_config(config_file(), {"period": {"start": "2024-03-01"},
                                               "strategy": {"name": "target_weights", "params": {"path": str(weights)}}})
    run = run_backtest(cfg)
    fills = run.trades[run.trades["filled"]]
    # each row trades at the open of its own date
    assert set(fills["date"]) == {pd.Timestamp("2024-03-11"), pd.Timestamp("2024-03-25")}
    last = run.positions[run.positions["date"] == run.positions["date"].max()]
    assert list(last["code"]) == ["000001.SZ"]


def test_default_end_stops_at_the_last_price_of_a_held_stock(config_file, prices_dir):
    path = prices_dir / "SZ000001.csv"
    bars = pd.read_csv(path)
    bars[bars["date"] <= "2024-03-15"].to_csv(path, index=False)   # data ends while BrokerB's pick is held
    run = run_backtest(load_backtest_config(config_file()))
    assert run.equity.index[-1] == pd.Timestamp("2024-03-15")
    assert any("000001.SZ" in m for m in run.messages)
    # with period.end set the run goes on and the stock keeps its last value
    longer = run_backtest(load_backtest_config(config_file(), {"period": {"start": "2024-03-01",
                                                                          "end": "2024-04-25"}}))
    assert longer.equity.index[-1] == pd.Timestamp("2024-04-25") and not longer.messages


def test_run_statistics_recomputed_from_the_price_files(config_file, prices_dir):
    """stats of a run against plain pandas on the CSV rows: benchmark and excess return, Sharpe, beta, turnover and
    costs (commission 2.5 bp with a 5 CNY minimum, stamp duty and fees on: ``costs: default``)."""
    cfg = load_backtest_config(config_file(), {"portfolio": {"cash": 100_000, "costs": "default",
                                                             "rules": {"lots": False}}})
    run = run_backtest(cfg)
    csi = pd.read_csv(prices_dir / "SH000300.csv", parse_dates=["date"]).set_index("date")["close"]
    equity = run.equity["equity"]
    periods = run.stats["sessions_per_year"]
    assert periods == 242.0   # 2024's Shanghai sessions
    bench_total = csi.iloc[-1] / csi.iloc[0] - 1
    total = equity.iloc[-1] / 100_000 - 1
    assert run.stats["benchmark_total_return"] == pytest.approx(bench_total, abs=1e-12)
    assert run.stats["excess_return"] == pytest.approx(total - bench_total, abs=1e-12)
    r, rb = equity.pct_change().iloc[1:], csi.pct_change().iloc[1:]
    assert run.stats["sharpe"] == pytest.approx(r.mean() / r.std() * np.sqrt(242), rel=1e-10)
    assert run.stats["beta"] == pytest.approx(np.cov(r, rb, ddof=0)[0, 1] / rb.var(ddof=0), rel=1e-10)
    fills = run.trades[run.trades["filled"]]
    assert run.stats["costs_paid"] == pytest.approx(fills["fees"].sum(), rel=1e-12) and fills["fees"].sum() > 0
    years = (len(equity) - 1) / 242
    assert run.stats["turnover"] == pytest.approx(fills["value"].sum() / 2 / equity.mean() / years, rel=1e-12)


def test_period_starting_on_an_entry_session_still_enters(config_file, prices_dir):
    """period.start = 2024-03-08, the entry session of signal a (published 03-07). With next-open execution the
    first session's row has no decision row before it: the buy fills at the next open (03-11), not never (before
    the fix the run held cash throughout) and not earlier. With close execution it fills at the 03-08 close."""
    from engine.backtest.run import to_decision_rows

    params = "{max_weight: 1.0, brokers: [BrokerA]}"
    bars = pd.read_csv(prices_dir / "SH600000.csv", parse_dates=["date"]).set_index("date")
    for execution, day, col in (("open", "2024-03-11", "open"), ("close", "2024-03-08", "close")):
        cfg = load_backtest_config(config_file(params=params), {
            "period": {"start": "2024-03-08"},
            "portfolio": {"cash": 100_000, "costs": "none", "rules": {"lots": False}, "execution": execution}})
        run = run_backtest(cfg)
        assert run.equity.index[0] == pd.Timestamp("2024-03-08")
        buy = run.trades[run.trades["filled"]].iloc[0]
        assert (buy["side"], buy["date"]) == ("buy", pd.Timestamp(day))
        assert buy["price"] == pytest.approx(bars.loc[day, col], abs=1e-12)
    nan = np.nan
    w = np.array([[0.5, 0.2], [nan, 0.3], [nan, nan]])
    # row 0 → decision row 0 where row 1 is silent (asset 0); row 1 wins where it speaks (asset 1)
    np.testing.assert_array_equal(to_decision_rows(w, "open"), [[0.5, 0.3], [nan, nan], [nan, nan]])
    np.testing.assert_array_equal(to_decision_rows(w, "close"), w)
