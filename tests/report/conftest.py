"""Small explicit result tables for the report tests (shapes as the other stages write them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


EVIL = "<script>alert(1)</script>"


@pytest.fixture
def tables() -> dict:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2025-01-02", periods=160)
    equity = pd.DataFrame({
        "date": dates,
        "equity": 1_000_000 * np.cumprod(1 + rng.normal(0.0006, 0.012, len(dates))),
        "cash": 5_000.0,
        "benchmark": 3_800 * np.cumprod(1 + rng.normal(0.0002, 0.010, len(dates))),
    })
    scores = pd.DataFrame({
        "signal_id": [f"s{i}" for i in range(8)],
        "broker": ["民生证券"] * 5 + [EVIL] * 3,
        "rating": ["推荐"] * 5 + ["买入"] * 3,
        "excess_return": [0.12, -0.05, 0.30, 0.02, 0.18, -0.10, 0.07, 0.01],
        "complete": [True, True, True, False, False, True, True, False],
    })
    # the scoring stage's shapes: scorecard.csv (group_by/group/...) and event_study.csv (group_by/group/offset/...)
    scorecard = pd.DataFrame({
        "group_by": ["broker", "broker", "rating"], "group": ["民生证券", EVIL, "推荐"], "kind": ["rating"] * 3,
        "n_signals": [5, 3, 5], "n_complete": [3, 2, 3], "hit_rate": [0.4, 1 / 3, 0.4],
        "hit_rate_low": [0.12, 0.06, 0.12], "hit_rate_high": [0.77, 0.79, 0.77], "mean_excess": [0.114, -0.0067, 0.114],
    })
    event_study = pd.DataFrame([
        {"group_by": by, "group": g, "offset": s, "n": 10 - s // 10, "mean_excess": slope * s,
         "ci_low": slope * s - 0.01 if s else np.nan, "ci_high": slope * s + 0.01 if s else np.nan}
        for by, g, slope in (("rating_level", "+2", 0.0005), ("rating_level", "+1", 0.0001),
                             ("action", "upgrade", 0.0007), ("action", "(unknown)", -0.0002))
        for s in range(0, 61)
    ])
    trades = pd.DataFrame({"date": dates[:3], "code": ["688981.SH"] * 3, "side": ["buy", "sell", "buy"],
                           "size": [200, 200, 300], "price": [90.5, 95.25, 101.0], "fees": [5.0, 9.76, 5.0]})
    screen = pd.DataFrame([{
        "code": "688981.SH", "name": "中芯国际", "market": "A", "broker": EVIL, "rating": "推荐", "rating_level": 2.0,
        "band_low": 0.15, "band_high": np.nan, "benchmark": "000300.SH", "report_date": pd.Timestamp("2025-05-07"),
        "date_inferred": True, "horizon_months": "12", "horizon_end": pd.Timestamp("2026-05-07"),
        "base_date": pd.Timestamp("2025-05-07"), "price_date": pd.Timestamp("2026-02-27"), "sessions_elapsed": 197,
        "sessions_left": 45, "price_then": 90.5, "price_now": 115.0, "currency": "CNY",
        "stock_return": 0.2707, "benchmark_return": 0.2294, "excess_return": 0.0413, "status": "below",
        "excess_needed": 0.1087, "target_price": np.nan, "upside_left": np.nan, "n_brokers": 1,
        "consensus_level": 2.0, "superseded": False, "note": "", "signal_id": "002-688981.SH",
    }])
    stats = {"Total Return [%]": 12.5, "sharpe_ratio": 1.234, "max_drawdown": -0.1234, "trades": 3}
    config = {"name": EVIL, "reports": ["../shared/seeds"], "broker_note": EVIL}
    return dict(equity=equity, scores=scores, scorecard=scorecard, event_study=event_study, trades=trades,
                screen=screen, stats=stats, config=config)
