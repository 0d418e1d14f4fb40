"""Benchmark of the screen and the HTML report (plain ``python bench/bench_screen.py``).

1. ``screen_signals`` on 100,000 live ratings over a 3,000-asset × 500-session panel (synthetic, with suspensions),
   against a plain-pandas per-pick loop (the reference of ``tests/screen/test_screen.py``) timed on a 500-pick
   subsample and scaled linearly; outputs are checked equal on that subsample before timing is reported.
2. ``write_report`` for a large run: 2,500-session equity curve, 100,000 scores, 5,000 trades, 1,000 screen rows;
   time and file size.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.panel import panel_from_frames  # noqa: E402
from engine.report import write_report  # noqa: E402
from engine.screen import screen_signals  # noqa: E402
from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals  # noqa: E402


def build(n_assets: int = 3000, n_sessions: int = 500, n_signals: int = 100_000, seed: int = 1):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=n_sessions)
    codes = [f"{600000 + i:06d}.SH" for i in range(n_assets)]
    close = 10 * np.cumprod(1 + rng.normal(0, 0.02, (n_sessions, n_assets)), axis=0)
    close[rng.random(close.shape) < 0.05] = np.nan
    frames = {c: pd.DataFrame({"date": dates, "close": close[:, j], "raw_close": close[:, j], "volume": 1.0})
              for j, c in enumerate(codes)}
    frames["000300.SH"] = pd.DataFrame({"date": dates, "volume": 1.0,
                                        "close": 3000 * np.cumprod(1 + rng.normal(0, 0.01, n_sessions))})
    panel = panel_from_frames(frames)
    pick = rng.integers(0, n_assets, n_signals)
    report_dates = dates[rng.integers(n_sessions - 240, n_sessions - 5, n_signals)]  # all still live
    signals = pd.DataFrame({c: "" for c in SIGNAL_COLUMNS}, index=range(n_signals))
    signals = signals.assign(
        signal_id=[f"s{i}" for i in range(n_signals)], broker=[f"broker{i % 80}" for i in range(n_signals)],
        report_date=report_dates, code=[codes[k] for k in pick], kind="rating", rating="买入",
        rating_level=rng.integers(-2, 3, n_signals).astype(float), horizon_months="12", benchmark="000300.SH",
        band_low=0.1, band_high=np.nan, target_price=np.nan, price_at_report=np.nan, price_date=pd.NaT,
        date_inferred=False, market="A")
    return panel, coerce_signals(signals), dates[-1]


def pandas_screen(panel, signals, as_of) -> pd.Series:
    """Per-pick plain-pandas excess return so far (the scoring conventions), indexed by signal_id: each series at
    its last close on or before the base session, and on or before the last session both series reached."""
    close = panel.frame("close").loc[:as_of]
    bench = close["000300.SH"].dropna()
    out = {}
    for _, row in signals.iterrows():
        base_session = close.index[close.index <= row["report_date"]][-1]
        stock = close[row["code"]].dropna()
        end = min(stock.index[-1], bench.index[-1])
        stock_return = stock.loc[:end].iloc[-1] / stock.loc[:base_session].iloc[-1] - 1
        bench_return = bench.loc[:end].iloc[-1] / bench.loc[:base_session].iloc[-1] - 1
        out[row["signal_id"]] = stock_return - bench_return
    return pd.Series(out)


def main() -> None:
    panel, signals, as_of = build()
    # newest rating per (broker, code) only: the reference must see the same rows
    sub = signals.sort_values("report_date").drop_duplicates(["broker", "code"], keep="last").head(500)
    reference = pandas_screen(panel, sub, as_of)
    fast_sub = screen_signals(sub, panel, as_of=as_of).set_index("signal_id")["excess_return"]
    assert np.allclose(fast_sub.loc[reference.index].to_numpy(), reference.to_numpy(), atol=1e-12), "outputs differ"

    screen_signals(signals.head(1000), panel, as_of=as_of)  # warm the calendar cache
    t0 = time.perf_counter()
    table = screen_signals(signals, panel, as_of=as_of)
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    pandas_screen(panel, sub, as_of)
    slow_per_pick = (time.perf_counter() - t0) / len(sub)
    slow = slow_per_pick * len(table)
    print(f"screen: {len(signals):,d} signals → {len(table):,d} live picks on {panel.shape[1]:,d} assets × "
          f"{panel.shape[0]:,d} sessions: {fast:.2f} s; pandas per-pick loop {slow_per_pick * 1e3:.2f} ms/pick → "
          f"{slow:.0f} s scaled; ratio {slow / fast:.0f}x")

    rng = np.random.default_rng(2)
    dates = pd.bdate_range("2016-01-01", periods=2500)
    equity = pd.DataFrame({"date": dates, "equity": 1e6 * np.cumprod(1 + rng.normal(3e-4, 0.01, 2500)),
                           "cash": 0.0, "benchmark": 3500 * np.cumprod(1 + rng.normal(1e-4, 0.01, 2500))})
    scores = pd.DataFrame({"broker": [f"broker{i % 40}" for i in range(100_000)],
                           "rating": rng.choice(["买入", "增持", "中性"], 100_000),
                           "excess_return": rng.normal(0.02, 0.2, 100_000), "complete": rng.random(100_000) < 0.8})
    trades = pd.DataFrame({"date": rng.choice(dates, 5000), "code": "600000.SH", "side": "buy",
                           "size": 100, "price": 10.0, "fees": 5.0})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = write_report(Path(tmp) / "report.html", title="bench", run_name="bench", equity=equity,
                            scores=scores, trades=trades, screen=table.head(1000))
        took = time.perf_counter() - t0
        size = path.stat().st_size
    print(f"report: 2,500-session equity, 100,000 scores, 5,000 trades, 1,000 screen rows: {took:.2f} s, "
          f"{size / 1e6:.1f} MB (plotly.js inline ≈ 4.8 MB)")


if __name__ == "__main__":
    main()
