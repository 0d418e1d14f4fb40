"""Scorecard statistics against scipy: Wilson interval, t statistic, Spearman IC; event-study aggregation by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from engine.score import run_scoring
from engine.score.stats import rank_average, spearman, t_stat, wilson_interval
from tests.score.helpers import make_panel, make_signals


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (3, 10), (43, 100), (0, 25), (25, 25), (517, 1203)])
def test_wilson_against_scipy(k, n):
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_empty():
    assert all(np.isnan(wilson_interval(0, 0)))


def test_t_stat_against_scipy():
    rng = np.random.default_rng(7)
    for size in (2, 5, 40, 1000):
        x = rng.normal(0.01, 0.2, size)
        assert t_stat(x) == pytest.approx(sps.ttest_1samp(x, 0.0).statistic, abs=1e-10)
    assert np.isnan(t_stat(np.array([0.1]))) and np.isnan(t_stat(np.array([0.1, 0.1])))
    assert t_stat(np.array([0.1, np.nan, 0.3])) == pytest.approx(sps.ttest_1samp([0.1, 0.3], 0).statistic)


def test_spearman_against_scipy_with_ties():
    rng = np.random.default_rng(11)
    for size in (3, 10, 200):
        levels = rng.integers(-2, 3, size).astype(float)   # rating levels: many ties
        excess = rng.normal(0, 0.2, size) + 0.05 * levels
        want = sps.spearmanr(levels, excess).statistic
        if np.isnan(want):
            assert np.isnan(spearman(levels, excess))
        else:
            assert spearman(levels, excess) == pytest.approx(want, abs=1e-12)
    x = np.array([1.0, 2.0, 2.0, 3.0, np.nan])
    np.testing.assert_allclose(rank_average(x[:4]), sps.rankdata(x[:4]))
    assert np.isnan(spearman(np.ones(5), np.arange(5.0)))


def _many_signals():
    rng = np.random.default_rng(3)
    n_sessions = 120
    dates = pd.bdate_range("2024-01-01", periods=n_sessions).strftime("%Y-%m-%d").tolist()
    closes = {"000300.SH": list(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n_sessions))))}
    codes = [f"6000{i:02d}.SH" for i in range(10)]
    for c in codes:
        closes[c] = list(10 * np.exp(np.cumsum(rng.normal(0, 0.02, n_sessions))))
    panel = make_panel(dates, closes)
    rows = []
    for i in range(60):
        lvl = int(rng.integers(-1, 3))
        rows.append(dict(code=codes[i % 10], broker=["A", "B"][i % 2], report_date=dates[int(rng.integers(0, 70))],
                         horizon_months="1", rating={2: "买入", 1: "增持", 0: "中性", -1: "减持"}[lvl],
                         rating_level=lvl, band_low={2: 0.1, 1: 0.0, 0: -0.05, -1: np.nan}[lvl],
                         band_high={2: np.nan, 1: 0.1, 0: 0.05, -1: -0.05}[lvl], analysts="张三, 李四" if i % 3 else "",
                         action=["reiterate", "upgrade", ""][i % 3]))
    return panel, make_signals(rows)


def test_scorecard_statistics_against_scipy():
    panel, signals = _many_signals()
    result = run_scoring(signals, panel)
    scores, card = result.scores, result.scorecard
    for broker in ("A", "B"):
        rows = scores[(scores["broker"] == broker) & scores["complete"]]
        got = card[(card["group_by"] == "broker") & (card["group"] == broker)].iloc[0]
        hits = rows["hit"].astype(bool)
        ci = sps.binomtest(int(hits.sum()), len(hits)).proportion_ci(method="wilson")
        assert got["n_hits"] == hits.sum() and got["hit_rate"] == pytest.approx(hits.mean(), abs=1e-12)
        assert (got["hit_rate_low"], got["hit_rate_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert got["excess_t_stat"] == pytest.approx(sps.ttest_1samp(rows["excess_return"], 0).statistic, abs=1e-9)
        assert got["ic_spearman"] == pytest.approx(
            sps.spearmanr(rows["rating_level"], rows["excess_return"]).statistic, abs=1e-12)
        assert got["median_excess"] == pytest.approx(rows["excess_return"].median(), abs=1e-15)
        assert got["direction_hit_rate"] == pytest.approx(rows["direction_hit"].astype(bool).mean(), abs=1e-12)
        assert got["share_bullish"] == pytest.approx((scores.loc[scores["broker"] == broker, "rating_level"] > 0)
                                                     .mean(), abs=1e-12)
    analysts = card[card["group_by"] == "analyst"].set_index("group")
    assert analysts.loc["张三", "n_signals"] == analysts.loc["李四", "n_signals"] == 40
    assert analysts.loc["(unknown)", "n_signals"] == 20
    assert set(card["group_by"]) == {"all", "broker", "analyst", "rating", "action", "market"}


def test_event_study_by_hand():
    panel, signals = _many_signals()
    result = run_scoring(signals, panel)
    study = result.event_study
    assert study["offset"].max() == 250
    # mean cumulative excess of the +2 ratings 5 sessions after publication, recomputed with pandas
    close = panel.frame("close")
    picks = signals[signals["rating_level"] == 2]
    values = []
    for row in picks.itertuples():
        base = close.index.get_indexer([row.report_date])[0]
        stock, bench = close[row.code], close["000300.SH"]
        values.append((stock.iloc[base + 5] / stock.iloc[base] - 1) - (bench.iloc[base + 5] / bench.iloc[base] - 1))
    values = np.array(values)
    got = study[(study["group_by"] == "rating_level") & (study["group"] == "+2") & (study["offset"] == 5)].iloc[0]
    assert got["n"] == len(values)
    assert got["mean_excess"] == pytest.approx(values.mean(), abs=1e-12)
    half = 1.959963984540054 * values.std(ddof=1) / np.sqrt(len(values))
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-12)
    # past the panel's end (120 sessions) there is no data
    late = study[(study["group_by"] == "kind") & (study["offset"] == 200)].iloc[0]
    assert late["n"] == 0 and np.isnan(late["mean_excess"])


def test_scorecard_touch_and_excess_columns_against_pandas():
    """touch_hit_rate, median_days_to_touch, mean_excess, n_complete recomputed from the closes with plain pandas
    (the window path, its first session inside the band and the calendar days from the base), not from ``scores``."""
    panel, signals = _many_signals()
    card = run_scoring(signals, panel).scorecard
    close = panel.frame("close")
    rates = {}
    for broker in ("A", "B"):
        touched, days, excess = [], [], []
        for row in signals[signals["broker"] == broker].itertuples():
            base = pd.Timestamp(row.report_date)
            end = close.index[close.index <= base + pd.DateOffset(months=1)][-1]
            s = close.loc[base:end, row.code] / close.loc[base, row.code] - 1
            b = close.loc[base:end, "000300.SH"] / close.loc[base, "000300.SH"] - 1
            path = (s - b).iloc[1:]
            inside = pd.Series(True, index=path.index)
            if np.isfinite(row.band_low):
                inside &= path >= row.band_low
            if np.isfinite(row.band_high):
                inside &= path <= row.band_high
            touched.append(bool(inside.any()))
            if inside.any():
                days.append((inside.index[inside.to_numpy()][0] - base).days)
            excess.append(path.iloc[-1])
        got = card[(card["group_by"] == "broker") & (card["group"] == broker)].iloc[0]
        assert got["n_complete"] == len(excess) == 30
        assert got["touch_hit_rate"] == pytest.approx(np.mean(touched), abs=1e-12)
        assert got["median_days_to_touch"] == pytest.approx(np.median(days), abs=1e-12)
        assert got["mean_excess"] == pytest.approx(np.mean(excess), abs=1e-12)
        rates[broker] = np.mean(touched)
    # the draw exercises both outcomes: some windows touch their band, some never do
    assert all(0 < rate < 1 for rate in rates.values())
