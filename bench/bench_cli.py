"""CLI start-up, report build and the second seeds run, this checkout against a peer checkout (by default the lead's
``main``), same run.

    python bench/bench_cli.py [--peer /work/main] [--run-dir runs/seeds] [--repeat 7] [--part help|seeds|all]

1. ``ratingbt --help`` (and ``ratingbt run --help``): wall time of a fresh ``python -m engine.cli`` process, best and
   median of ``--repeat``; each checkout's ``engine`` is put first on ``PYTHONPATH``.
2. ``write_run_report(run_dir)``: the HTML report of a finished run folder (``ratingbt run`` writes one), in a fresh
   process per checkout: import time of :mod:`engine.report` and the build itself (second build, warm), best of 3.

3. ``--part seeds``: a *second* ``ratingbt run configs/seeds.yaml`` (the store and numba's cache already warm): one
   warm-up run per checkout into its own temporary store and runs folder (``RATINGBT_CACHE``, ``RATINGBT_RUNS``),
   then ``--seeds-repeat`` (default 5) fresh processes; best and median wall time, and the median time of each stage
   (start-up = Python's start and exit; cli imports = the CLI and the pipeline module; signals, prices, score, backtest, screen, report = the pipeline's steps;
   summary = the tables printed at the end). The output tables of both checkouts are compared (equal or not).

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


_SEEDS_SCRIPT = """
import json, sys, time
t_in = time.perf_counter()
marks = [("start-up", t_in)]
import engine.cli
import engine.pipeline as pipeline
marks.append(("cli imports", time.perf_counter()))
inner = pipeline.run_pipeline

def timed(*args, progress=None, **kwargs):
    marks.append(("config", time.perf_counter()))
    def on_step(step):
        marks.append((step, time.perf_counter()))
        if progress is not None:
            progress(step)
    try:
        return inner(*args, progress=on_step, **kwargs)
    finally:
        marks.append(("pipeline end", time.perf_counter()))

pipeline.run_pipeline = timed
real_exit = getattr(engine.cli, "exit_now", None)

def report(code=0):
    marks.append(("exit", time.perf_counter()))
    # stage name -> seconds: each mark ends the stage named by the mark before it
    names = {"start-up": "cli imports", "cli imports": "cli + config", "config": "cli + config",
             "pipeline end": "summary"}
    out = {}
    for (name, t), (_, t_next) in zip(marks, marks[1:]):
        label = names.get(name, name)
        out[label] = out.get(label, 0.0) + t_next - t
    out["in-process"] = marks[-1][1] - t_in
    print("SEEDS " + json.dumps(out), file=sys.stderr, flush=True)
    if real_exit is not None:
        real_exit(code)  # the CLI's own way out (a checkout without it returns from main)
    sys.exit(code)

if real_exit is not None:
    engine.cli.exit_now = report
sys.argv = ["ratingbt", "run", sys.argv[1]]
try:
    engine.cli.main()
except SystemExit as exc:
    report(exc.code)
report(0)
"""

SEEDS_STAGES = ("start-up", "cli imports", "cli + config", "signals", "prices", "score", "backtest", "screen", "report",
                "summary", "CPU")
SEEDS_TABLES = ("signals.csv", "scores.csv", "scorecard.csv", "event_study.csv", "equity.csv", "trades.csv",
                "positions.csv", "actions.csv", "screen.csv", "stats.json")


def _env(root: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "100", **extra}


def time_seeds(root: Path, work: Path, repeat: int) -> tuple[list[float], dict[str, float], Path]:
    """Wall seconds of ``repeat`` second runs of ``ratingbt run configs/seeds.yaml`` in fresh processes of
    ``root`` (after one warm-up run filling ``work``'s store and numba's cache), the median seconds per stage, and
    the run folder written."""
    import json

    config = root / "configs" / "seeds.yaml"
    env = _env(root, RATINGBT_CACHE=str(work / "cache"), RATINGBT_RUNS=str(work / "runs"))
    import resource

    walls, stages = [], []
    for k in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _SEEDS_SCRIPT, str(config)], env=env, cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise SystemExit(f"ratingbt run {config} failed in {root}:\n{done.stderr[-2000:]}")
        line = next(x for x in done.stderr.splitlines() if x.startswith("SEEDS "))
        if k == 0:
            continue  # warm-up: fills the store and numba's cache
        stage = json.loads(line[len("SEEDS "):])
        stage["start-up"] = wall - stage.pop("in-process")  # interpreter start until the script's first line
        stage["CPU"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        walls.append(wall)
        stages.append(stage)
    median = {name: statistics.median(s.get(name, 0.0) for s in stages) for name in SEEDS_STAGES}
    return walls, median, work / "runs" / "seeds"


def same_tables(a: Path, b: Path) -> list[str]:
    """Names of the seeds run's output tables that differ between run folders ``a`` and ``b`` (byte for byte)."""
    return [name for name in SEEDS_TABLES
            if not (a / name).is_file() or not (b / name).is_file()
            or (a / name).read_bytes() != (b / name).read_bytes()]


def report_seeds(peer: Path | None, repeat: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ratingbt-bench-seeds-") as tmp:
        mine = time_seeds(HERE, Path(tmp) / "mine", repeat)
        if peer is None:
            walls, stages, _ = mine
            print(f"second `ratingbt run configs/seeds.yaml`: wall best {min(walls):.3f} s, median "
                  f"{statistics.median(walls):.3f} s; median per stage: "
                  + ", ".join(f"{n} {stages[n]:.3f} s" for n in SEEDS_STAGES))
            return
        theirs = time_seeds(peer, Path(tmp) / "peer", repeat)
        for label, (walls, stages, _) in (("this checkout", mine), ("peer", theirs)):
            print(f"second `ratingbt run configs/seeds.yaml`, {label}: wall best {min(walls):.3f} s, median "
                  f"{statistics.median(walls):.3f} s ({len(walls)} fresh processes after one warm-up)")
            print("  median per stage: " + ", ".join(f"{n} {stages[n]:.3f} s" for n in SEEDS_STAGES))
        print(f"ratio (median wall, peer / this checkout): "
              f"{statistics.median(theirs[0]) / statistics.median(mine[0]):.1f}x")
        differ = same_tables(mine[2], theirs[2])
        print("output tables " + (f"DIFFER from the peer's: {', '.join(differ)}" if differ else
                                  f"identical to the peer's ({', '.join(SEEDS_TABLES)})"))


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
    parser.add_argument("--seeds-repeat", type=int, default=5)
    parser.add_argument("--part", choices=("help", "seeds", "all"), default="all")
    opts = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if opts.part in ("seeds", "all"):
        report_seeds(None if str(opts.peer) in ("", "none") else opts.peer, opts.seeds_repeat)
    if opts.part == "seeds":
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        return
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
