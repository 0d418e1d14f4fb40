"""Benchmark of ``ratingbt score`` end to end over the whole market (issue 10), against a plain pandas read + pivot.

Writes 100,000 random signals (``bench_score.random_signals``) over the market file's stocks, then runs the CLI in a
new process twice with a fresh store (``--prices`` the market parquet and CSI 300): the first run fills the store from
the parquet, the second reads it back. Peer, measured in the same run: ``pd.read_parquet`` + ``pivot`` of the market
file (what a pandas user does before any scoring). Prints one line per figure and the machine's load.

Run: ``python bench/bench_score_cli.py [--signals N]``.
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--signals", type=int, default=100_000)
    args = parser.parse_args()
    root = shared_dir() / "data"
    market = root / "market" / "ashare_daily_2024_2025.parquet"
    with tempfile.TemporaryDirectory() as tmp:
        panel, _ = market_panel()
        signals_path = Path(tmp) / "signals.parquet"
        random_signals(panel, args.signals).to_parquet(signals_path, index=False)
        del panel
        t0 = time.perf_counter()
        long = pd.read_parquet(market)
        long.pivot(index="date", columns="code", values="close")
        peer = time.perf_counter() - t0
        env = dict(os.environ, RATINGBT_CACHE=str(Path(tmp) / "cache"))
        cmd = [sys.executable, "-m", "engine.cli", "score", "--signals", str(signals_path), "--prices", str(market),
               "--prices", str(root / "prices" / "SH000300.csv"), "-o", str(Path(tmp) / "out")]
        for label in ("first run (store filled from the parquet)", "second run (store)"):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
            took = time.perf_counter() - t0
            if done.returncode != 0:
                raise SystemExit(f"ratingbt score failed: {done.stderr[-2000:]}")
            print(f"ratingbt score, {args.signals:,} signals, {label}: {took:.1f} s = {took / peer:.1f}× the peer")
    print(f"peer: pandas read_parquet + pivot of the market file: {peer:.2f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
