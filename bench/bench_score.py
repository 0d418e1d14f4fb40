"""Benchmark of the scoring kernels (issue 4). Run: ``python bench/bench_score.py`` (or ``--part synthetic|market``).

1. synthetic: 1,000,000 signals with 250-session horizons on a 5,000-asset × 2,500-session panel (2 benchmark
   columns, 2 % missing bars, suspensions). Times ``forward_returns_nb`` cold (compile or cache load) and warm (best
   of 3), checks it against the pandas reference of ``tests/kernels/test_forward_returns.py`` on a subsample and times
   that reference on the same subsample to give the ratio (per-signal rates; the reference is O(signals)).
2. market: 100,000 random signals on the real market file ``../shared/data/market/ashare_daily_2024_2025.parquet``
   (5,154 stocks, qfq closes, loaded with ``engine.data.load.panel_from_long``) plus CSI 300 from
   ``../shared/data/prices/SH000300.csv``; times the kernel
   and the whole :func:`engine.score.run_scoring` (scores, scorecard, event study).

Each part runs in its own process so its peak RSS (``ru_maxrss``) is its own. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.enums import ExcessMode  # noqa: E402
from engine.kernels.forward_returns import forward_returns_nb, last_bar_index_nb  # noqa: E402
from engine.paths import shared_dir  # noqa: E402

OUTPUTS = ("stock_base_idx", "stock_end_idx", "bench_base_idx", "bench_end_idx", "stock_return", "bench_return",
           "excess_return", "best_excess", "worst_excess", "touch_idx", "window_status")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (and the last result)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cpu_time(fn) -> float:
    """CPU seconds of one call, summed over threads (independent of other processes' load)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def synthetic(n_assets: int = 5000, n_sessions: int = 2500, n_signals: int = 1_000_000, sample: int = 1000) -> dict:
    rng = np.random.default_rng(0)
    close = np.empty((n_sessions, n_assets), order="F")
    for j in range(0, n_assets, 500):  # build in blocks to keep the temporary small
        block = rng.normal(0.0003, 0.02, size=(n_sessions, min(500, n_assets - j)))
        close[:, j:j + block.shape[1]] = 10.0 * np.exp(np.cumsum(block, axis=0))
    close[rng.random(close.shape) < 0.02] = np.nan
    close[:, :2] = 3000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, (n_sessions, 2)), axis=0))  # two benchmarks
    asset = rng.integers(2, n_assets, n_signals).astype(np.int64)
    bench = rng.integers(0, 2, n_signals).astype(np.int64)
    base = rng.integers(0, n_sessions, n_signals).astype(np.int64)
    end = np.minimum(base + 250, n_sessions).astype(np.int64)
    low = rng.choice([0.15, 0.05, -0.05, np.nan], n_signals)
    high = np.where(np.isnan(low), -0.05, np.where(low == 0.15, np.nan, low + 0.1))

    def run():
        return forward_returns_nb(close, last_bar_index_nb(close), asset, bench, base, end, low, high,
                                  ExcessMode.Absolute)

    t0 = time.perf_counter()
    run()
    cold = time.perf_counter() - t0
    warm, out = timed(run)
    warm_cpu = cpu_time(run)

    def run_sorted():  # what engine.score.windows.score_windows does: visit signals by (asset, base)
        order = np.argsort(asset * (n_sessions + 2) + base)
        res = forward_returns_nb(close, last_bar_index_nb(close), asset[order], bench[order], base[order],
                                 end[order], low[order], high[order], ExcessMode.Absolute)
        out = []
        for arr in res:
            back = np.empty_like(arr)
            back[order] = arr
            out.append(back)
        return out

    warm_sorted, out_sorted = timed(run_sorted)
    warm_sorted_cpu = cpu_time(run_sorted)
    for a, b in zip(out, out_sorted):
        np.testing.assert_array_equal(a, b)

    sys.path.insert(0, str(ROOT / "tests" / "kernels"))
    from test_forward_returns import forward_returns_pandas  # the reference the tests use

    pick = rng.choice(n_signals, sample, replace=False)
    frame = pd.DataFrame(np.ascontiguousarray(close))
    t0 = time.perf_counter()
    ref = forward_returns_pandas(frame, asset[pick], bench[pick], base[pick], end[pick], low[pick], high[pick],
                                 ExcessMode.Absolute)
    pandas_s = time.perf_counter() - t0
    for name, arr in zip(OUTPUTS, out):
        np.testing.assert_allclose(arr[pick], ref[name].to_numpy(dtype=float), rtol=0, atol=1e-12, equal_nan=True,
                                   err_msg=name)
    per_signal_pandas = pandas_s / sample
    return {"part": "synthetic", "signals": n_signals, "assets": n_assets, "sessions": n_sessions,
            "cold_s": cold, "warm_s": warm, "warm_cpu_s": warm_cpu, "signals_per_s": n_signals / warm,
            "warm_sorted_s": warm_sorted, "warm_sorted_cpu_s": warm_sorted_cpu,
            "pandas_sample": sample, "pandas_sample_s": pandas_s,
            "pandas_extrapolated_s": per_signal_pandas * n_signals,
            "ratio_pandas_over_numba": per_signal_pandas * n_signals / warm,
            "ratio_pandas_over_numba_sorted": per_signal_pandas * n_signals / warm_sorted,
            "complete_share": float(np.mean(out[-1] == 0)), "peak_rss_mib": peak_rss_mib(),
            "threads": int(os.environ.get("NUMBA_NUM_THREADS", os.cpu_count() or 1))}


def market(n_signals: int = 100_000) -> dict:
    from engine.data.panel import Panel
    from engine.score import run_scoring
    from engine.signals.schema import SIGNAL_COLUMNS

    from engine.data.load import panel_from_long

    root = shared_dir() / "data"
    t0 = time.perf_counter()
    stocks = panel_from_long(root / "market" / "ashare_daily_2024_2025.parquet")  # the data layer's loader
    sessions = pd.DatetimeIndex(stocks.sessions)
    csi = pd.read_csv(root / "prices" / "SH000300.csv", parse_dates=["date"]).set_index("date")["close"]
    close = np.asfortranarray(np.column_stack([stocks.close, csi.reindex(sessions).to_numpy(dtype=float)]))
    codes = np.append(stocks.codes, "000300.SH").astype(object)
    nan = np.full(close.shape, np.nan)
    panel = Panel(sessions=stocks.sessions, codes=codes, open=nan, high=nan, low=nan, close=close, raw_close=nan,
                  volume=nan, tradable=np.isfinite(close), markets=np.full(len(codes), "A", dtype=object),
                  boards=np.append(stocks.boards, "index").astype(object))
    del stocks
    load_s = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    stocks = codes[:-1]
    levels = rng.choice([2, 1, 0, -1], n_signals, p=[0.55, 0.35, 0.08, 0.02])
    scale = {2: ("买入", 0.15, np.nan), 1: ("增持", 0.05, 0.15), 0: ("中性", -0.05, 0.05), -1: ("减持", np.nan, -0.05)}
    dates = sessions[rng.integers(0, len(sessions), n_signals)]
    signals = pd.DataFrame({
        "signal_id": np.arange(n_signals).astype(str), "source": "bench", "broker": rng.choice(
            [f"broker{i:02d}" for i in range(40)], n_signals), "report_date": dates, "date_inferred": False,
        "report_type": "", "industry": "", "industry_rating": "", "code": rng.choice(stocks, n_signals), "name": "",
        "market": "A", "kind": "rating", "rating": [scale[v][0] for v in levels], "rating_level": levels.astype(float),
        "action": rng.choice(["reiterate", "upgrade", "downgrade", "initiate"], n_signals, p=[0.9, 0.04, 0.03, 0.03]),
        "target_price": np.nan, "price_at_report": np.nan, "price_date": pd.NaT, "currency": "CNY",
        "horizon_months": rng.choice(["6", "12", "6-12"], n_signals), "benchmark": "000300.SH",
        "band_low": [scale[v][1] for v in levels], "band_high": [scale[v][2] for v in levels],
        "analysts": rng.choice([f"analyst{i:03d}" for i in range(300)], n_signals)})[SIGNAL_COLUMNS]

    from engine.score.windows import ScoreConfig, expand_horizons, prepare_windows
    windows = expand_horizons(signals, ScoreConfig())
    arrays = prepare_windows(windows, panel)
    last_bar = last_bar_index_nb(close)

    def kernel():
        return forward_returns_nb(close, last_bar, arrays["asset_col"], arrays["bench_col"], arrays["base_idx"],
                                  arrays["end_idx"], windows["band_low"].to_numpy(float),
                                  windows["band_high"].to_numpy(float), ExcessMode.Absolute)

    kernel()
    kernel_s, out = timed(kernel)
    kernel_cpu = cpu_time(kernel)
    t0 = time.perf_counter()
    result = run_scoring(signals, panel)
    full_cold = time.perf_counter() - t0
    full_s, result = timed(lambda: run_scoring(signals, panel), repeat=2)
    full_cpu = cpu_time(lambda: run_scoring(signals, panel))
    return {"part": "market", "signals": n_signals, "windows": len(windows), "assets": len(codes),
            "sessions": len(sessions), "load_s": load_s, "kernel_warm_s": kernel_s, "kernel_warm_cpu_s": kernel_cpu,
            "run_scoring_first_s": full_cold, "run_scoring_warm_s": full_s, "run_scoring_warm_cpu_s": full_cpu,
            "complete_share": float(result.scores["complete"].mean()),
            "scores_rows": len(result.scores), "scorecard_rows": len(result.scorecard),
            "event_study_rows": len(result.event_study), "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "synthetic", "market"], default="all")
    args = parser.parse_args()
    if args.part == "all":
        for part in ("synthetic", "market"):
            subprocess.run([sys.executable, __file__, "--part", part], check=True)
        return
    result = synthetic() if args.part == "synthetic" else market()
    result["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
