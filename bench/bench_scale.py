"""Benchmark sweeps and bulk ingestion on worker processes (issue 13). Run: ``python bench/bench_scale.py [--quick]``.

1. Sweep: 2,000 variants (4 weight sets × 500 cost / stop-loss / rule settings) on 1,000 assets × 2,500 sessions:
   in-process (one kernel call, today's path) against a Dask ``LocalCluster`` of 1 and 2 worker processes and a
   plain process pool of 2; every table is compared with the in-process one (1e-12) before its time is printed.
   Also: per-variant kernel and statistics cost, bytes sent to each worker, and a model of the time on 32 workers.
2. Ingest: the stripped corpus (``../shared/corpus/stripped``, 466 reports) in-process against 1 and 2 workers
   (signals compared first), per-file cost, and ``ratingbt ingest`` wall time in a new process with and without
   ``--workers 2``.

Every figure is printed with the machine load (``uptime``) measured next to it; the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.backtest.simulate import SimulationRules, kernel_inputs  # noqa: E402
from engine.backtest.sweep import SweepData, run_chunk, run_sweep, SweepChunk  # noqa: E402
from engine.data.panel import Panel  # noqa: E402
from engine.executor import InProcessExecutor  # noqa: E402


def load() -> str:
    return os.getloadavg().__repr__()


def make_panel(n_sessions: int, n_assets: int, seed: int = 0) -> Panel:
    """Random-walk main-board panel; the last column is the benchmark index."""
    rng = np.random.default_rng(seed)
    close = 10.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (n_sessions, n_assets)), axis=0))
    close[rng.random(close.shape) < 0.01] = np.nan
    close[:, -1] = 3500.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, n_sessions)))
    open_ = close * (1 + rng.normal(0, 0.003, close.shape))
    sessions = pd.bdate_range("2015-01-05", periods=n_sessions).to_numpy(dtype="datetime64[ns]")
    codes = np.array([f"{600000 + j:06d}.SH" for j in range(n_assets - 1)] + ["000300.SH"], dtype=object)
    boards = np.array(["main"] * (n_assets - 1) + ["index"], dtype=object)
    return Panel(sessions=sessions, codes=codes, open=open_, high=np.fmax(open_, close), low=np.fmin(open_, close),
                 close=close, raw_close=np.full_like(close, np.nan), volume=np.where(np.isfinite(close), 1e6, np.nan),
                 tradable=np.isfinite(close), markets=np.array(["A"] * n_assets, dtype=object), boards=boards)


def sweep_case(n_sessions: int, n_assets: int, n_sets: int, n_variants: int):
    panel = make_panel(n_sessions, n_assets)
    rng = np.random.default_rng(1)
    weights = np.full((n_sets, n_sessions, n_assets), np.nan)
    for s in range(n_sets):  # 50 names held, rebalanced every 21 sessions
        for i in range(0, n_sessions, 21):
            row = np.zeros(n_assets)
            row[rng.choice(n_assets - 1, 50, replace=False)] = 0.95 / 50
            weights[s, i] = row
    rules = [SimulationRules(commission_rate=0.0001 * (v % 5), commission_min=5.0 * (v % 2),
                             stop_loss=(0.0, 0.05, 0.1, 0.15)[v % 4], lots=v % 3 != 2, t_plus_one=v % 7 != 0)
             for v in range(n_variants)]
    sets = [v % n_sets for v in range(n_variants)]
    bench = pd.Series(panel.close[:, -1], index=pd.DatetimeIndex(panel.sessions, name="date"))
    data = SweepData(inputs=kernel_inputs(panel), weights=weights, sessions=panel.sessions,
                     bench_scaled=bench / bench.iloc[0] * 1e6, bench_close=bench, periods=242.0, use_low=True)
    return data, rules, sets


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bench_sweep(quick: bool) -> None:
    from engine.backtest.simulate import params_matrix
    from engine.executor.distributed import DaskExecutor
    from engine.executor.local import ProcessExecutor

    n_sessions, n_assets, n_variants = (500, 200, 200) if quick else (2500, 1000, 2000)
    data, rules, sets = sweep_case(n_sessions, n_assets, 4, n_variants)
    print(f"\n## Sweep: {n_variants} variants on {n_assets} assets × {n_sessions} sessions (4 weight sets)")
    print(f"bytes sent to each worker (kernel arrays + weights + benchmark): {data.nbytes() / 2**20:.0f} MiB")
    # warm the kernel (compile / load the cache) and split the cost of one variant into kernel and statistics
    params = params_matrix(rules, sets)
    probe = SweepChunk(0, np.arange(40), params[:40])
    run_chunk(SweepChunk(0, np.arange(2), params[:2]), data)
    from engine.kernels.simulate import simulate_batch_nb
    inp = data.inputs
    acts = inp.actions
    _, t_kernel = timed(lambda: simulate_batch_nb(data.weights, data.row_active, probe.params, inp.open, inp.low,
                                                  inp.close, inp.scale, inp.basis, inp.tradable, inp.st, inp.board,
                                                  inp.lot_step, inp.min_buy, inp.listing_idx, inp.fx_col, inp.fx,
                                                  inp.fee_table, acts.ptr, acts.asset, acts.data))
    _, t_chunk = timed(lambda: run_chunk(probe, data))
    per_kernel, per_stats = t_kernel / 40, (t_chunk - t_kernel) / 40
    print(f"per variant, in this process (numba on all cores): kernel {per_kernel * 1e3:.1f} ms, statistics "
          f"{per_stats * 1e3:.1f} ms (load {load()})")

    ref, t_ref = timed(lambda: run_sweep(data, rules, sets, executor=InProcessExecutor())[0])
    print(f"| executor | workers | start [s] | sweep [s] | total [s] | speed-up vs in-process | efficiency vs 1 worker "
          f"| load |\n|---|---|---|---|---|---|---|---|")
    print(f"| in-process (one kernel call) | — | 0 | {t_ref:.1f} | {t_ref:.1f} | 1.00 | — | {load()} |")
    one_worker = None
    for label, make, n in (("Dask LocalCluster", lambda: DaskExecutor(workers=1), 1),
                           ("Dask LocalCluster", lambda: DaskExecutor(workers=2), 2),
                           ("process pool", lambda: ProcessExecutor(2), 2)):
        ex, t_start = timed(make)
        chunk = max(1, n_variants // (4 * n))
        with ex:
            table, t_run = timed(lambda: run_sweep(data, rules, sets, executor=ex, chunk_size=chunk)[0])
        pd.testing.assert_frame_equal(table, ref, check_exact=False, rtol=1e-12, atol=1e-12)
        total = t_start + t_run
        if label.startswith("Dask") and n == 1:
            one_worker = total
        eff = f"{one_worker / (n * total):.2f}" if one_worker and n > 1 else "—"
        print(f"| {label} (chunks of {chunk}) | {n} | {t_start:.1f} | {t_run:.1f} | {total:.1f} | "
              f"{t_ref / total:.2f} | {eff} | {load()} |")
    # model for 32 workers: each worker runs n/32 variants at the single-thread per-variant cost, after the start
    # and one transfer of the shared arrays
    cores = os.cpu_count() or 1
    per_variant_1thread = per_kernel * cores + per_stats
    for n_var, n_asset, label in ((n_variants, n_assets, "this sweep"), (100_000, 5000, "issue's 10⁵ × 5,000")):
        scale = n_asset / n_assets
        work = n_var * (per_kernel * cores * scale + per_stats) / 32
        mib = data.nbytes() * scale / 2**20
        print(f"model, 32 workers, {label}: start ~5 s + {mib:.0f} MiB per worker at ~100 MB/s "
              f"({mib * 1.05 / 100:.1f} s) + {n_var}/32 variants × {per_kernel * cores * scale + per_stats:.3f} s "
              f"= {5 + mib * 1.05 / 100 + work:.0f} s (one worker thread each; per variant single-thread "
              f"{per_variant_1thread:.3f} s at {n_assets} assets)")


def bench_ingest(quick: bool) -> None:
    from engine.executor.distributed import DaskExecutor
    from engine.executor.local import ProcessExecutor
    from engine.paths import shared_dir
    from engine.signals.ingest import expand_paths, ingest_paths
    from engine.signals.scales import load_registry
    from engine.signals.security_master import load_security_master

    folder = shared_dir() / "corpus" / "stripped"
    if not folder.is_dir():
        print(f"\n(ingest skipped: {folder} not found)")
        return
    files = expand_paths([folder])[0]
    paths = files[:60] if quick else [folder]
    n = 60 if quick else len(files)
    registry, master = load_registry(), load_security_master()
    print(f"\n## Ingest: {n} files of {folder} (the parser as it is on this branch)")
    ref, t_ref = timed(lambda: ingest_paths(paths, registry=registry, master=master))
    print(f"| executor | workers | start [s] | ingest [s] | total [s] | per file [ms] | speed-up | load |\n"
          f"|---|---|---|---|---|---|---|---|")
    print(f"| in-process | — | 0 | {t_ref:.1f} | {t_ref:.1f} | {t_ref / n * 1e3:.1f} | 1.00 | {load()} |")
    for label, make, k in (("Dask LocalCluster", lambda: DaskExecutor(workers=1), 1),
                           ("Dask LocalCluster", lambda: DaskExecutor(workers=2), 2),
                           ("process pool", lambda: ProcessExecutor(2), 2)):
        ex, t_start = timed(make)
        with ex:
            res, t_run = timed(lambda: ingest_paths(paths, registry=registry, master=master, executor=ex))
        pd.testing.assert_frame_equal(res.signals, ref.signals)
        total = t_start + t_run
        print(f"| {label} | {k} | {t_start:.1f} | {t_run:.1f} | {total:.1f} | {t_run / n * 1e3 * k:.1f} (worker) | "
              f"{t_ref / total:.2f} | {load()} |")
    if quick:
        return
    print("\n`ratingbt ingest` in a new process (imports, registry, files, table; output to /dev/null):")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for extra in ([], ["--workers", "2", "--executor", "processes"], ["--workers", "2"]):
        cmd = [sys.executable, "-m", "engine.cli", "ingest", str(folder), "-q", *extra]
        t = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"  {' '.join(['ratingbt ingest', str(folder), '-q', *extra])}: {time.perf_counter() - t:.1f} s "
              f"(load {load()})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", choices=["sweep", "ingest"], default=None)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {load()}")
    if args.only in (None, "sweep"):
        bench_sweep(args.quick)
    if args.only in (None, "ingest"):
        bench_ingest(args.quick)


if __name__ == "__main__":
    main()
