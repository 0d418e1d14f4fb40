"""Benchmark of ``ratingbt brokers`` on the real ratings (issue 12). Run: ``python bench/bench_brokers.py``.

Each figure is a new ``ratingbt`` process (imports and numba's cache load included), run twice, best shown:

1. ``ratingbt run configs/real_ratings.yaml`` — the whole job from the raw ratings CSV (18,731 rows: reading and
   normalising them, the market parquet, scoring, league, events, figures as PNG + SVG, report.html).
2. ``ratingbt brokers -r <signals.csv of run 1> …`` — the same on the ingested signals file (no CSV parsing).
3. peer, same prices and signals: ``ratingbt score --signals <signals.csv>`` with the market file imported into a
   temporary cache (the import is timed apart) — the scoring stage alone, for the ratio.

Before timing, run 1's output is checked: every broker with at least 20 ratings is in the league table and every
broker with a registry scale is judged by it. Prints one line per figure and the machine's load (``uptime``).
"""

from __future__ import annotations

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

from engine.paths import shared_dir  # noqa: E402


CPU: list[float] = []  # CPU seconds (user + system, all threads) of each timed process, in order


def timed(args: list[str], env: dict) -> float:
    """Wall seconds of one ``ratingbt`` process; its CPU seconds are appended to :data:`CPU` (on a loaded machine
    the CPU time is what the run would take alone, give or take numba's parallel threads)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def check(out: Path) -> str:
    from engine.signals.scales import load_registry

    league = pd.read_csv(out / "league.csv")
    signals = pd.read_csv(out / "signals.csv", usecols=["broker"])
    counts = signals.groupby("broker").size()
    brokers = league[league["group_by"] == "broker"].set_index("group")
    missing = set(counts[counts >= 20].index) - set(brokers.index)
    assert not missing, f"brokers with >= 20 ratings missing from the league: {missing}"
    registry = load_registry()
    with_scale = [b for b in brokers.index if registry.get(b) is not None and brokers.loc[b, "n_hit_eligible"] > 0]
    for b in with_scale:
        assert str(brokers.loc[b, "scale"]).startswith("registry:"), b
    return (f"{len(brokers)} brokers with >= 20 ratings listed ({len(with_scale)} judged by a registry scale, "
            f"{int((brokers['rank_basis'] == 'direction & excess (no scale)').sum())} on direction only)")


def main() -> None:
    shared = shared_dir()
    if not (shared / "data" / "ratings").is_dir():
        raise SystemExit(f"needs {shared}/data/ratings (set RATINGBT_SHARED)")
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load: {load}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RATINGBT_CACHE": str(tmp / "cache"), "COLUMNS": "200"}
        runs = tmp / "runs"
        full = [timed(["run", "configs/real_ratings.yaml", "-o", str(runs)], env) for _ in range(2)]
        out = runs / "real_ratings"
        print("check:", check(out))
        print(f"ratingbt run configs/real_ratings.yaml (raw CSV → league, events, PNG+SVG, report): "
              f"{full[0]:.1f} s first, {full[1]:.1f} s second wall; CPU {CPU[0]:.1f} s, {CPU[1]:.1f} s")
        signals = tmp / "signals.csv"
        (out / "signals.csv").replace(signals)
        market = shared / "data" / "market" / "ashare_daily_2024_2025.parquet"
        bench = shared / "data" / "prices" / "SH000300.csv"
        ingested = [timed(["brokers", "-r", str(signals), "--market-file", str(market), "--benchmark", str(bench),
                           "--figures", "png,svg", "-o", str(tmp / "from_signals")], env) for _ in range(2)]
        print(f"ratingbt brokers -r signals.csv (ingested file): {ingested[0]:.1f} s first, {ingested[1]:.1f} s "
              f"second wall; CPU {CPU[2]:.1f} s, {CPU[3]:.1f} s")
        t_import = timed(["data", "import", str(market), str(bench)], env)
        peer = [timed(["score", "--signals", str(signals), "-o", str(tmp / "score")], env) for _ in range(2)]
        print(f"peer: ratingbt score --signals signals.csv (cache; import {t_import:.1f} s apart): "
              f"{peer[0]:.1f} s first, {peer[1]:.1f} s second wall; CPU {CPU[5]:.1f} s, {CPU[6]:.1f} s")
        print(f"ratio brokers (ingested) / score: wall {min(ingested) / min(peer):.2f}, CPU "
              f"{min(CPU[2:4]) / min(CPU[5:7]):.2f}; run from raw CSV / score: wall {min(full) / min(peer):.2f}, "
              f"CPU {min(CPU[0:2]) / min(CPU[5:7]):.2f}")
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
