"""CLI start-up and report build, this checkout against a peer checkout (by default the lead's ``main``), same run.

    python bench/bench_cli.py [--peer /work/main] [--run-dir runs/seeds] [--repeat 7]

1. ``ratingbt --help`` (and ``ratingbt run --help``): wall time of a fresh ``python -m engine.cli`` process, best and
   median of ``--repeat``; each checkout's ``engine`` is put first on ``PYTHONPATH``.
2. ``write_run_report(run_dir)``: the HTML report of a finished run folder (``ratingbt run`` writes one), in a fresh
   process per checkout: import time of :mod:`engine.report` and the build itself (second build, warm), best of 3.

Prints one line per figure with the peer's figure and the ratio. Record ``uptime`` next to the figures: the machine is
shared and wall times move with its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_REPORT_SCRIPT = """
import sys, time, tempfile, shutil
from pathlib import Path
t0 = time.perf_counter()
from engine.report import write_run_report
t1 = time.perf_counter()
src = Path(sys.argv[1])
best = float('inf')
with tempfile.TemporaryDirectory() as tmp:
    run = Path(tmp) / src.name
    shutil.copytree(src, run)
    for _ in range(4):
        a = time.perf_counter(); write_run_report(run, title='bench'); best = min(best, time.perf_counter() - a)
print(f"{t1 - t0:.4f} {best:.4f}")
"""


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "100"}


def time_help(root: Path, args: list[str], repeat: int) -> tuple[float, float, float]:
    """Best and median wall seconds of ``python -m engine.cli ARGS`` with ``root`` first on the path, and the median
    CPU seconds (user + system) of the process, which a loaded machine inflates much less than wall time."""
    import resource

    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "engine.cli", *args], env=_env(root), cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(times), statistics.median(times), statistics.median(cpu)


def time_report(root: Path, run_dir: Path) -> tuple[float, float]:
    """(import seconds of engine.report, best build seconds) in a fresh process of ``root``."""
    out = subprocess.run([sys.executable, "-c", _REPORT_SCRIPT, str(run_dir)], env=_env(root), cwd=root,
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, default=Path("/work/main"))
    parser.add_argument("--run-dir", type=Path, default=HERE / "runs" / "seeds")
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for args in (["--help"], ["run", "--help"]):
        mine = time_help(HERE, args, opts.repeat)
        peer = time_help(opts.peer, args, opts.repeat)
        print(f"ratingbt {' '.join(args)}: wall best {mine[0]:.3f} s, median {mine[1]:.3f} s, CPU {mine[2]:.3f} s | "
              f"peer wall best {peer[0]:.3f} s, median {peer[1]:.3f} s, CPU {peer[2]:.3f} s | "
              f"ratio (median wall) {peer[1] / mine[1]:.1f}x faster")
    if opts.run_dir.is_dir():
        mine_import, mine_build = time_report(HERE, opts.run_dir)
        peer_import, peer_build = time_report(opts.peer, opts.run_dir)
        print(f"report build (warm, best of 4): {mine_build:.3f} s | peer {peer_build:.3f} s | "
              f"ratio {peer_build / mine_build:.1f}x; import engine.report {mine_import:.3f} s | peer {peer_import:.3f} s")
    else:
        print(f"no run folder at {opts.run_dir}: run `ratingbt run configs/seeds.yaml` first for the report figure")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
