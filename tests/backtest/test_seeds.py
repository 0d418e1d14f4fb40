"""The seed config on the real shared data (skipped without ../shared; offline: no network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import run_backtest
from engine.config import load_backtest_config


def test_seeds_follow_bullish_ratings_against_csi300(shared, monkeypatch):
    monkeypatch.setenv("RATINGBT_SHARED", str(shared))
    cfg = load_backtest_config("configs/seeds.yaml", {"data": {"providers": ["local"], "prices_dir":
                                                                 "shared:data/prices", "offline": True}})
    with pytest.warns(UserWarning):  # 06082.HK has no prices offline
        run = run_backtest(cfg)
    followed = run.signals[(run.signals["kind"] == "rating") & (run.signals["rating_level"] >= 1)]
    buys = run.trades[run.trades["filled"] & (run.trades["side"] == "buy")]
    assert len(buys) >= 5
    sessions = pd.DatetimeIndex(run.panel.sessions)
    for trade in buys.itertuples():
        published = followed.loc[followed["code"] == trade.code, "report_date"].min()
        # bought at the open of the first session strictly after publication
        assert trade.date == sessions[sessions.searchsorted(published, side="right")]
    bench = pd.read_csv(shared / "data" / "prices" / "SH000300.csv", parse_dates=["date"]).set_index("date")["close"]
    bench = bench.reindex(run.equity.index)
    np.testing.assert_allclose(run.equity["benchmark"], bench / bench.iloc[0] * cfg.portfolio.cash, rtol=1e-9)
    assert run.stats["benchmark"] == "000300.SH" and np.isfinite(run.stats["excess_return"])
    # excess = the equity curve's total return − CSI 300's over the same sessions, from SH000300.csv directly
    total = run.equity["equity"].iloc[-1] / cfg.portfolio.cash - 1
    assert run.stats["excess_return"] == pytest.approx(total - (bench.iloc[-1] / bench.iloc[0] - 1), abs=1e-12)
