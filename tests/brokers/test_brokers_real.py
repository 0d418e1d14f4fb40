"""The real ratings of ../shared/data/ratings/ on the whole-market prices: coverage of the league table, and an
independent check of 200 random ratings computed with plain pandas from the market file and the CSI 300 file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.brokers.run import run_from_config
from engine.brokers.settings import load_brokers_config
from engine.paths import REPO_ROOT
from engine.signals.scales import load_registry

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def real_run(shared):
    cfg = load_brokers_config(REPO_ROOT / "configs" / "real_ratings.yaml")
    return run_from_config(cfg)


def test_league_covers_every_broker_with_20_ratings(real_run, shared):
    raw = pd.read_csv(shared / "data" / "ratings" / "ratings_2024_2025.csv", dtype=str)
    registry = load_registry()
    counts = real_run.signals.groupby("broker").size()
    expected = set(counts[counts >= 20].index)
    brokers = real_run.league[real_run.league["group_by"] == "broker"].set_index("group")
    assert set(brokers.index) == expected
    assert len(expected) >= 40 and counts.sum() >= 0.99 * len(raw)
    judged = 0
    for name, row in brokers.iterrows():
        scale = registry.get(name)
        if scale is not None and scale.stock is not None and row["n_hit_eligible"] > 0:
            assert row["scale"].startswith("registry:") and row["rank_basis"] == "own band"
            judged += 1
        elif row["n_hit_eligible"] == 0 and row["n_direction"] > 0:
            assert row["judged_by"] == "no scale: direction and excess only"
    assert judged >= 1
    assert set(real_run.events["action"]) >= {"upgrade", "downgrade", "initiate", "reiterate"}


def test_200_random_ratings_match_plain_pandas(real_run, shared):
    """Excess return, realised band and hit of the kernel against pandas on the market and CSI 300 files."""
    scores = real_run.scores
    scores = scores[scores["complete"] & scores["horizon_leg"].isin(("single", "long"))]
    sample = scores.sample(200, random_state=20251129)
    market = pd.read_parquet(shared / "data" / "market" / "ashare_daily_2024_2025.parquet",
                             columns=["code", "date", "close"])
    market["date"] = pd.to_datetime(market["date"])
    codes = {c.split(".")[0] for c in real_run.signals["code"]}
    sessions = pd.DatetimeIndex(sorted(market.loc[market["code"].isin(codes), "date"].unique()))
    csi = pd.read_csv(shared / "data" / "prices" / "SH000300.csv", parse_dates=["date"]).set_index("date")["close"]
    csi = csi[csi.index.isin(sessions)]
    registry = load_registry()
    checked_band = 0
    for row in sample.itertuples():
        stock = market[market["code"] == row.code.split(".")[0]].set_index("date")["close"]
        base_day = sessions[sessions <= row.report_date][-1]
        end_day = sessions[sessions <= row.report_date + pd.DateOffset(months=int(row.horizon_scored_months))][-1]
        s0, s1 = stock[stock.index <= base_day].iloc[-1], stock[stock.index <= end_day].iloc[-1]
        b0, b1 = csi[csi.index <= base_day].iloc[-1], csi[csi.index <= end_day].iloc[-1]
        excess = (s1 / s0 - 1) - (b1 / b0 - 1)
        assert row.excess_return == pytest.approx(excess, abs=1e-12), row.signal_id
        low, high = row.band_low, row.band_high
        if np.isfinite(low) or np.isfinite(high):
            inside = (not np.isfinite(low) or excess >= low) and (not np.isfinite(high) or excess <= high)
            assert bool(row.hit) == inside, row.signal_id
        else:
            assert pd.isna(row.hit)
        scale = registry.get(row.broker)
        band = ""
        if scale is not None and scale.stock is not None:
            for b in scale.stock.bands:
                if (b.low is None or excess >= b.low) and (b.high is None or excess <= b.high):
                    band = b.rating
                    break
            checked_band += 1
        assert row.realised_rating == band, row.signal_id
    assert len(sample) == 200
