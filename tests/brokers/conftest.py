"""Synthetic scores tables for the league and ranking tests (written for these tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_scores(spec: list[tuple[str, int, int, bool]], analysts: dict[str, str] | None = None,
                seed: int = 0) -> pd.DataFrame:
    """Rows of a scores table: ``spec`` = (broker, n complete ratings, n band hits, has a band). Bullish ratings
    (level 2); a band hit is an excess of +20 % in the band [15 %, open), a miss −5 %; direction follows the sign."""
    rng = np.random.default_rng(seed)
    rows = []
    for broker, n, hits, band in spec:
        for i in range(n):
            hit = i < hits
            excess = 0.20 + rng.uniform(0, 0.01) if hit else -0.05 - rng.uniform(0, 0.01)
            rows.append({
                "signal_id": f"{broker}-{i}", "broker": broker, "analysts": (analysts or {}).get(broker, ""),
                "rating": "买入", "market": "A", "kind": "rating", "action": "reiterate", "horizon_leg": "single",
                "horizon_months": "12" if band else "", "horizon_scored_months": 12, "status": "complete",
                "complete": True, "hit": hit if band else pd.NA, "direction_hit": excess > 0,
                "touch_hit": hit if band else pd.NA, "excess_return": excess, "days_to_touch": 30.0 if hit else np.nan,
                "rating_level": 2.0, "band_low": 0.15 if band else np.nan, "band_high": np.nan,
                "scale_source": "", "target_price": np.nan, "code": f"{600000 + i:06d}.SH",
                "report_date": pd.Timestamp("2024-01-02") + pd.Timedelta(days=i),
            })
    frame = pd.DataFrame(rows)
    for col in ("hit", "direction_hit", "touch_hit"):
        frame[col] = frame[col].astype("boolean")
    return frame


@pytest.fixture
def scores_factory():
    return make_scores


@pytest.fixture
def small_world(tmp_path):
    """A tiny market: 6 stocks + CSI 300 over 2024-01 → 2025-06 (long parquet + SH000300.csv) and 120 ratings of
    three brokers (民生证券 has a registry scale; the others do not) in the shared file's column names."""
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2024-01-02", "2025-06-30")
    codes = ["600001", "600002", "000003", "000004", "300005", "688006"]
    rows = []
    for code in codes:
        close = 10 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, len(days))))
        rows.append(pd.DataFrame({"code": code, "date": days, "open": close, "high": close * 1.01,
                                  "low": close * 0.99, "close": close, "volume": 1000.0}))
    market = tmp_path / "market.parquet"
    pd.concat(rows, ignore_index=True).to_parquet(market, index=False)
    bench_dir = tmp_path / "prices"
    bench_dir.mkdir()
    level = 3500 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": level, "high": level, "low": level, "close": level,
                  "volume": 1e9}).to_csv(bench_dir / "SH000300.csv", index=False)
    ratings = []
    brokers = [("民生证券", ["推荐", "谨慎推荐"]), ("甲证券", ["买入", "增持"]), ("乙证券", ["买入", "中性"])]
    for i in range(120):
        broker, words = brokers[i % 3]
        day = days[rng.integers(0, 300)]
        ratings.append({"date": day.strftime("%Y-%m-%d"), "broker": broker, "code": codes[i % 6] + (
            ".SH" if codes[i % 6].startswith("6") else ".SZ"), "name": f"股票{i % 6}", "rating": words[i % 2],
            "rating_std": "", "rating_change": "首次" if i < 6 else "", "analyst": f"分析师{i % 4},分析师{(i + 1) % 4}",
            "title": "t", "source": "synthetic"})
    path = tmp_path / "ratings.csv"
    pd.DataFrame(ratings).to_csv(path, index=False)
    return {"ratings": path, "market": market, "bench": bench_dir / "SH000300.csv", "root": tmp_path}
