"""Benchmark of ``ratingbt score`` end to end over the whole market (issue 10), against a plain pandas read + pivot.

For each size in ``--signals`` (default 100,000 and 1,000,000) writes that many random signals
(``bench_score.random_signals``) over the market file's stocks, then runs the CLI in a new process twice with a fresh
store (``--prices`` the market parquet and CSI 300): the first run fills the store from the parquet, the second reads
it back. Peer, measured in the same run: ``pd.read_parquet`` + ``pivot`` of the market file (what a pandas user does
before any scoring). Prints one line per figure (wall time, ratio to the peer, the CLI process's peak RSS) and the
machine's load.

Run: ``python bench/bench_score_cli.py [--signals 100000,1000000]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_score import market_panel, random_signals  # noqa: E402

from engine.paths import shared_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", default="100000,1000000", help="comma-separated numbers of signals")
    args = parser.parse_args()
    sizes = [int(x) for x in args.signals.split(",") if x.strip()]
    root = shared_dir() / "data"
    market = root / "market" / "ashare_daily_2024_2025.parquet"
    with tempfile.TemporaryDirectory() as tmp:
        panel, _ = market_panel()
        paths = {}
        for n in sizes:
            paths[n] = Path(tmp) / f"signals_{n}.parquet"
            random_signals(panel, n).to_parquet(paths[n], index=False)
        del panel
        t0 = time.perf_counter()
        long = pd.read_parquet(market)
        long.pivot(index="date", columns="code", values="close")
        peer = time.perf_counter() - t0
        del long
        for n in sizes:
            env = dict(os.environ, RATINGBT_CACHE=str(Path(tmp) / f"cache_{n}"))
            cmd = [sys.executable, "-m", "engine.cli", "score", "--signals", str(paths[n]), "--prices", str(market),
                   "--prices", str(root / "prices" / "SH000300.csv"), "-o", str(Path(tmp) / f"out_{n}")]
            for label in ("first run (store filled from the parquet)", "second run (store)"):
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                t0 = time.perf_counter()
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
                took = time.perf_counter() - t0
                if done.returncode != 0:
                    raise SystemExit(f"ratingbt score failed: {done.stderr[-2000:]}")
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                rss = f"peak RSS {peak / 1024:.0f} MiB" if peak > before else "peak RSS ≤ an earlier run's"
                print(f"ratingbt score, {n:,} signals, {label}: {took:.1f} s = {took / peer:.1f}× the peer; {rss}",
                      flush=True)
    print(f"peer: pandas read_parquet + pivot of the market file: {peer:.2f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
