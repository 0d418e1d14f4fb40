"""Two seed signals worked by hand from the real price files in ``../shared/data/prices``.

1. 民生证券 (seed 000): 景嘉微 300474.SZ, published 2024-03-01, 12 months vs CSI 300, scored as a 推荐 rating (the
   ingest step records it as a mention under the industry's 推荐; here it is given the rating to work the band by hand).
2. 民生证券 (seed 002): 中芯国际 688981.SH, 推荐; the report prints no date, its prices are the 2025-05-06 close, so
   the publication date is inferred as the next session, 2025-05-07. SH688981.csv ends 2026-02-27, before the horizon
   end 2026-05-07: the window is incomplete and scored so far.

民生证券's stock scale (excess vs CSI 300 over 12 months): 推荐 >15 %, 谨慎推荐 5..15 %, 中性 −5..5 %, 回避 < −5 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.panel import panel_from_frames
from engine.score import run_scoring
from engine.score.scales import Band, realised_rating
from engine.score.scorecard import scorecard
from tests.score.helpers import MINSHENG, make_signals

MINSHENG_SCALE = [Band("推荐", 0.15, np.nan), Band("谨慎推荐", 0.05, 0.15), Band("中性", -0.05, 0.05),
                  Band("回避", np.nan, -0.05)]


def _csv(shared, stem: str) -> pd.DataFrame:
    return pd.read_csv(shared / "data" / "prices" / f"{stem}.csv", parse_dates=["date"]).set_index("date")


@pytest.fixture(scope="module")
def seed_result(shared):
    frames = {"300474.SZ": _csv(shared, "SZ300474"), "688981.SH": _csv(shared, "SH688981"),
              "000300.SH": _csv(shared, "SH000300")}
    panel = panel_from_frames(frames)
    signals = make_signals([
        dict(MINSHENG, code="300474.SZ", name="景嘉微", rating="推荐", rating_level=2, report_date="2024-03-01",
             band_low=0.15, action="reiterate"),
        dict(MINSHENG, code="688981.SH", name="中芯国际", rating="推荐", rating_level=2, report_date="2025-05-07",
             date_inferred=True, band_low=0.15, price_at_report=89.90, price_date="2025-05-06"),
        dict(broker="平安证券(香港)", code="06082.HK", name="壁仞科技", rating="强烈推荐", rating_level=2,
             report_date="2026-06-03", benchmark="HSI", band_low=0.20),
    ])
    return run_scoring(signals, panel, scale_lookup=lambda broker, market: MINSHENG_SCALE), frames


def test_300474_by_hand(seed_result):
    result, frames = seed_result
    row = result.scores.iloc[0]
    # base: 2024-03-01 is a session; SZ300474.csv close 65.88, SH000300.csv close 3537.804
    assert row["base_date"] == pd.Timestamp("2024-03-01") and row["bench_base_date"] == pd.Timestamp("2024-03-01")
    assert row["base_close"] == 65.88 and row["bench_base_close"] == 3537.804
    # horizon end: 2024-03-01 + 12 months = 2025-03-01 (a Saturday) → last session on or before: Fri 2025-02-28
    assert row["horizon_end_date"] == pd.Timestamp("2025-03-01")
    assert row["end_date"] == pd.Timestamp("2025-02-28") and row["bench_end_date"] == pd.Timestamp("2025-02-28")
    assert row["end_close"] == 90.23 and row["bench_end_close"] == 3890.049
    # stock 90.23 / 65.88 − 1 = 0.369611…; CSI 300 3890.049 / 3537.804 − 1 = 0.099566…; excess = 0.270045…
    assert row["stock_return"] == pytest.approx(0.369611414693382, abs=1e-12)
    assert row["bench_return"] == pytest.approx(0.09956600196053822, abs=1e-12)
    assert row["excess_return"] == pytest.approx(0.27004541273284377, abs=1e-12)
    # 27.0 % > 15 % → realised 推荐 = the rating given: hit, and bullish beat the benchmark: direction hit
    assert row["realised_rating"] == "推荐"
    assert bool(row["hit"]) and bool(row["direction_hit"]) and bool(row["complete"])
    assert row["status"] == "complete"
    # recompute from the CSV rows directly
    stock, bench = frames["300474.SZ"]["close"], frames["000300.SH"]["close"]
    want = (stock["2025-02-28"] / stock["2024-03-01"] - 1) - (bench["2025-02-28"] / bench["2024-03-01"] - 1)
    assert row["excess_return"] == pytest.approx(want, abs=1e-12)
    # touch: first session in the window with excess ≥ 15 %, from the CSVs
    window = slice(pd.Timestamp("2024-03-04"), pd.Timestamp("2025-02-28"))
    path = (stock[window] / stock["2024-03-01"] - 1) - (bench[window] / bench["2024-03-01"] - 1)
    assert row["touch_date"] == path.index[path >= 0.15][0]
    assert row["best_excess"] == pytest.approx(path.max(), abs=1e-12)
    assert row["worst_excess"] == pytest.approx(path.min(), abs=1e-12)


def test_688981_inferred_date_incomplete(seed_result):
    result, frames = seed_result
    row = result.scores.iloc[1]
    assert bool(row["date_inferred"])
    # base: inferred publication date 2025-05-07 (the session after the 2025-05-06 price date):
    # close 90.50, CSI 300 3831.627
    assert row["base_date"] == pd.Timestamp("2025-05-07") and row["base_close"] == 90.5
    assert row["bench_base_close"] == 3831.627
    # horizon end 2026-05-07, but SH688981.csv ends 2026-02-27 → scored so far to 2026-02-27 for both legs
    assert row["horizon_end_date"] == pd.Timestamp("2026-05-07")
    assert row["end_date"] == pd.Timestamp("2026-02-27") and row["bench_end_date"] == pd.Timestamp("2026-02-27")
    assert row["end_close"] == 115.0 and row["bench_end_close"] == 4710.647
    # stock 115.0 / 90.5 − 1 = 0.270718…; CSI 300 4710.647 / 3831.627 − 1 = 0.229412…; excess 0.041307 (so far)
    assert row["stock_return"] == pytest.approx(0.270718232044199, abs=1e-12)
    assert row["bench_return"] == pytest.approx(0.2294116833397406, abs=1e-12)
    assert row["excess_return"] == pytest.approx(0.04130654870445838, abs=1e-12)
    stock, bench = frames["688981.SH"]["close"], frames["000300.SH"]["close"]
    want = (stock["2026-02-27"] / stock["2025-05-07"] - 1) - (bench["2026-02-27"] / bench["2025-05-07"] - 1)
    assert row["excess_return"] == pytest.approx(want, abs=1e-12)
    # 4.1 % lies in −5..5 % → realised 中性; not inside 推荐's >15 % band so far → hit False; incomplete
    assert row["realised_rating"] == "中性" == realised_rating(want, MINSHENG_SCALE)
    assert not bool(row["hit"]) and bool(row["direction_hit"])
    assert not bool(row["complete"]) and row["status"] == "incomplete"


def test_no_price_data_kept_and_incomplete_excluded(seed_result):
    result, _ = seed_result
    hk = result.scores.iloc[2]
    assert hk["code"] == "06082.HK" and hk["status"] == "no price data" and np.isnan(hk["excess_return"])
    card = scorecard(result.scores)
    ms = card[(card["group_by"] == "broker") & (card["group"] == "民生证券")].iloc[0]
    # 300474 complete (hit), 688981 incomplete → excluded from the hit rate
    counts = ("n_signals", "n_complete", "n_incomplete", "n_hit_eligible", "n_hits")
    assert tuple(ms[c] for c in counts) == (2, 1, 1, 1, 1)
    assert ms["mean_excess"] == pytest.approx(0.27004541273284377, abs=1e-12)
    assert ms["mean_excess_incomplete"] == pytest.approx(0.04130654870445838, abs=1e-12)
    pa = card[(card["group_by"] == "broker") & (card["group"] == "平安证券(香港)")].iloc[0]
    assert (pa["n_signals"], pa["n_no_price"], pa["n_complete"]) == (1, 1, 0)
