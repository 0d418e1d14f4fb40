"""Benchmark: the whole A-share market (5,154 stocks × 457 sessions) into a Panel from the store.

Compares, in the same run (each variant in its own fresh subprocess, so its memory is its own):
  * store   — ``load_panel(all codes, offline=True, cache=<store>, calendar="data")``: the entry every stage calls,
              after ``data import`` of the market file into a fresh store (import timed separately);
  * named   — ``load_panel`` with the market file named as a local source (``data.prices``) on a store that
              already read it: what a config run costs once the file is known (stat + plan + read);
  * memo    — ``named`` with the panel memo on (the default; ``engine.data.panel_memo``): the cold call reads the
              store and writes the memo, the warm calls read the memo. ``store`` and ``named`` pass
              ``memo=False``, so they time the store itself;
  * pandas  — the plain peer: ``pd.read_parquet`` of the market file + ``DataFrame.pivot`` per field (×100 volume,
              tradable mask).
Before timing, the store panel is checked equal to the pandas pivot (codes, sessions, every field, tradable).
Reported: cold (first call in the process) and warm (best of ``--repeat``) wall time, peak RSS growth of the cold
call (psutil, 5 ms sampling), and the ratio to pandas measured in the same run.

    python bench/bench_store.py [--market PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_panel import PeakRSS, default_market, pandas_reference  # noqa: E402


def store_panel(cache_dir: str):
    from engine.data.cache import PriceCache
    from engine.data.load import load_panel

    cache = PriceCache(cache_dir)
    return load_panel(cache.codes(), offline=True, cache=cache, calendar="data", on_missing="ignore", memo=False)


def named_panel(arg: str, memo: bool = False):
    from engine.data.load import load_panel
    from engine.data.providers.local import LocalProvider

    cache_dir, market, codes_file = arg.split("|")
    codes = Path(codes_file).read_text().split()
    return load_panel(codes, "2024-01-01", "2025-12-31", offline=True, cache=cache_dir, calendar="data",
                      providers=[LocalProvider(roots=[Path(market)])], on_missing="ignore", memo=memo)


def run_variant(name: str, arg: str, repeat: int) -> dict:
    import gc

    import numpy  # noqa: F401  - import cost outside the measurement
    import pandas  # noqa: F401
    import psutil

    import engine.data.load  # noqa: F401

    fn = {"store": store_panel, "named": named_panel, "memo": lambda a: named_panel(a, memo=True),
          "pandas": lambda a: pandas_reference(Path(a))}[name]
    gc.collect()
    base = psutil.Process().memory_info().rss
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        result = fn(arg)
        cold = time.perf_counter() - t0
    del result
    gc.collect()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(arg)
        times.append(time.perf_counter() - t0)
        del result
        gc.collect()
    return {"variant": name, "cold_s": cold, "best_s": min(times), "peak_rss_mb": (rss.peak - base) / 2**20}


def spawn(name: str, arg: str, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--variant", name, "--arg", arg, "--repeat", str(repeat)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_equal(cache_dir: str, path: Path) -> None:
    """The store panel must hold exactly what the pandas pivot holds (same sessions, codes, values)."""
    import numpy as np

    from engine.symbols import normalize_symbol

    panel = store_panel(cache_dir)
    ref = pandas_reference(path)
    ref_codes = [normalize_symbol(c) for c in ref["close"].columns]
    order = np.argsort(np.array(ref_codes, dtype=str), kind="stable")
    assert list(panel.codes) == [ref_codes[i] for i in order], "codes differ"
    assert (panel.sessions == ref["close"].index.to_numpy(dtype="datetime64[ns]")).all(), "sessions differ"
    for field in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(panel, field), ref[field].to_numpy()[:, order], err_msg=field)
    np.testing.assert_array_equal(panel.tradable, ref["tradable"].to_numpy()[:, order])
    print(f"check: store panel == pandas pivot for {panel.shape[1]} codes × {panel.shape[0]} sessions, "
          "5 fields + tradable")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--market", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.arg, args.repeat)))
        return
    path = (args.market or default_market()).resolve()
    if not path.is_file():
        sys.exit(f"market file not found: {path} (pass --market or set RATINGBT_SHARED)")
    from engine.data.cache import PriceCache
    from engine.data.importer import import_paths

    print(f"market file: {path} ({path.stat().st_size / 2**20:.1f} MiB); load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    tmp = tempfile.mkdtemp(prefix="ratingbt-bench-store-")
    t0 = time.perf_counter()
    import_paths([path], PriceCache(tmp))
    print(f"data import of the market file into a fresh store (SQL over parquet, validated, one transaction): "
          f"{time.perf_counter() - t0:.1f} s")
    check_equal(tmp, path)
    codes_file = Path(tmp) / "codes.txt"
    codes_file.write_text("\n".join(PriceCache(tmp).codes()))
    try:
        results = [spawn("pandas", str(path), args.repeat), spawn("store", tmp, args.repeat),
                   spawn("named", f"{tmp}|{path}|{codes_file}", args.repeat),
                   spawn("memo", f"{tmp}|{path}|{codes_file}", args.repeat)]
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # the fresh store (~100 MB)
    ref = results[0]
    print(f"{'variant':<8} {'cold [s]':>9} {'warm best [s]':>14} {'peak RSS [MiB]':>15} {'warm vs pandas':>15}")
    for r in results:
        print(f"{r['variant']:<8} {r['cold_s']:>9.2f} {r['best_s']:>14.2f} {r['peak_rss_mb']:>15.0f} "
              f"{r['best_s'] / ref['best_s']:>14.2f}x")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
