"""Benchmark the portfolio simulator (issue 5). Run: ``python bench/bench_backtest.py [--quick]``.

1. 5,000 assets × 2,500 sessions of daily target weights: warm time and peak memory of our kernel, and vectorbt
   ``Portfolio.from_orders(size_type="targetpercent", cash_sharing=True, call_seq="default")`` on the same weights,
   in the same process (outputs compared before timing is reported).
   1b. The monthly case again with raw closes (cent grid) and a factor stepping at yearly dividends / bonus issues:
   the cost of the share accounting (traded scale, corporate actions) against the same panel without raw closes.
2. A sweep of 1,000 variants (10 weight sets × 100 cost/stop/execution settings) on 300 × 2,500 in one kernel call.
3. Wall time of a second ``ratingbt backtest configs/seeds.yaml`` in a new process (needs ../shared).
"""

from __future__ import annotations

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

from engine.backtest.simulate import SimulationRules, kernel_inputs, simulate_sweep, simulate_weights  # noqa: E402
from engine.data.panel import Panel  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_panel(n_sessions: int, n_assets: int, seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (n_sessions, n_assets)), axis=0))
    close[rng.random(close.shape) < 0.01] = np.nan
    open_ = close * (1 + rng.normal(0, 0.003, close.shape))
    sessions = pd.bdate_range("2015-01-05", periods=n_sessions).to_numpy(dtype="datetime64[ns]")
    codes = np.array([f"{600000 + j:06d}.SH" for j in range(n_assets)], dtype=object)
    return Panel(sessions=sessions, codes=codes, open=open_, high=np.fmax(open_, close), low=np.fmin(open_, close),
                 close=close, raw_close=np.full_like(close, np.nan), volume=np.where(np.isfinite(close), 1e6, np.nan),
                 tradable=np.isfinite(close), markets=np.array(["A"] * n_assets, dtype=object),
                 boards=np.array(["main"] * n_assets, dtype=object))


def make_weights(shape: tuple[int, int], seed: int = 1, every: int = 1) -> np.ndarray:
    """Random long-only weights summing to 0.95 on every ``every``-th session (NaN = no order in between)."""
    rng = np.random.default_rng(seed)
    w = rng.random(shape)
    w /= w.sum(axis=1, keepdims=True) / 0.95
    if every > 1:
        w[np.arange(shape[0]) % every != 0] = np.nan
    return w


class PeakRSS:
    """Sample this process's resident memory every 2 ms while a block runs; ``peak_mb`` after it."""

    def __enter__(self):
        import threading

        import psutil

        self._proc, self._stop, self.peak = psutil.Process(), threading.Event(), 0
        self.start_mb = self._proc.memory_info().rss / 2**20

        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, self._proc.memory_info().rss)
                self._stop.wait(0.002)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak / 2**20, self.start_mb)


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_single(n_sessions: int, n_assets: int, every: int) -> dict:
    panel = make_panel(n_sessions, n_assets)
    weights = make_weights(panel.shape, every=every)
    inputs = kernel_inputs(panel)
    frictionless = SimulationRules(init_cash=1e8, execution="close").frictionless()
    realistic = SimulationRules(init_cash=1e8)
    simulate_weights(panel, weights, frictionless, inputs=inputs)  # load the cached kernel
    simulate_weights(panel, weights, realistic, inputs=inputs)
    with PeakRSS() as mem:
        t_ours, ours = timed(lambda: simulate_weights(panel, weights, frictionless, inputs=inputs))
    t_rules, _ = timed(lambda: simulate_weights(panel, weights, realistic, inputs=inputs), repeats=2)
    import vectorbt as vbt

    close = panel.frame("close")
    size = pd.DataFrame(weights, index=close.index, columns=close.columns)

    def run_vbt():
        pf = vbt.Portfolio.from_orders(close, size=size, size_type="targetpercent", cash_sharing=True, group_by=True,
                                       call_seq="default", init_cash=1e8, freq="1D")
        return pf.value().to_numpy()

    t0 = time.perf_counter()
    ref = run_vbt()
    t_vbt_cold = time.perf_counter() - t0
    with PeakRSS() as vmem:
        t_vbt, ref = timed(run_vbt, repeats=1)
    rel = float(np.nanmax(np.abs(ours.equity.to_numpy() / ref - 1)))
    return {"shape": f"{n_sessions} × {n_assets}", "ours_s": t_ours, "ours_rules_s": t_rules, "vbt_s": t_vbt,
            "vbt_cold_s": t_vbt_cold, "ratio": t_vbt / t_ours, "peak_mb": mem.peak_mb, "start_mb": mem.start_mb,
            "vbt_peak_mb": vmem.peak_mb, "max_rel_diff_vs_vbt": rel, "fills": int(ours.trades["filled"].sum()),
            "every": every}


def with_raw_prices(panel: Panel, seed: int = 4) -> Panel:
    """The same adjusted panel with raw closes on the cent grid: a forward-adjusted factor that steps once a year
    per stock (a 0.5-3 % cash dividend; every 5th stock also 10转4 bonus shares), adjusted prices to 4 decimals."""
    from dataclasses import replace as dc_replace

    rng = np.random.default_rng(seed)
    n_sessions, n_assets = panel.shape
    step = np.ones(panel.shape)
    for year_start in range(250, n_sessions, 250):
        rows = year_start + rng.integers(0, 200, n_assets)
        ok = rows < n_sessions
        step[rows[ok], np.flatnonzero(ok)] = (1 + rng.uniform(0.005, 0.03, ok.sum())) * np.where(
            np.flatnonzero(ok) % 5 == 0, 1.4, 1.0)
    # qfq: close = raw × f with f = 1 after the last step and f_before = f_after / step at each ex-date, so
    # raw = close × Π(steps after t)
    later = np.cumprod(step[::-1], axis=0)[::-1]
    later = np.vstack([later[1:], np.ones((1, n_assets))])
    raw = np.round(panel.close * later, 2)
    return dc_replace(panel, raw_close=np.where(np.isfinite(panel.close), raw, np.nan))


def bench_raw(n_sessions: int, n_assets: int, every: int = 21) -> dict:
    """Share accounting on a panel with raw closes and corporate actions vs the same panel without raw closes."""
    base = make_panel(n_sessions, n_assets)
    panel = with_raw_prices(base)
    weights = make_weights(panel.shape, every=every)
    rules = SimulationRules(init_cash=1e8)
    t_inputs, inputs = timed(lambda: kernel_inputs(panel), repeats=2)
    plain = kernel_inputs(base)
    simulate_weights(panel, weights, rules, inputs=inputs)
    t_raw, res = timed(lambda: simulate_weights(panel, weights, rules, inputs=inputs))
    t_plain, _ = timed(lambda: simulate_weights(base, weights, rules, inputs=plain))
    held = res.positions.to_numpy()
    return {"inputs_s": t_inputs, "raw_s": t_raw, "plain_s": t_plain, "actions": len(inputs.actions.table),
            "applied": len(res.corporate_actions), "whole": bool((held % 1 == 0).all())}


def bench_sweep(n_sessions: int, n_assets: int, n_sets: int = 10, per_set: int = 100) -> dict:
    panel = make_panel(n_sessions, n_assets, seed=2)
    sets = []
    rng = np.random.default_rng(3)
    for k in range(n_sets):  # monthly rebalanced books of 30 names
        w = np.full(panel.shape, np.nan)
        for start in range(0, n_sessions, 21):
            names = rng.choice(n_assets, 30, replace=False)
            w[start] = 0.0
            w[start, names] = 1 / 30
        sets.append(w)
    variants, set_of = [], []
    for k in range(n_sets):
        for v in range(per_set):
            variants.append(SimulationRules(init_cash=1e7, commission_rate=0.0001 * (1 + v % 5),
                                            stop_loss=0.05 * (v // 5 % 4), execution="open" if v % 2 else "close",
                                            lots=v % 3 != 0))
            set_of.append(k)
    inputs = kernel_inputs(panel)
    simulate_sweep(panel, sets, variants[:4], weight_set_of_variant=set_of[:4], inputs=inputs)  # compile / load
    t, res = timed(lambda: simulate_sweep(panel, sets, variants, weight_set_of_variant=set_of, inputs=inputs), 2)
    # spot check: three variants equal single runs
    for v in (0, len(variants) // 3, len(variants) - 1):
        single = simulate_weights(panel, sets[set_of[v]], variants[v], inputs=inputs)
        assert np.allclose(single.equity.to_numpy(), res.equity[v].to_numpy(), rtol=1e-12), v
    t_one, _ = timed(lambda: simulate_weights(panel, sets[0], variants[0], inputs=inputs), 3)
    return {"shape": f"{len(variants)} variants × {n_sessions} × {n_assets}", "sweep_s": t,
            "per_variant_ms": t / len(variants) * 1e3, "single_run_with_records_s": t_one,
            "loop_of_single_runs_s_est": t_one * len(variants)}


def bench_cli() -> dict | None:
    shared = Path(os.environ.get("RATINGBT_SHARED", ROOT / ".." / "shared"))
    if not (shared / "seeds").is_dir():
        return None
    env = {**os.environ, "RATINGBT_SHARED": str(shared), "RATINGBT_RUNS": "/tmp/ratingbt_bench_runs",
           "RATINGBT_CACHE": "/tmp/ratingbt_bench_cache"}
    out = {}
    for label, extra in (("offline", ["--offline"]), ("provider_chain", [])):
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "engine.cli", "backtest", "configs/seeds.yaml", *extra],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-2000:])
        out[label] = {"first_s": times[0], "second_s": times[1]}
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    n_sessions, n_assets = (500, 1000) if quick else (2500, 5000)
    for every, label in ((21, "monthly rebalance"), (1, "daily rebalance, every cell an order")):
        r = bench_single(n_sessions, n_assets, every)
        print(f"1. target weights {r['shape']}, {label}: ours {r['ours_s']:.3f} s (frictionless, close), "
              f"{r['ours_rules_s']:.3f} s (A-share rules + costs, open); vectorbt from_orders call_seq=default "
              f"{r['vbt_s']:.2f} s warm ({r['vbt_cold_s']:.2f} s first) → {r['ratio']:.1f}× faster; memory: "
              f"{r['start_mb']:.0f} MB before (inputs), peak {r['peak_mb']:.0f} MB during ours, "
              f"{r['vbt_peak_mb']:.0f} MB during vectorbt; max rel. equity diff vs vectorbt "
              f"{r['max_rel_diff_vs_vbt']:.1e}; {r['fills']} fills", flush=True)
    r = bench_raw(n_sessions, n_assets)
    print(f"1b. with raw closes and corporate actions {n_sessions} × {n_assets}, monthly, A-share rules + costs, "
          f"open: kernel_inputs {r['inputs_s']:.2f} s (traded scale + {r['actions']} actions detected); "
          f"simulate {r['raw_s']:.3f} s vs {r['plain_s']:.3f} s on the same panel without raw closes "
          f"({r['raw_s'] / r['plain_s']:.2f}×); {r['applied']} actions applied to holdings; whole shares: "
          f"{r['whole']}", flush=True)
    sweep = bench_sweep(2500, 300) if not quick else bench_sweep(500, 100, 4, 25)
    print(f"2. sweep {sweep['shape']}: {sweep['sweep_s']:.2f} s in one call ({sweep['per_variant_ms']:.2f} ms per "
          f"variant); one detailed run {sweep['single_run_with_records_s']*1e3:.1f} ms", flush=True)
    cli = bench_cli()
    if cli is None:
        print("3. CLI: skipped (../shared not found; set RATINGBT_SHARED)")
    else:
        for label, t in cli.items():
            print(f"3. ratingbt backtest configs/seeds.yaml [{label}]: first {t['first_s']:.2f} s, "
                  f"second (new process) {t['second_s']:.2f} s")


if __name__ == "__main__":
    main()
