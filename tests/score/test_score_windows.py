"""Scoring conventions on small hand-made panels: base/end sessions, ranges, benchmarks, as-of, statuses, hits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.score import ScoreConfig, run_scoring
from engine.score.scales import Band, default_scale_lookup, realised_rating
from engine.score.windows import parse_horizon
from tests.score.helpers import make_panel, make_signals

# Sessions: a Monday-Friday week, a gap (holiday) and more sessions; the stock AAA = 300001.SZ, HK = 00700.HK
DATES = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
         "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12",
         "2024-02-01", "2024-02-02", "2024-02-05", "2024-02-06", "2024-03-01", "2024-03-04"]
NAN = np.nan
CSI = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115]
HSI = [200, 202, 204, 206, 208, 210, 212, 214, 216, 218, 220, 222, 224, 226, 228, 230]
STOCK = [10, 10.5, NAN, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5, NAN, 15, 16, 17, NAN]
HKSTOCK = [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65]


@pytest.fixture
def panel():
    return make_panel(DATES, {"000300.SH": CSI, "HSI": HSI, "300001.SZ": STOCK, "00700.HK": HKSTOCK})


def _score(panel, rows, **kw):
    return run_scoring(make_signals(rows), panel, **kw).scores


def test_base_on_non_session_and_suspension(panel):
    # published Sat 2024-01-06 → base = Fri 2024-01-05 (11.5); published Wed 01-03 (stock suspended) → 01-02 (10.5)
    scores = _score(panel, [dict(code="300001.SZ", report_date="2024-01-06", horizon_months="1"),
                            dict(code="300001.SZ", report_date="2024-01-03", horizon_months="1")])
    assert scores["base_date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-02")]
    assert scores["base_close"].tolist() == [11.5, 10.5]
    # the benchmark uses its own close on the base session: 104 on 01-05, 102 on 01-03 (the index traded)
    assert scores["bench_base_close"].tolist() == [104.0, 102.0]
    # horizon end: 2024-02-06 (a session) for the first; 2024-02-03 (Sat) → 2024-02-02 where the stock is
    # suspended → last traded close 14.5 on 2024-02-01, benchmark 111 on 2024-02-02
    assert scores["end_date"].tolist() == [pd.Timestamp("2024-02-06"), pd.Timestamp("2024-02-01")]
    assert scores["bench_end_date"].tolist() == [pd.Timestamp("2024-02-06"), pd.Timestamp("2024-02-02")]
    assert scores["stock_return"].tolist() == pytest.approx([16 / 11.5 - 1, 14.5 / 10.5 - 1], abs=1e-15)
    assert scores["excess_return"].tolist() == pytest.approx([16 / 11.5 - 113 / 104, 14.5 / 10.5 - 111 / 102],
                                                             abs=1e-15)
    assert scores["complete"].tolist() == [True, True]


def test_range_scored_at_both_ends_and_incomplete(panel):
    scores = _score(panel, [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1-2", band_low=0.1,
                                 rating="买入", rating_level=2)])
    assert scores["horizon_leg"].tolist() == ["short", "long"]
    assert scores["horizon_scored_months"].tolist() == [1, 2]
    # 1 month → 2024-02-02 (stock suspended → 14.5 from 02-01); 2 months → 2024-03-02 (Sat) → Fri 03-01: 17
    assert scores["end_close"].tolist() == [14.5, 17.0]
    assert scores["status"].tolist() == ["complete", "complete"]
    # the scorecard uses the long leg by default: one signal, not two
    card = run_scoring(make_signals([dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1-2")]),
                       panel).scorecard
    assert card.loc[card["group_by"] == "all", "n_signals"].sum() == 1


def test_window_past_last_price_scored_so_far(panel):
    # 3 months from 2024-01-02 = 2024-04-02, after the panel's last session (03-04) → incomplete, scored to the last
    # session both have: the stock's last bar is 2024-03-01 (03-04 missing) → both legs measured on 03-01
    scores = _score(panel, [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="3")])
    row = scores.iloc[0]
    assert row["status"] == "incomplete" and not row["complete"]
    assert row["end_date"] == pd.Timestamp("2024-03-01") and row["bench_end_date"] == pd.Timestamp("2024-03-01")
    assert row["excess_return"] == pytest.approx(17 / 10.5 - 114 / 101, abs=1e-15)


def test_as_of_cuts_prices_without_look_ahead(panel):
    rows = [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1"),
            dict(code="300001.SZ", report_date="2024-02-05", horizon_months="1")]
    base = _score(panel, rows, as_of="2024-01-10")
    # the first window (to 2024-02-02) is cut at 2024-01-10: so far 13 / 10.5
    assert base.iloc[0]["status"] == "incomplete" and base.iloc[0]["end_close"] == 13.0
    assert base.iloc[1]["status"] == "published after as-of" and np.isnan(base.iloc[1]["excess_return"])
    # changing prices after the as-of date changes nothing
    panel.close[10:, :] *= 3.0
    again = _score(panel, rows, as_of="2024-01-10")
    pd.testing.assert_frame_equal(base, again)


def test_as_of_perturbation_leaves_every_table_unchanged(panel):
    """Every array of the panel after the as-of session (2024-01-10, row 7) is perturbed by a non-constant factor,
    and a stock that starts trading only after it is added: scores, scorecard and event study are unchanged."""
    rows = [dict(code="300001.SZ", report_date=d, horizon_months=h, rating="买入", rating_level=2, band_low=0.1,
                 broker="X", action="reiterate") for d, h in (("2024-01-02", "1"), ("2024-01-05", "1-2"))]
    rows.append(dict(code="00700.HK", report_date="2024-01-03", horizon_months="1", kind="mention", broker="X"))
    before = run_scoring(make_signals(rows), panel, as_of="2024-01-10")
    after_row = 8
    factor = np.linspace(0.5, 3.0, len(DATES) - after_row)[:, None]
    for name in ("open", "high", "low", "close", "raw_close"):
        arr = getattr(panel, name)
        arr[after_row:] = arr[after_row:] * factor
    panel.close[after_row + 1, 2] = np.nan          # a suspension after as-of
    again = run_scoring(make_signals(rows), panel, as_of="2024-01-10")
    pd.testing.assert_frame_equal(before.scores, again.scores)
    pd.testing.assert_frame_equal(before.scorecard, again.scorecard)
    pd.testing.assert_frame_equal(before.event_study, again.event_study)
    assert before.event_study["n"].sum() > 0 and len(before.scorecard) > 0   # compared tables are not empty
    # and the same run without as-of does see the perturbed prices (the test can fail)
    assert not np.allclose(run_scoring(make_signals(rows), panel).scores["excess_return"],
                           before.scores["excess_return"], equal_nan=True)
    # the base is the close of the publication date (01-02: 10.5 / CSI 101), not a later one
    assert before.scores.loc[0, ["base_close", "bench_base_close"]].tolist() == [10.5, 101.0]
    # all windows end at or before as-of
    assert (before.scores["end_date"].dropna() <= pd.Timestamp("2024-01-10")).all()


def test_benchmark_by_market_and_given(panel):
    scores = _score(panel, [dict(code="00700.HK", report_date="2024-01-02", horizon_months="1"),
                            dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1"),
                            dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1", benchmark="^HSI")])
    assert scores["benchmark_used"].tolist() == ["HSI", "000300.SH", "HSI"]
    assert scores.iloc[0]["bench_return"] == pytest.approx(222 / 202 - 1, abs=1e-15)
    assert scores.iloc[2]["bench_return"] == pytest.approx(222 / 202 - 1, abs=1e-15)


def test_relative_mode(panel):
    row = run_scoring(make_signals([dict(code="00700.HK", report_date="2024-01-02", horizon_months="1")]), panel,
                      config=ScoreConfig(excess_mode="relative")).scores.iloc[0]
    assert row["excess_return"] == pytest.approx((61 / 51) / (222 / 202) - 1, abs=1e-15)


def test_statuses_no_price_data_and_mentions(panel):
    scores = _score(panel, [dict(code="600000.SH", report_date="2024-01-02"),                 # not in the panel
                            dict(code="300001.SZ", report_date="2023-12-01", horizon_months="1"),  # before 1st session
                            dict(code="300001.SZ", report_date="2024-01-02", kind="mention", horizon_months="1")])
    assert scores["status"].tolist() == ["no price data", "no base price", "complete"]
    assert pd.isna(scores.iloc[2]["hit"]) and np.isfinite(scores.iloc[2]["excess_return"])


def test_hits_direction_and_touch(panel):
    # stock from 10.5 (01-02) to 14.5 (02-02): +38.1 %; CSI 101 → 111: +9.9 % → excess +28.2 %
    rows = [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1", rating=r, rating_level=lvl,
                 band_low=lo, band_high=hi, broker="X")
            for r, lvl, lo, hi in (("买入", 2, 0.2, NAN), ("增持", 1, 0.05, 0.2), ("中性", 0, -0.05, 0.05),
                                   ("卖出", -2, NAN, -0.05))]
    scores = _score(panel, rows)
    assert scores["hit"].tolist() == [True, False, False, False]
    assert scores["direction_hit"].tolist() == [True, True, False, False]
    assert scores["touch_hit"].tolist() == [True, True, True, False]
    # realised band from the scale implied by the table (X has all four ratings): 28 % → 买入
    assert set(scores["realised_rating"]) == {"买入"}
    # touch of 增持 (≥ 5 %): 01-04: 11/10.5 − 103/101 = 0.0278; 01-05: 11.5/10.5 − 104/101 = 0.0655 → 01-05
    assert scores.iloc[1]["touch_date"] == pd.Timestamp("2024-01-05")
    assert scores.iloc[1]["sessions_to_touch"] == 3 and scores.iloc[1]["days_to_touch"] == 3.0


def test_parse_horizon():
    assert parse_horizon("12") == (12, 12)
    assert parse_horizon("6-12") == (6, 12)
    assert parse_horizon("6~12个月") == (6, 12)
    assert parse_horizon("12.0") == (12, 12)
    assert parse_horizon("") is None and parse_horizon(np.nan) is None
    with pytest.raises(ValueError, match="horizon_months 'soon'"):
        parse_horizon("soon")


def test_bad_horizon_noted_not_fatal(panel):
    scores = _score(panel, [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="soon")])
    assert "horizon_months 'soon'" in scores.iloc[0]["note"] and scores.iloc[0]["horizon_scored_months"] == 12


def test_realised_rating_bands():
    scale = [Band("推荐", 0.15, NAN), Band("谨慎推荐", 0.05, 0.15), Band("中性", -0.05, 0.05), Band("回避", NAN, -0.05)]
    assert [realised_rating(x, scale) for x in (0.30, 0.15, 0.10, 0.0, -0.05, -0.2)] == \
        ["推荐", "推荐", "谨慎推荐", "中性", "中性", "回避"]
    assert realised_rating(NAN, scale) == "" and realised_rating(0.1, []) == ""
    lookup = default_scale_lookup(None)
    assert lookup("平安证券（香港）", "HK")[1] == Band("推荐", 0.10, 0.20)
    assert lookup("unknown broker", "A") is None


def test_code_spellings_and_missing_fields(panel):
    scores = _score(panel, [dict(code="300001", report_date="2024-01-02", horizon_months="1"),
                            dict(code="", report_date="2024-01-02", kind="mention"),
                            dict(code="300001.SZ", report_date=None)])
    assert scores["status"].tolist() == ["complete", "no security code", "no report date"]
    assert scores.iloc[0]["end_close"] == 14.5


def test_horizon_ending_on_a_weekend_after_the_last_session_is_complete():
    """Published Fri 2024-01-05 with a 1-month horizon: 2024-02-05 is a Monday, so the end is 02-05. Published
    Thu 2024-01-04 → 2024-02-04 (Sunday) → last session on or before it = Fri 02-02. With the panel (or as-of)
    ending on Fri 02-02 the second window is over (no weekday left before its end); the first is not."""
    dates = ["2024-01-04", "2024-01-05", "2024-01-08", "2024-02-01", "2024-02-02"]
    panel = make_panel(dates, {"000300.SH": [100, 101, 102, 103, 104], "300001.SZ": [10, 10, 11, 11, 12]})
    rows = [dict(code="300001.SZ", report_date="2024-01-05", horizon_months="1"),
            dict(code="300001.SZ", report_date="2024-01-04", horizon_months="1")]
    scores = _score(panel, rows)
    assert scores["status"].tolist() == ["incomplete", "complete"]
    # 12 / 10 − 104 / 100 = 0.16 for the complete one (base 01-04: 10 and 100)
    assert scores.loc[1, "excess_return"] == pytest.approx(0.16, abs=1e-15)
    assert scores.loc[1, "end_date"] == pd.Timestamp("2024-02-02")
    # as-of on the Saturday after: same answer; as-of on Thursday 02-01: both still running
    assert _score(panel, rows, as_of="2024-02-03")["status"].tolist() == ["incomplete", "complete"]
    assert _score(panel, rows, as_of="2024-02-01")["status"].tolist() == ["incomplete", "incomplete"]


def test_on_scores_sees_the_scores_table_before_the_scorecard_is_built(panel, monkeypatch):
    import engine.score as score_module

    seen = []
    built = score_module.scorecard
    monkeypatch.setattr(score_module, "scorecard", lambda *a, **k: (seen.append("scorecard"), built(*a, **k))[1])
    rows = [dict(code="300001.SZ", report_date="2024-01-02", horizon_months="1", rating="买入", rating_level=2,
                 band_low=0.1, broker="X")]
    result = run_scoring(make_signals(rows), panel, on_scores=lambda scores: seen.append(scores))
    assert len(seen) == 2 and seen[1] == "scorecard"
    assert seen[0] is result.scores and len(result.scores) == 1
