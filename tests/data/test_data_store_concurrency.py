"""Several ratingbt processes on one store at once: nothing lost, each waits for the other (a clear message)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.cache import PriceCache
from engine.data.store import Store, StoreBusyError
from engine.paths import REPO_ROOT

FOLDERS = {  # three per-symbol folders with distinct codes, and codes of a long file
    "a": ["600000.SH", "600036.SH", "601318.SH"],
    "b": ["000001.SZ", "000002.SZ", "300474.SZ"],
    "c": ["688041.SH", "688981.SH", "002384.SZ"],
}
LONG_CODES = ["600519", "000858", "300750", "601012"]
DATES = pd.bdate_range("2024-01-02", periods=40)


def _write_prices(root: Path, round_: int) -> None:
    """Per-symbol CSVs and one long parquet whose prices depend on ``round_`` (so each round changes them)."""
    rng = np.random.default_rng(round_)
    for folder, codes in FOLDERS.items():
        (root / folder).mkdir(exist_ok=True)
        for code in codes:
            close = 10 * np.cumprod(1 + rng.normal(0, 0.01, len(DATES))) + round_
            df = pd.DataFrame({"date": DATES.strftime("%Y-%m-%d"), "open": close, "high": close * 1.01,
                               "low": close * 0.99, "close": close, "volume": 1000 + round_})
            digits, exch = code.split(".")
            df.to_csv(root / folder / f"{exch}{digits}.csv", index=False)
    rows = []
    for code in LONG_CODES:
        close = 20 * np.cumprod(1 + rng.normal(0, 0.01, len(DATES))) + round_
        rows.append(pd.DataFrame({"code": code, "date": DATES, "open": close, "high": close * 1.02,
                                  "low": close * 0.98, "close": close, "volume": 50.0 + round_}))
    pd.concat(rows).to_parquet(root / "market.parquet", index=False)


def _cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), COLUMNS="200", RATINGBT_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO_ROOT))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_four_cli_processes_at_once_lose_nothing(tmp_path):
    src, cache = tmp_path / "src", tmp_path / "cache"
    src.mkdir()
    seeded = PriceCache(cache)  # failures remembered before: concurrent writers must not drop them
    for k, code in enumerate(["06082.HK", "02513.HK", "01024.HK"]):
        seeded.record_failure(code, pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-30") + pd.Timedelta(days=k),
                              f"none ({k})", providers=["akshare"])
    all_codes = [c for codes in FOLDERS.values() for c in codes] + [f"{c}.{'SZ' if c[0] in '03' else 'SH'}"
                                                                    for c in LONG_CODES]
    for round_ in range(2):
        _write_prices(src, round_)
        procs = [_cli("data", "import", str(src / "a"), "--cache", str(cache)),
                 _cli("data", "import", str(src / "b"), str(src / "c"), "--cache", str(cache)),
                 _cli("data", "import", str(src / "market.parquet"), "--cache", str(cache)),
                 _cli("data", "fetch", *all_codes, "--start", "2024-01-02", "--end", "2024-02-23", "--offline",
                      "--cache", str(cache))]
        results = [(p.args, *p.communicate(timeout=300), p.returncode) for p in procs]
        for args, out, err, code in results:
            assert "Traceback" not in err, err
            # the offline fetch may run before an import has landed (exit 1, "missing"); imports must succeed
            assert code == 0 or ("fetch" in args and code == 1 and "missing" in err), (args, out, err)
    # afterwards: every file's latest rows, coverage and provenance are in the store
    store = PriceCache(cache)
    assert sorted(store.codes()) == sorted(all_codes)
    with Store(cache).session() as con:
        files = {r[0]: r[1:] for r in con.execute("SELECT path, sha256, size, imported, codes FROM files").fetchall()}
        coverage = con.execute('SELECT code, origin, start, "end" FROM coverage').fetchall()
    csvs = sorted(src.glob("*/*.csv"))
    assert len(files) == len(csvs) + 1
    for path in [*csvs, src / "market.parquet"]:
        sha, size, imported, n_codes = files[str(path.resolve())]
        assert sha == _sha(path) and size == path.stat().st_size and imported  # the last round's file
        assert n_codes == (len(LONG_CODES) if path.suffix == ".parquet" else 1)
    assert len(coverage) == len(all_codes)
    assert {(c, s, e) for c, _, s, e in coverage} == {(c, DATES[0].date(), DATES[-1].date()) for c in all_codes}
    # the served bars equal the last round's files (an independent read of each file with pandas)
    for path in csvs:
        ref = pd.read_csv(path, parse_dates=["date"])
        code = f"{path.stem[2:]}.{path.stem[:2]}"
        got = store.read(code)
        np.testing.assert_allclose(got["close"].to_numpy(), ref["close"].to_numpy(), rtol=0, atol=0)
        assert got["date"].tolist() == ref["date"].tolist()
    market = pd.read_parquet(src / "market.parquet")
    for digits in LONG_CODES:
        ref = market[market["code"] == digits]
        got = store.read(f"{digits}.{'SZ' if digits[0] in '03' else 'SH'}")
        np.testing.assert_array_equal(got["close"].to_numpy(), ref["close"].to_numpy())
        np.testing.assert_array_equal(got["volume"].to_numpy(), ref["volume"].to_numpy() * 100)  # lots → shares
    for k, code in enumerate(["06082.HK", "02513.HK", "01024.HK"]):
        assert [f["error"] for f in store._failures_of(code)] == [f"none ({k})"]


def test_a_second_process_waits_with_a_message_then_gives_up_naming_the_store(tmp_path):
    said: list[str] = []
    holder = Store(tmp_path)
    waiter = Store(tmp_path, lock_timeout=0.5, notify=said.append)
    outcome: dict = {}
    with holder.session():
        with Store(tmp_path, lock_timeout=0.5).session() as con:  # same thread, another Store: no self-deadlock
            assert con.execute("SELECT count(*) FROM bars").fetchone() == (0,)

        def other():
            try:
                waiter.meta("schema_version")
            except StoreBusyError as exc:
                outcome["error"] = str(exc)
        t = threading.Thread(target=other)
        t.start()
        t.join(30)
    assert said and "waiting for another ratingbt process" in said[0] and "ratingbt.duckdb" in said[0]
    assert "still in use" in outcome["error"] and str(tmp_path / "ratingbt.duckdb") in outcome["error"]
    assert waiter.meta("schema_version") == "1"  # once free, it proceeds
