"""Strategies on tiny hand-made inputs: entry/exit sessions, weights, caps, the weights file, the hedge overlay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.panel import Panel
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals
from strategies import follow_ratings, hedged, load_strategy
from strategies import target_weights as tw

DAYS = pd.bdate_range("2024-03-04", periods=10)  # Mon 03-04 … Fri 03-15
CODES = ["600000.SH", "600001.SH", "600002.SH", "000300.SH"]


def panel() -> Panel:
    close = np.full((len(DAYS), len(CODES)), 10.0)
    return Panel(sessions=DAYS.to_numpy(dtype="datetime64[ns]"), codes=np.array(CODES, dtype=object), open=close,
                 high=close, low=close, close=close, raw_close=close * np.nan, volume=close * 1e5,
                 tradable=np.ones_like(close, dtype=bool))


def signals(*rows) -> pd.DataFrame:
    full = []
    for r in rows:
        row = {c: "" for c in SIGNAL_COLUMNS}
        row.update({"kind": "rating", "market": "A", "horizon_months": "6", "broker": "B1"})
        row.update(r)
        full.append(row)
    return coerce_signals(pd.DataFrame(full))


def test_entry_after_publication_hold_sessions_and_equal_weights():
    sig = signals({"code": "600000.SH", "report_date": "2024-03-05", "rating_level": 2},
                  {"code": "600001.SH", "report_date": "2024-03-06", "rating_level": 1},
                  {"code": "600002.SH", "report_date": "2024-03-06", "rating_level": 0})   # neutral: not followed
    w = follow_ratings.target_weights(sig, panel(), follow_ratings.Params(hold_sessions=3))
    # 600000 published Tue 03-05 → held 03-06, 03-07, 03-08; 600001 published 03-06 → 03-07 .. 03-11
    assert w.loc["2024-03-06", "600000.SH"] == 1.0
    assert w.loc["2024-03-07", ["600000.SH", "600001.SH"]].tolist() == [0.5, 0.5]
    assert w.loc["2024-03-11", ["600000.SH", "600001.SH"]].tolist() == [0.0, 1.0]
    assert w.loc["2024-03-12", "600001.SH"] == 0.0
    assert np.isnan(w.loc["2024-03-05"]).all() and np.isnan(w.loc["2024-03-08"]).all()  # no change: no orders
    assert w["600002.SH"].isna().all()


def test_conviction_weights_caps_and_max_positions():
    sig = signals({"code": "600000.SH", "report_date": "2024-03-04", "rating_level": 2},
                  {"code": "600001.SH", "report_date": "2024-03-04", "rating_level": 1},
                  {"code": "600002.SH", "report_date": "2024-03-05", "rating_level": 2})
    p = follow_ratings.Params(weighting="conviction", max_weight=0.6, rebalance="daily")
    w = follow_ratings.target_weights(sig, panel(), p)
    # 2/3 capped at 0.6 and 1/3
    assert w.loc["2024-03-05", ["600000.SH", "600001.SH"]].tolist() == pytest.approx([0.6, 1 / 3])
    assert w.loc["2024-03-06", ["600000.SH", "600001.SH", "600002.SH"]].tolist() == pytest.approx([0.4, 0.2, 0.4])
    two = follow_ratings.target_weights(sig, panel(), follow_ratings.Params(max_positions=2, rebalance="daily"))
    # the two entered first are kept; the later one waits
    assert two.loc["2024-03-06", ["600000.SH", "600001.SH"]].tolist() == [0.5, 0.5]
    assert two["600002.SH"].isna().all()  # never admitted: no order


def test_filters_and_horizon_range():
    sig = signals({"code": "600000.SH", "report_date": "2024-03-04", "rating_level": 2, "broker": "B2"},
                  {"code": "600001.SH", "report_date": "2024-03-04", "rating_level": 2, "action": "upgrade"})
    w = follow_ratings.target_weights(sig, panel(), follow_ratings.Params(brokers=["B1"]))
    assert w["600000.SH"].isna().all() and w.loc["2024-03-05", "600001.SH"] == 1.0
    w = follow_ratings.target_weights(sig, panel(), follow_ratings.Params(actions=["upgrade"]))
    assert w["600000.SH"].isna().all()
    assert follow_ratings.horizon_of("6-12", 6.0) == 12.0 and follow_ratings.horizon_of("", 6.0) == 6.0


def test_target_weights_file(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("date,600000,sh600001\n2024-03-09,0.5,0.5\n2024-03-13,,1.0\n", encoding="utf-8")
    w = tw.target_weights(None, panel(), tw.Params(path=str(path)))
    # a Saturday row applies from Monday 03-11; a blank cell = no instruction
    assert w.loc["2024-03-11", ["600000.SH", "600001.SH"]].tolist() == [0.5, 0.5]
    assert np.isnan(w.loc["2024-03-13", "600000.SH"]) and w.loc["2024-03-13", "600001.SH"] == 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text("date,600000\n2024-03-09,abc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv, line 2, column 600000.SH: not a number"):
        tw.target_weights(None, panel(), tw.Params(path=str(bad)))


def test_hedge_overlay_by_hand():
    days = DAYS[:3]
    equity = pd.Series([100.0, 110.0, 121.0], index=days)
    cash = pd.Series([0.0, 0.0, 0.0], index=days)
    bench = pd.Series([1000.0, 1050.0, 1050.0], index=days)
    out = hedged.overlay(equity, cash, bench, hedged.Params(hedge_ratio=1.0))
    # session 2: -1.0 × 100 (long value at session 1) × 5 % = -5; session 3: benchmark flat
    assert out.tolist() == pytest.approx([100.0, 105.0, 116.0])


def test_load_strategy_from_a_user_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("from pydantic import BaseModel\nclass Params(BaseModel):\n    pass\n"
                    "def target_weights(signals, panel, params):\n    return None\n", encoding="utf-8")
    assert hasattr(load_strategy(str(path)), "target_weights")
    (tmp_path / "broken.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(TypeError, match="does not define Params"):
        load_strategy(str(tmp_path / "broken.py"))


def test_skipped_signals_are_named_in_a_warning():
    """Signals the strategy cannot trade are reported, never dropped silently: a code without prices by its code,
    a rating whose code could not be resolved by its name."""
    sig = signals({"code": "600000.SH", "report_date": "2024-03-05", "rating_level": 2},
                  {"code": "688001.SH", "report_date": "2024-03-05", "rating_level": 2},
                  {"code": "", "name": "某某科技", "report_date": "2024-03-05", "rating_level": 2})
    with pytest.warns(UserWarning) as caught:
        w = follow_ratings.target_weights(sig, panel(), follow_ratings.Params())
    text = " | ".join(str(m.message) for m in caught)
    assert "no prices for 688001.SH;" in text and "1 signal(s) without a security code" in text and "某某科技" in text
    assert w.loc["2024-03-06", "600000.SH"] == 1.0
