"""A process killed (SIGKILL) in the middle of a large store write leaves the store as it was before the write."""

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

# The writer builds a large valid frame (200,000 bars) and writes it to the store in a loop. ``mode``:
#   inside: the old rows are deleted and the new ones inserted, then the process hangs before COMMIT (killed with
#           the transaction open: the biggest possible half-done write);
#   loop:   no hooks, plain write loop killed at a random moment.
WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np, pandas as pd
    import engine.data.cache as cache_mod
    from engine.data.cache import PriceCache

    root, mode = sys.argv[1], sys.argv[2]
    n = 200_000
    dates = pd.date_range("1700-01-01", periods=n, freq="D")
    close = 10 + np.arange(n) % 97 * 0.01
    big = pd.DataFrame({"date": dates.astype("datetime64[ns]"), "open": close, "high": close * 1.01,
                        "low": close * 0.99, "close": close, "volume": 1000.0, "raw_close": np.nan,
                        "adj_factor": np.nan, "source": "writer"})
    if mode == "inside":
        real = cache_mod.PriceCache._replace

        def hang_before_commit(con, *args):
            real(con, *args)
            assert con.execute("SELECT count(*) FROM bars").fetchone()[0] == n  # new rows in, old ones gone
            print("INSIDE", flush=True)
            time.sleep(600)
        cache_mod.PriceCache._replace = staticmethod(hang_before_commit)
    cache = PriceCache(root)
    print("READY", flush=True)
    while True:
        print("WRITING", flush=True)
        cache.write("300474.SZ", big, covered=[("1700-01-01", "2250-01-01")], source="writer")
        print("WROTE", flush=True)
""")


def _start(root: Path, mode: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-c", WRITER, str(root), mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO_ROOT))


def _wait_for(proc: subprocess.Popen, token: str, timeout: float = 120.0) -> None:
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


def test_kill_inside_the_write_transaction_keeps_previous_data(previous):
    root, old = previous
    proc = _start(root, "inside")
    _wait_for(proc, "INSIDE")  # 200,000 new rows written in the open transaction, 3 old rows deleted
    _kill(proc)
    cache = PriceCache(root)  # reopening replays the log up to the last commit
    pd.testing.assert_frame_equal(cache.read(CODE), old)
    entry = cache.entry(CODE)
    assert entry["rows"] == 3 and entry["source"] == "local" and entry["covered"] == [["2024-01-01", "2024-01-05"]]
    cache.write(CODE, old.iloc[:2], covered=[], source="after")  # and the store takes writes again
    assert len(PriceCache(root).read(CODE)) == 2


def test_kill_during_write_loop_leaves_old_or_new_complete(previous):
    root, old = previous
    proc = _start(root, "loop")
    _wait_for(proc, "WRITING")
    time.sleep(0.3 + (os.getpid() % 7) * 0.1)  # somewhere in the first write (it takes seconds)
    _kill(proc)
    got = PriceCache(root).read(CODE)
    assert len(got) in (3, 200_000)
    if len(got) == 3:
        pd.testing.assert_frame_equal(got, old)
    else:
        assert got["source"].eq("writer").all() and got["date"].is_monotonic_increasing
        assert PriceCache(root).covered(CODE) == [(pd.Timestamp("1700-01-01").date(),
                                                   pd.Timestamp("2250-01-01").date())]
