"""A process killed (SIGKILL) in the middle of a cache write leaves the cache readable with its previous data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from engine.data.cache import PriceCache
from engine.paths import REPO_ROOT
from tests.data.fakes import bars

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

CODE = "300474.SZ"

# The writer builds a large valid frame and writes it to the cache in a loop. ``mode`` picks where it stops:
#   partial: the parquet bytes are written halfway into the temp file, then the process hangs (killed mid-write);
#   renamed: the temp file is complete but the process hangs before os.replace (killed before the commit);
#   loop:    no hooks, plain write loop killed at a random moment.
WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np, pandas as pd
    import pyarrow.parquet as pq
    import engine.data.cache as cache_mod
    from engine.data.cache import PriceCache

    root, mode = sys.argv[1], sys.argv[2]
    n = 150_000
    dates = pd.date_range("1800-01-01", periods=n, freq="D")
    close = 10 + np.arange(n) % 97 * 0.01
    big = pd.DataFrame({"date": dates.astype("datetime64[ns]"), "open": close, "high": close * 1.01,
                        "low": close * 0.99, "close": close, "volume": 1000.0, "raw_close": np.nan,
                        "adj_factor": np.nan, "source": "writer"})
    if mode == "partial":
        real_write = pq.write_table
        def slow_write(table, where, **kw):
            import io
            buf = io.BytesIO()
            real_write(table, buf, **kw)
            data = buf.getvalue()
            with open(where, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                os.fsync(fh.fileno())
            print("HALF", flush=True)
            time.sleep(600)
        pq.write_table = slow_write
    elif mode == "renamed":
        def hang_replace(src, dst):
            print("BEFORE_REPLACE", flush=True)
            time.sleep(600)
        cache_mod.os.replace = hang_replace
    cache = PriceCache(root)
    print("READY", flush=True)
    while True:
        cache.write("300474.SZ", big, covered=[("1800-01-01", "2210-01-01")], source="writer")
        print("WROTE", flush=True)
""")


def _start(root: Path, mode: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-c", WRITER, str(root), mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO_ROOT))


def _wait_for(proc: subprocess.Popen, token: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if token in line:
            return
        if line == "" and proc.poll() is not None:
            raise AssertionError(f"writer exited early: {proc.stderr.read()}")
    raise AssertionError(f"writer never printed {token}")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture()
def previous(tmp_path) -> tuple[Path, pd.DataFrame]:
    old = bars(["2024-01-02", "2024-01-03", "2024-01-04"], [10.0, 10.5, 10.2], source="previous")
    PriceCache(tmp_path).write(CODE, old, covered=[("2024-01-01", "2024-01-05")], source="local")
    return tmp_path, old


@pytest.mark.parametrize("mode,token", [("partial", "HALF"), ("renamed", "BEFORE_REPLACE")])
def test_kill_mid_write_keeps_previous_data(previous, mode, token):
    root, old = previous
    proc = _start(root, mode)
    _wait_for(proc, token)
    temps = list((root / "bars").glob(".*.tmp"))
    assert temps, "the writer should be inside a write (temp file present)"
    _kill(proc)
    if mode == "partial":
        import pyarrow.parquet as pq

        with pytest.raises(Exception):  # the torn temp file really is unreadable
            pq.read_table(temps[0])
    cache = PriceCache(root)
    got = cache.read(CODE)  # validated read: raises if the file were torn
    pd.testing.assert_frame_equal(got, old)
    assert cache.entry(CODE)["rows"] == 3 and cache.entry(CODE)["source"] == "local"
    assert cache.stray_temp_files()  # the torn temp file is left behind, ignored ...
    assert cache.clean_temp() >= 1 and not cache.stray_temp_files()  # ... and cleaned on request


def test_kill_during_write_loop_leaves_old_or_new_complete(previous):
    root, old = previous
    proc = _start(root, "loop")
    _wait_for(proc, "READY")
    deadline = time.monotonic() + 30
    while not list((root / "bars").glob(".*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.001)
    _kill(proc)  # killed while a temp file exists, i.e. during some write
    got = PriceCache(root).read(CODE)
    assert len(got) in (3, 150_000)
    if len(got) == 3:
        pd.testing.assert_frame_equal(got, old)
    else:
        assert got["source"].eq("writer").all() and got["date"].is_monotonic_increasing
