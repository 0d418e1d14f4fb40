"""The ranking rule: Wilson 95 % lower bound, bands and directions ranked apart, sample size matters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from engine.brokers.league import league_table
from engine.brokers.ranking import BASIS_BAND, BASIS_DIRECTION, BASIS_NONE, rank_league, wilson_lower


def test_wilson_lower_matches_scipy():
    for k, n in [(3, 3), (210, 300), (0, 5), (17, 40)]:
        want = binomtest(k, n).proportion_ci(0.95, method="wilson").low
        assert wilson_lower(np.array([k]), np.array([n]))[0] == pytest.approx(want, abs=1e-12)


def test_three_lucky_ratings_do_not_outrank_three_hundred_good_ones(scores_factory):
    # "lucky": 3 of 3 hits (100 %); "steady": 210 of 300 (70 %); both judged by their own band
    scores = scores_factory([("lucky", 3, 3, True), ("steady", 300, 210, True)])
    league, _ = league_table(scores, by=("broker",), min_ratings=1)
    rank = dict(zip(league["group"], league["rank"]))
    assert league.set_index("group").loc["lucky", "hit_rate"] == 1.0  # the raw rate would put it first
    assert rank["steady"] == 1 and rank["lucky"] == 2
    lucky = league.set_index("group").loc["lucky"]
    assert lucky["rank_score"] == pytest.approx(binomtest(3, 3).proportion_ci(method="wilson").low, abs=1e-12)


def test_same_holds_on_direction_for_brokers_without_a_scale(scores_factory):
    scores = scores_factory([("lucky", 3, 3, False), ("steady", 300, 210, False)])
    league, _ = league_table(scores, by=("broker",), min_ratings=1)
    part = league.set_index("group")
    assert set(part["rank_basis"]) == {BASIS_DIRECTION}
    assert part.loc["steady", "rank"] == 1 and part.loc["lucky", "rank"] == 2
    assert (part["judged_by"] == "no scale: direction and excess only").all()
    assert part["hit_rate"].isna().all()  # no band: no band hit rate, never a made-up one


def test_bases_are_ranked_apart(scores_factory):
    # a broker without a scale with a high direction rate must not jump ahead of the band-judged ones
    scores = scores_factory([("banded", 100, 40, True), ("unbanded", 100, 90, False)])
    league, _ = league_table(scores, by=("broker",), min_ratings=1)
    part = league.set_index("group")
    assert part.loc["banded", "rank_basis"] == BASIS_BAND and part.loc["banded", "rank"] == 1
    assert part.loc["unbanded", "rank_basis"] == BASIS_DIRECTION and part.loc["unbanded", "rank"] == 1
    assert list(league["group"]) == ["banded", "unbanded"]  # band-judged rows listed first


def test_unjudged_rows_are_not_ranked(scores_factory):
    table = league_table(scores_factory([("a", 10, 5, True)]), by=("broker",), min_ratings=1)[0]
    table.loc[0, ["n_hit_eligible", "n_direction"]] = 0
    ranked = rank_league(table)
    assert ranked.loc[0, "rank_basis"] == BASIS_NONE and ranked["rank"].isna().all()
