"""League table columns against hand counts on synthetic scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, spearmanr, ttest_1samp

from engine.brokers.league import LEAGUE_COLUMNS, league_table


def test_counts_rates_and_intervals(scores_factory):
    scores = scores_factory([("A证券", 40, 25, True), ("B证券", 25, 10, False)],
                            analysts={"A证券": "张三;李四", "B证券": "王五"})
    scores.loc[scores.index[:3], "status"] = "incomplete"
    scores.loc[scores.index[:3], "complete"] = False
    league, skipped = league_table(scores, min_ratings=20, scale_name=lambda b: "registry:A证券.yaml")
    assert list(league.columns) == LEAGUE_COLUMNS
    a = league[(league["group_by"] == "broker") & (league["group"] == "A证券")].iloc[0]
    done = scores[(scores["broker"] == "A证券") & scores["complete"]]
    k, n = int(done["hit"].sum()), len(done)
    assert (a["n_ratings"], a["n_complete"], a["n_incomplete"]) == (40, 37, 3)
    assert (a["n_hits"], a["n_hit_eligible"]) == (k, n) == (22, 37)
    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert a["hit_rate_low"] == pytest.approx(ci.low, abs=1e-12)
    assert a["hit_rate_high"] == pytest.approx(ci.high, abs=1e-12)
    assert a["mean_excess"] == pytest.approx(done["excess_return"].mean(), abs=1e-15)
    assert a["excess_t_stat"] == pytest.approx(ttest_1samp(done["excess_return"], 0).statistic, rel=1e-12)
    assert a["direction_hits"] == int((done["excess_return"] > 0).sum())
    assert a["scale"] == "registry:A证券.yaml" and a["horizon"] == "12m"
    assert a["judged_by"] == "own band: registry:A证券.yaml"
    b = league[(league["group_by"] == "broker") & (league["group"] == "B证券")].iloc[0]
    assert b["scale"] == "none" and b["horizon"] == "12m (default)" and np.isnan(b["hit_rate"])
    # analysts: 张三 and 李四 each carry all of A证券's 40 ratings; 王五 has 25
    analysts = league[league["group_by"] == "analyst"].set_index("group")
    assert analysts.loc["张三", "n_ratings"] == 40 and analysts.loc["王五", "n_ratings"] == 25
    assert analysts.loc["王五", "brokers"] == "B证券"
    assert skipped == {"broker": 0, "analyst": 0}


def test_min_ratings_leaves_small_groups_out_and_counts_them(scores_factory):
    league, skipped = league_table(scores_factory([("big", 30, 10, True), ("small", 5, 5, True)]),
                                   by=("broker",), min_ratings=20)
    assert list(league["group"]) == ["big"] and skipped == {"broker": 1}


def test_ic_uses_rating_levels(scores_factory):
    scores = scores_factory([("A", 30, 15, True)])
    scores.loc[scores.index[::2], "rating_level"] = 1.0
    league, _ = league_table(scores, by=("broker",), min_ratings=1)
    want = spearmanr(scores["rating_level"], scores["excess_return"]).statistic
    assert league.loc[0, "ic_spearman"] == pytest.approx(want, abs=1e-12)


def test_target_statistics(scores_factory):
    scores = scores_factory([("A", 20, 10, True)])
    targets = pd.DataFrame({"signal_id": ["A-0", "A-1", "A-2", "A-3"],
                            "target_hit": pd.array([True, False, True, pd.NA], dtype="boolean"),
                            "days_to_target": [10.0, np.nan, 30.0, np.nan]})
    league, _ = league_table(scores, targets=targets, by=("broker",), min_ratings=1)
    row = league.iloc[0]
    assert (row["n_targets"], row["n_targets_decided"]) == (4, 3)
    assert row["target_hit_rate"] == pytest.approx(2 / 3) and row["median_days_to_target"] == 20.0
