"""Benchmark of ``ratingbt score`` end to end over the whole market (issue 10), against a plain pandas read + pivot.

For each size in ``--signals`` (default 100,000 and 1,000,000) writes that many random signals
(``bench_score.random_signals``) over the market file's stocks, then runs the CLI in a new process with a fresh
store (``--prices`` the market parquet and CSI 300): once to fill the store from the parquet, then ``--repeat``
times reading it back (the "second run" a user makes: the whole-market panel then comes from the panel memo,
``engine.data.panel_memo``), each followed by a run with ``RATINGBT_PANEL_MEMO=0`` (the panel read from the store,
reported on its own line). Two peers, measured in the same run and interleaved with
the CLI runs (this VM's timings vary ±30 % from one run to the next, so each figure is the median of ``--repeat``):

- **in-process peer** (the issue's definition): ``pd.read_parquet`` + ``pivot`` of the market file's close in this
  process, pandas already imported;
- **new-process peer** (like for like with a CLI run): the same two lines as a new ``python -c`` process, i.e. with
  the interpreter's start and pandas' import, as a user's script pays them.

Prints one line per figure (median and best wall time, ratio of the medians to each peer, the CLI process's peak
RSS), the peers, and the machine's load. All runs use ``-u PYTHONDONTWRITEBYTECODE`` semantics of the caller's
environment (run it as ``env -u PYTHONDONTWRITEBYTECODE python bench/bench_score_cli.py`` where the sandbox sets it,
so the engine's bytecode is cached as in a normal install).

Run: ``python bench/bench_score_cli.py [--signals 100000,1000000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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

PEER_CODE = ("import pandas as pd, sys\n"
             "long = pd.read_parquet(sys.argv[1])\n"
             "long.pivot(index='date', columns='code', values='close')\n")


def _in_process_peer(market: Path) -> float:
    t0 = time.perf_counter()
    long = pd.read_parquet(market)
    long.pivot(index="date", columns="code", values="close")
    return time.perf_counter() - t0


def _timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall time of ``cmd`` in a new process and its peak RSS in MiB (0 when not above an earlier child's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, (peak / 1024 if peak > before else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", default="100000,1000000", help="comma-separated numbers of signals")
    parser.add_argument("--repeat", type=int, default=5, help="second runs (and peer runs) per size; medians")
    args = parser.parse_args()
    sizes = [int(x) for x in args.signals.split(",") if x.strip()]
    root = shared_dir() / "data"
    market = root / "market" / "ashare_daily_2024_2025.parquet"
    in_peer: list[float] = []
    new_peer: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        panel, _ = market_panel()
        paths = {}
        for n in sizes:
            paths[n] = Path(tmp) / f"signals_{n}.parquet"
            random_signals(panel, n).to_parquet(paths[n], index=False)
        del panel
        in_peer.append(_in_process_peer(market))  # the first read fills the page cache for everyone
        for n in sizes:
            env = dict(os.environ, RATINGBT_CACHE=str(Path(tmp) / f"cache_{n}"))
            cmd = [sys.executable, "-m", "engine.cli", "score", "--signals", str(paths[n]), "--prices", str(market),
                   "--prices", str(root / "prices" / "SH000300.csv"), "-o", str(Path(tmp) / f"out_{n}")]
            first, first_rss = _timed(cmd, env)
            runs, peaks, no_memo = [], [first_rss], []
            for _ in range(args.repeat):
                took, rss = _timed(cmd, env)
                runs.append(took)
                peaks.append(rss)
                no_memo.append(_timed(cmd, dict(env, RATINGBT_PANEL_MEMO="0"))[0])
                new_peer.append(_timed([sys.executable, "-c", PEER_CODE, str(market)])[0])
                in_peer.append(_in_process_peer(market))
            med_in, med_new = statistics.median(in_peer), statistics.median(new_peer)
            med, med_off = statistics.median(runs), statistics.median(no_memo)
            print(f"ratingbt score, {n:,} signals: first run (store filled from the parquet) {first:.2f} s; "
                  f"second run median {med:.2f} s (best {min(runs):.2f}, {len(runs)} runs) = "
                  f"{med / med_in:.1f}× the in-process peer, {med / med_new:.1f}× the new-process peer; "
                  f"peak RSS {max(peaks):.0f} MiB", flush=True)
            print(f"  the same with the panel memo off (RATINGBT_PANEL_MEMO=0: the panel read from the store): "
                  f"median {med_off:.2f} s (best {min(no_memo):.2f}) = {med_off / med_in:.1f}× the in-process "
                  f"peer, {med_off / med_new:.1f}× the new-process peer", flush=True)
    print(f"in-process peer (pandas read_parquet + pivot, pandas imported): median {statistics.median(in_peer):.2f} s "
          f"(best {min(in_peer):.2f}, {len(in_peer)} runs)")
    print(f"new-process peer (the same as `python -c`): median {statistics.median(new_peer):.2f} s "
          f"(best {min(new_peer):.2f}, {len(new_peer)} runs); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
