"""Benchmark of the scoring kernels (issue 4). Run: ``python bench/bench_score.py`` (or ``--part synthetic|market``).

1. synthetic: 1,000,000 signals with 250-session horizons on a 5,000-asset × 2,500-session panel (2 benchmark
   columns, 2 % missing bars, suspensions). Times ``forward_returns_nb`` cold (compile or cache load) and warm (best
   of 3), checks it against the pandas reference of ``tests/kernels/test_forward_returns.py`` on a subsample and times
   that reference on the same subsample to give the ratio (per-signal rates; the reference is O(signals)).
2. market / market-1m: 100,000 and 1,000,000 random signals on the real market file
   ``../shared/data/market/ashare_daily_2024_2025.parquet`` (5,154 stocks, qfq closes, loaded with
   ``engine.data.load.panel_from_long``) plus CSI 300 from ``../shared/data/prices/SH000300.csv``. Headline: the
   public entry :func:`engine.score.run_scoring` (scores, scorecard, event study), warm, with the resident memory
   it adds while it runs (``run_scoring_rss_growth_mib``, sampled every 5 ms) next to the process peaks before and
   after the peer; second figure: the kernel alone. Peer: a plain pandas computation of the same excess returns
   and hits from the two files (:func:`pandas_scores`), checked against ours to 1e-12 before the figures are
   printed.

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


def current_rss_mib() -> float:
    """Resident memory now (``/proc/self/statm``), MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def rss_growth_mib(fn, interval: float = 0.005) -> tuple[float, object]:
    """Peak resident memory *added* while ``fn()`` runs (sampled every ``interval`` s by a thread), and its result."""
    import threading

    try:  # hand freed heap pages back to the OS first, so that memory reused from earlier calls is not missed
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    start = current_rss_mib()
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], current_rss_mib())
            done.wait(interval)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        out = fn()
    finally:
        done.set()
        watcher.join()
    return max(peak[0], current_rss_mib()) - start, out


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (and the last result; the previous result is dropped before each call)."""
    best, out = np.inf, None
    for _ in range(repeat):
        out = None
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


def market_panel():
    """The whole-market panel (5,154 stocks + CSI 300, qfq closes) and the seconds it took to build."""
    from engine.data.load import panel_from_long
    from engine.data.panel import Panel

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
    return panel, time.perf_counter() - t0


def random_signals(panel, n_signals: int, seed: int = 1) -> pd.DataFrame:
    """``n_signals`` random ratings (40 brokers, 300 analysts, 6 / 12 / 6-12 month horizons) on the panel's stocks."""
    from engine.signals.schema import coerce_signals

    rng = np.random.default_rng(seed)
    stocks = panel.codes[:-1]
    sessions = pd.DatetimeIndex(panel.sessions)
    levels = rng.choice([2, 1, 0, -1], n_signals, p=[0.55, 0.35, 0.08, 0.02])
    scale = {2: ("买入", 0.15, np.nan), 1: ("增持", 0.05, 0.15), 0: ("中性", -0.05, 0.05), -1: ("减持", np.nan, -0.05)}
    dates = sessions[rng.integers(0, len(sessions), n_signals)]
    return coerce_signals(pd.DataFrame({
        "signal_id": np.arange(n_signals).astype(str), "source": "bench", "broker": rng.choice(
            [f"broker{i:02d}" for i in range(40)], n_signals), "report_date": dates, "date_inferred": False,
        "report_type": "", "industry": "", "industry_rating": "", "code": rng.choice(stocks, n_signals), "name": "",
        "market": "A", "kind": "rating", "rating": [scale[v][0] for v in levels], "rating_level": levels.astype(float),
        "action": rng.choice(["reiterate", "upgrade", "downgrade", "initiate"], n_signals, p=[0.9, 0.04, 0.03, 0.03]),
        "target_price": np.nan, "price_at_report": np.nan, "price_date": pd.NaT, "currency": "CNY",
        "horizon_months": rng.choice(["6", "12", "6-12"], n_signals), "benchmark": "000300.SH",
        "band_low": [scale[v][1] for v in levels], "band_high": [scale[v][2] for v in levels],
        "analysts": rng.choice([f"analyst{i:03d}" for i in range(300)], n_signals)}))


def pandas_scores(signals: pd.DataFrame, market_file: Path, csi_file: Path) -> pd.DataFrame:
    """The like-for-like peer: a plain pandas computation of each signal's excess return, band hit and the per-broker
    hit rate, straight from the two files (read + pivot + forward-fill + positional look-ups; long horizon leg).

    Conventions as the scoring stage's: base = the last close on or before the report date, end = the last close on
    or before report date + horizon months (calendar months), suspended stocks valued at their last close; only
    windows that ended inside the data are kept (``complete``)."""
    long = pd.read_parquet(market_file, columns=["code", "date", "close"])
    wide = long.pivot(index="date", columns="code", values="close")
    wide.columns = [c + (".SH" if c.startswith(("6", "9")) else ".BJ" if c.startswith(("4", "8")) else ".SZ")
                    for c in wide.columns]
    csi = pd.read_csv(csi_file, parse_dates=["date"]).set_index("date")["close"]
    wide["000300.SH"] = csi.reindex(wide.index)
    ff = wide.ffill()
    first_bar = wide.apply(pd.Series.first_valid_index)
    months = signals["horizon_months"].astype(str).str.split("-").str[-1].astype(int)
    report = pd.to_datetime(signals["report_date"])
    end = pd.Series(pd.NaT, index=signals.index, dtype="datetime64[ns]")
    for m in months.unique():  # one vectorised calendar-month offset per horizon
        end[months == m] = report[months == m] + pd.DateOffset(months=int(m))
    sessions = ff.index
    base_pos = sessions.searchsorted(report, side="right") - 1
    end_pos = sessions.searchsorted(end, side="right") - 1
    col = ff.columns.get_indexer(signals["code"])
    bcol = ff.columns.get_indexer(signals["benchmark"])
    values = ff.to_numpy()
    r = values[end_pos, col] / values[base_pos, col] - 1
    b = values[end_pos, bcol] / values[base_pos, bcol] - 1
    out = signals[["signal_id", "broker", "band_low", "band_high"]].copy()
    out["excess_return"] = r - b
    listed = first_bar.reindex(signals["code"]).to_numpy() <= report.to_numpy()
    out["complete"] = (end <= sessions[-1]).to_numpy() & listed & (base_pos >= 0)
    lo, hi = out["band_low"].fillna(-np.inf), out["band_high"].fillna(np.inf)
    out["hit"] = (out["excess_return"] >= lo) & (out["excess_return"] <= hi)
    out = out[out["complete"]]
    out.attrs["hit_rate_by_broker"] = out.groupby("broker")["hit"].mean()
    return out


def market(n_signals: int = 100_000) -> dict:
    """``run_scoring`` (the public entry: scores + scorecard + event study) on ``n_signals`` random signals over
    the whole market, the kernel alone, and the plain pandas peer of :func:`pandas_scores` on the same signals
    (its excess returns and hits checked against ours to 1e-12 before any figure is printed)."""
    from engine.score import run_scoring

    root = shared_dir() / "data"
    panel, load_s = market_panel()
    signals = random_signals(panel, n_signals)
    close = panel.close
    rss_inputs = current_rss_mib()  # interpreter, panel and signals
    t0 = time.perf_counter()
    result = run_scoring(signals, panel)
    full_cold = time.perf_counter() - t0
    del result
    growth, result = rss_growth_mib(lambda: run_scoring(signals, panel))  # warm call's own memory
    del result
    full_cpu = cpu_time(lambda: run_scoring(signals, panel))
    full_s, result = timed(lambda: run_scoring(signals, panel), repeat=2)
    peak_before_peer = peak_rss_mib()

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
    ref = pandas_scores(signals, root / "market" / "ashare_daily_2024_2025.parquet", root / "prices" / "SH000300.csv")
    pandas_s = time.perf_counter() - t0
    ours = result.scores[result.scores["horizon_leg"] != "short"].set_index("signal_id")
    ours = ours[ours["complete"]]
    ref = ref.set_index("signal_id")
    common = ref.index.intersection(ours.index)
    np.testing.assert_allclose(ours.loc[common, "excess_return"].to_numpy(float),
                               ref.loc[common, "excess_return"].to_numpy(float), rtol=0, atol=1e-12)
    assert (ours.loc[common, "hit"].astype(bool).to_numpy() == ref.loc[common, "hit"].to_numpy()).all()
    return {"part": f"market_{n_signals}", "signals": n_signals, "windows": len(windows), "assets": len(panel.codes),
            "sessions": len(panel.sessions), "load_s": load_s,
            "run_scoring_first_s": full_cold, "run_scoring_warm_s": full_s, "run_scoring_warm_cpu_s": full_cpu,
            "kernel_warm_s": kernel_s, "kernel_warm_cpu_s": kernel_cpu,
            "pandas_peer_s": pandas_s, "ratio_pandas_over_run_scoring": pandas_s / full_s,
            "checked_against_pandas": len(common), "complete_share": float(result.scores["complete"].mean()),
            "scores_rows": len(result.scores), "scorecard_rows": len(result.scorecard),
            "event_study_rows": len(result.event_study), "rss_inputs_mib": rss_inputs,
            "run_scoring_rss_growth_mib": growth,
            "peak_rss_before_peer_mib": peak_before_peer, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "synthetic", "market", "market-1m"], default="all")
    args = parser.parse_args()
    if args.part == "all":
        for part in ("synthetic", "market", "market-1m"):
            subprocess.run([sys.executable, __file__, "--part", part], check=True)
        return
    result = (synthetic() if args.part == "synthetic" else market(1_000_000) if args.part == "market-1m"
              else market(100_000))
    result["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
