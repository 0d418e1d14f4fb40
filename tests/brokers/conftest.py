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
