"""Benchmark: load the whole A-share market file (5,154 stocks × ~457 sessions) into a Panel.

Compares, in the same run:
  * ratingbt  — ``engine.data.load.panel_from_long`` (pyarrow read, dictionary-encoded codes, one scatter per field)
  * pandas    — the plain reference: ``pd.read_parquet`` then ``DataFrame.pivot`` per field (+ ×100 volume, tradable)
  * cache     — (``--with-cache``) ``load_panel`` of all 5,154 codes from the DuckDB store (the path the other
                stages use), after ``data import`` of the market file into a temp store (``bench_store.py`` times
                this path in more detail).

Each variant runs in a fresh subprocess (``--variant NAME``) so its peak memory is its own: we report wall time
(cold = first call in the process; warm = best of ``--repeat`` later calls), peak RSS growth of the cold call over
the post-import baseline (psutil, sampled every 5 ms; includes pyarrow's memory pool) and tracemalloc's peak of
Python/numpy allocations (separate, untimed call). Outputs are checked equal first.

    python bench/bench_panel.py [--market PATH] [--repeat 3] [--with-cache]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def default_market() -> Path:
    from engine.paths import shared_dir

    return shared_dir() / "data" / "market" / "ashare_daily_2024_2025.parquet"


def pandas_reference(path: Path):
    """Plain pandas: read, pivot each field to sessions × codes, volume lots → shares, tradable mask."""
    import numpy as np
    import pandas as pd

    df = pd.read_parquet(path)
    out = {}
    for field in ("open", "high", "low", "close", "volume"):
        out[field] = df.pivot(index="date", columns="code", values=field)
    out["volume"] = out["volume"] * 100
    out["tradable"] = out["close"].notna() & (out["volume"].fillna(0) > 0)
    out["raw_close"] = pd.DataFrame(np.nan, index=out["close"].index, columns=out["close"].columns)
    return out


def ratingbt_long(path: Path):
    from engine.data.load import panel_from_long

    return panel_from_long(path)


def ratingbt_cache(cache_dir: str):
    from engine.data.cache import PriceCache
    from engine.data.load import load_panel

    cache = PriceCache(cache_dir)
    return load_panel(cache.codes(), offline=True, cache=cache, calendar="data", on_missing="ignore")


class PeakRSS:
    """Samples the process RSS every 5 ms in a thread; ``peak`` is the maximum seen (bytes)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def run_variant(name: str, arg: str, repeat: int) -> dict:
    import gc

    import numpy  # noqa: F401  - import cost outside the measurement
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import psutil

    import engine.data.load  # noqa: F401

    fn = {"ratingbt": ratingbt_long, "pandas": pandas_reference, "cache": ratingbt_cache}[name]
    target = Path(arg) if name != "cache" else arg
    # first call in a fresh process (cold): wall time and peak RSS growth over the post-import baseline
    gc.collect()
    base = psutil.Process().memory_info().rss
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        result = fn(target)
        cold = time.perf_counter() - t0
    del result
    gc.collect()
    # Python/numpy allocation peak in a separate call (tracemalloc slows Python-heavy code, so it is not timed)
    tracemalloc.start()
    result = fn(target)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    gc.collect()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(target)
        times.append(time.perf_counter() - t0)
        del result
        gc.collect()
    return {"variant": name, "cold_s": cold, "best_s": min(times), "peak_rss_mb": (rss.peak - base) / 2**20,
            "tracemalloc_peak_mb": traced_peak / 2**20}


def spawn(name: str, arg: str, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--variant", name, "--arg", arg, "--repeat", str(repeat)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_equal(path: Path) -> None:
    """The panel must hold exactly what the pandas pivot holds (same sessions, codes, values)."""
    import numpy as np

    from engine.symbols import normalize_symbol

    panel = ratingbt_long(path)
    ref = pandas_reference(path)
    ref_codes = [normalize_symbol(c) for c in ref["close"].columns]
    order = np.argsort(np.array(ref_codes, dtype=str), kind="stable")
    assert list(panel.codes) == [ref_codes[i] for i in order], "codes differ"
    assert (panel.sessions == ref["close"].index.to_numpy(dtype="datetime64[ns]")).all(), "sessions differ"
    for field in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(panel.__getattribute__(field), ref[field].to_numpy()[:, order],
                                      err_msg=field)
    np.testing.assert_array_equal(panel.tradable, ref["tradable"].to_numpy()[:, order])
    print(f"check: panel == pandas pivot for {panel.shape[1]} codes × {panel.shape[0]} sessions, 5 fields + tradable")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--market", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-cache", action="store_true")
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.arg, args.repeat)))
        return
    path = args.market or default_market()
    if not path.is_file():
        sys.exit(f"market file not found: {path} (pass --market or set RATINGBT_SHARED)")
    import psutil

    print(f"market file: {path}  ({path.stat().st_size / 2**20:.1f} MiB)  cpu: {os.cpu_count()} cores, "
          f"ram: {psutil.virtual_memory().total / 2**30:.0f} GiB")
    check_equal(path)
    results = [spawn("pandas", str(path), args.repeat), spawn("ratingbt", str(path), args.repeat)]
    if args.with_cache:
        from engine.data.cache import PriceCache
        from engine.data.importer import import_paths

        tmp = tempfile.mkdtemp(prefix="ratingbt-bench-cache-")
        t0 = time.perf_counter()
        import_paths([path], PriceCache(tmp))
        print(f"data import of the market file into a fresh cache: {time.perf_counter() - t0:.1f} s")
        results.append(spawn("cache", tmp, max(1, args.repeat - 2)))
    ref = results[0]
    print(f"{'variant':<10} {'cold [s]':>9} {'warm best [s]':>14} {'peak RSS [MiB]':>15} {'tracemalloc [MiB]':>18} "
          f"{'time vs pandas':>15} {'RSS vs pandas':>14}")
    for r in results:
        print(f"{r['variant']:<10} {r['cold_s']:>9.2f} {r['best_s']:>14.2f} {r['peak_rss_mb']:>15.0f} "
              f"{r['tracemalloc_peak_mb']:>18.0f} {r['best_s'] / ref['best_s']:>14.2f}x "
              f"{r['peak_rss_mb'] / ref['peak_rss_mb']:>13.2f}x")


if __name__ == "__main__":
    main()
