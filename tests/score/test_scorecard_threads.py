"""The scorecard's threaded path (two groupings at a time on large tables) gives the one-thread result exactly."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from engine.score import run_scoring
from tests.score.helpers import make_panel, make_signals

scorecard_module = importlib.import_module("engine.score.scorecard")  # engine.score.scorecard is also the function


def test_threaded_scorecard_equals_one_thread(monkeypatch):
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2024-01-01", periods=300).strftime("%Y-%m-%d").tolist()
    codes = [f"60{i:04d}.SH" for i in range(40)]
    closes = {c: list(10 * np.cumprod(1 + rng.normal(0, 0.02, len(dates)))) for c in codes}
    closes["000300.SH"] = list(3000 * np.cumprod(1 + rng.normal(0, 0.01, len(dates))))
    levels = rng.choice([2.0, 1.0, 0.0, -1.0], 3000)
    bands = {2.0: (0.15, np.nan), 1.0: (0.05, 0.15), 0.0: (-0.05, 0.05), -1.0: (np.nan, -0.05)}
    signals = make_signals([{"broker": f"b{rng.integers(12)}", "code": rng.choice(codes), "market": "A",
                             "report_date": pd.Timestamp(dates[rng.integers(250)]), "rating": f"r{lvl:g}",
                             "rating_level": lvl, "band_low": bands[lvl][0], "band_high": bands[lvl][1],
                             "horizon_months": rng.choice(["3", "6", "3-6"]), "analysts": f"a{rng.integers(30)}",
                             "action": rng.choice(["维持", "上调", "首次"]),
                             "kind": "mention" if rng.random() < 0.1 else "rating"} for lvl in levels])
    scores = run_scoring(signals, make_panel(dates, closes), event_study_enabled=False).scores
    one_thread = scorecard_module.scorecard(scores)
    monkeypatch.setattr(scorecard_module, "THREADED_ROWS", 0)
    threaded = scorecard_module.scorecard(scores)
    assert len(one_thread) > 60 and set(one_thread["group_by"]) >= {"broker", "rating", "analyst", "action"}
    pd.testing.assert_frame_equal(threaded, one_thread)
