"""Rating-change event study against plain pandas on a synthetic panel, and the target outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.brokers.events import EVENT_COLUMNS, rating_events
from engine.brokers.targets import target_outcomes
from engine.data.panel import panel_from_frames
from engine.signals.schema import complete_row, coerce_signals


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2024-01-01", periods=320)
    frames = {}
    for code in ("600001.SH", "600002.SH", "000003.SZ", "000300.SH"):
        close = 10 * np.exp(np.cumsum(rng.normal(0, 0.015, len(days))))
        bars = pd.DataFrame({"date": days, "open": close, "high": close, "low": close, "close": close,
                             "volume": 1e6})
        if code == "000003.SZ":
            bars = bars.drop(index=range(100, 110))  # a suspension
        frames[code] = bars
    panel = panel_from_frames(frames)
    rows = []
    plan = [("B1", "600001.SH", "2024-03-01", "upgrade"), ("B1", "600002.SH", "2024-04-10", "upgrade"),
            ("B1", "000003.SZ", "2024-05-06", "upgrade"), ("B2", "600001.SH", "2024-06-03", "downgrade"),
            ("B2", "000003.SZ", "2024-02-01", "downgrade"), ("B2", "600002.SH", "2024-03-15", "initiate"),
            ("B1", "600001.SH", "2025-03-03", "reiterate")]
    for broker, code, day, action in plan:
        rows.append(complete_row({"signal_id": f"{broker}{code}{day}", "broker": broker, "code": code,
                                  "market": "A", "kind": "rating", "rating": "买入", "rating_level": 2.0,
                                  "action": action, "report_date": pd.Timestamp(day), "horizon_months": "12",
                                  "benchmark": "000300.SH", "target_price": 12.0, "price_at_report": 10.0}))
    return panel, coerce_signals(pd.DataFrame(rows))


def reference_path(panel, code: str, day: str, offsets: np.ndarray) -> np.ndarray:
    """Plain pandas: forward-filled closes, excess of (base + k) over the base, stock minus CSI 300."""
    close = panel.frame("close").ffill()
    base = close.index.searchsorted(pd.Timestamp(day), side="right") - 1
    out = []
    for k in offsets:
        t = base + k
        if t < 0 or t >= len(close):
            out.append(np.nan)
            continue
        s = close[code].iloc[t] / close[code].iloc[base] - 1
        b = close["000300.SH"].iloc[t] / close["000300.SH"].iloc[base] - 1
        out.append(s - b)
    return np.array(out)


@pytest.mark.filterwarnings("ignore:Degrees of freedom")
def test_event_means_match_pandas(world):
    panel, signals = world
    events = rating_events(signals, panel, pre=20, post=250, min_events=2)
    assert list(events.columns) == EVENT_COLUMNS
    offsets = np.arange(-20, 251)
    ups = signals[signals["action"] == "upgrade"]
    paths = np.vstack([reference_path(panel, c, str(d.date()), offsets) for c, d in zip(ups["code"],
                                                                                           ups["report_date"])])
    got = events[(events["broker"] == "all") & (events["action"] == "upgrade")].set_index("offset")
    n = np.isfinite(paths).sum(axis=0)
    mean = np.nanmean(np.where(n > 0, paths, 0.0), axis=0)
    sd = np.nanstd(paths, axis=0, ddof=1)
    keep = n > 0
    np.testing.assert_array_equal(got.loc[offsets[keep], "n"].to_numpy(), n[keep])
    np.testing.assert_allclose(got.loc[offsets[keep], "mean_excess"].to_numpy(), mean[keep], atol=1e-12)
    two = n >= 2
    np.testing.assert_allclose(got.loc[offsets[two], "ci_high"].to_numpy(),
                               mean[two] + 1.959963984540054 * sd[two] / np.sqrt(n[two]), atol=1e-12)
    assert got.loc[0, "mean_excess"] == 0.0 and got.loc[0, "n"] == 3
    # B1 has 3 upgrades (>= min_events 2): its own curve; B2 has one downgrade-pair and one initiation
    assert set(events.loc[events["broker"] == "B1", "action"]) == {"upgrade"}
    assert set(events.loc[events["broker"] == "B2", "action"]) == {"downgrade"}
    # the reiteration in 2025 has data only up to the panel's end: N falls to 0 past it (rows dropped)
    late = events[(events["broker"] == "all") & (events["action"] == "reiterate")]
    assert late["offset"].max() < 250


def test_target_outcomes_match_pandas(world):
    panel, signals = world
    scores = signals.assign(horizon_scored_months=12, horizon_leg="single", target_horizon_months=np.nan)
    out = target_outcomes(scores, panel).set_index("signal_id")
    close = panel.frame("close")
    for sid, code, day in zip(signals["signal_id"], signals["code"], signals["report_date"]):
        series = close[code].dropna()
        base = series[series.index <= day]
        end = day + pd.DateOffset(months=12)
        path = series[(series.index > base.index[-1]) & (series.index <= end)] / base.iloc[-1]
        reached = path[path >= 1.2]
        row = out.loc[sid]
        assert row["target_ratio"] == pytest.approx(1.2)
        if len(reached):
            assert row["target_status"] == "reached"
            assert row["days_to_target"] == (reached.index[0] - base.index[-1]).days
        elif end <= close.index[-1]:
            assert row["target_status"] == "not reached" and not row["target_hit"]
        else:
            assert row["target_status"] == "open" and pd.isna(row["target_hit"])
