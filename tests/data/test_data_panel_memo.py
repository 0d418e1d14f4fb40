"""The panel memo (engine.data.panel_memo): a repeated load is served from the memo, and anything that changes the
answer — an edited, added or different file, a store write, other arguments — is a miss, never a stale panel."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine.data.load as load_module
from engine.data.cache import PriceCache
from engine.data.load import load_panel
from engine.data.panel_memo import MEMO_DIR
from engine.data.providers.local import LocalProvider
from engine.data.store import Store
from engine.signals.schema import REQUIRED_SIGNAL_COLUMNS
from tests.data.fakes import ScriptedProvider, edit_price_file

CODES = ["600000.SH", "300474.SZ", "000300.SH"]
DATES = pd.bdate_range("2024-03-01", "2024-03-29")


def _write(root: Path, code: str, close: np.ndarray, volume: float = 1e5) -> Path:
    digits, exch = code.split(".")
    path = root / f"{exch}{digits}.csv"
    pd.DataFrame({"date": DATES[:len(close)].strftime("%Y-%m-%d"), "open": close, "high": close * 1.01,
                  "low": close * 0.99, "close": close, "volume": volume}).to_csv(path, index=False)
    return path


def _folder(root: Path, scale: float, codes=CODES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for k, code in enumerate(codes):
        _write(root, code, scale * (1 + k) * np.linspace(1.0, 1.2, len(DATES)))
    return root


def _load(roots, cache, codes=CODES, **kw):
    return load_panel(codes, "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=roots)], cache=cache,
                      offline=True, calendar="data", on_missing="ignore", **kw)


class _StoreReads:
    """Counts the loads that went to the store (``_read_served``) rather than the memo."""

    def __init__(self, monkeypatch):
        self.n = 0
        original = load_module._read_served

        def counted(*args, **kwargs):
            self.n += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(load_module, "_read_served", counted)


def _assert_same_panel(a, b):
    assert a.fields == b.fields and a.codes.tolist() == b.codes.tolist()
    np.testing.assert_array_equal(a.sessions, b.sessions)
    for name in (*a.fields, "tradable"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).flags.f_contiguous == getattr(b, name).flags.f_contiguous
    assert a.markets.tolist() == b.markets.tolist() and a.boards.tolist() == b.boards.tolist()
    assert [str(m) for m in a.missing] == [str(m) for m in b.missing]
    assert a.first_bar_dates == b.first_bar_dates and a.sources == b.sources


@pytest.mark.parametrize("options", [{}, {"fields": ("close",), "order": "F"}])
def test_a_repeated_load_is_served_from_the_memo_with_the_same_panel(tmp_path, monkeypatch, options):
    folder = _folder(tmp_path / "A", 10.0)
    reads = _StoreReads(monkeypatch)
    first = _load([folder], tmp_path / "cache", codes=[*CODES, "601318.SH"], **options)  # one code has no file
    second = _load([folder], tmp_path / "cache", codes=[*CODES, "601318.SH"], **options)
    assert reads.n == 1 and len(list((tmp_path / "cache" / MEMO_DIR).iterdir())) == 1
    _assert_same_panel(first, second)
    fresh = _load([folder], tmp_path / "cache", codes=[*CODES, "601318.SH"], memo=False, **options)
    _assert_same_panel(fresh, second)
    assert reads.n == 2 and [m.code for m in second.missing] == ["601318.SH"]
    with pytest.warns(UserWarning, match="601318.SH"):  # on_missing still applies to a memo hit
        load_panel([*CODES, "601318.SH"], "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=[folder])],
                   cache=tmp_path / "cache", offline=True, calendar="data", **options)
    assert reads.n == 2


def test_an_edited_added_or_other_file_is_never_served_from_an_old_memo(tmp_path, monkeypatch):
    a, b = _folder(tmp_path / "A", 10.0, CODES[:2]), _folder(tmp_path / "B", 50.0)
    cache = tmp_path / "cache"
    reads = _StoreReads(monkeypatch)
    before = _load([a], cache)
    assert np.isnan(before.close[:, 2]).all()
    edit_price_file(a / "SH600000.csv", 3, close=99.0, high=99.5)  # a new stamp: a miss, the new prices
    edited = _load([a], cache)
    assert edited.close[3, 0] == 99.0 and reads.n == 2
    _write(a, "000300.SH", np.full(len(DATES), 3500.0))  # a file added to the folder
    added = _load([a], cache)
    assert added.close[:, 2].tolist() == [3500.0] * len(DATES) and reads.n == 3
    other = _load([b], cache)  # another folder, same codes
    np.testing.assert_array_equal(other.close[:, 0], pd.read_csv(b / "SH600000.csv")["close"].to_numpy())
    assert reads.n == 4
    again = _load([a], cache)  # back to A: reading B into the store renewed the generation, so from the store
    _assert_same_panel(again, added)
    assert reads.n == 5
    _assert_same_panel(_load([a], cache), added)  # and now from the memo
    assert reads.n == 5


def test_a_store_write_renews_the_generation_and_a_no_op_load_does_not(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "A", 10.0)
    cache = PriceCache(tmp_path / "cache")
    reads = _StoreReads(monkeypatch)
    _load([folder], cache)
    token = cache.store.price_generation()
    assert token
    _load([folder], cache, memo=False)  # planning and checking the files again writes nothing
    assert cache.store.price_generation() == token
    bars = pd.DataFrame({"date": DATES[:3], "open": 7.0, "high": 8.0, "low": 7.0, "close": [7.0, 7.5, 8.0],
                         "volume": 1e3})
    cache.write("600000.SH", bars, covered=[(DATES[0], DATES[2])], source="akshare")  # e.g. a data fetch
    assert cache.store.price_generation() != token
    _load([folder], cache)
    assert reads.n == 3  # the write made the memo unreachable: read from the store again
    signal = {**{c: "" for c in REQUIRED_SIGNAL_COLUMNS}, "date_inferred": False, "kind": "rating",
              "rating_level": np.nan, "broker": "b", "code": "600000.SH", "report_date": "2024-03-01"}
    assert Store(tmp_path / "cache").add_signals(pd.DataFrame([signal]), source="test") == 1
    _load([folder], cache)  # the signals history is not prices: still the memo
    assert reads.n == 3


def test_loads_that_may_reach_the_network_or_turn_it_off_write_no_memo(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "A", 10.0)
    monkeypatch.setenv("RATINGBT_PANEL_MEMO", "0")
    _load([folder], tmp_path / "c1")
    _load([folder], tmp_path / "c1")
    assert not (tmp_path / "c1" / MEMO_DIR).exists()
    monkeypatch.delenv("RATINGBT_PANEL_MEMO")
    network = ScriptedProvider("akshare", [])  # a fake network provider: never asked (nothing is missing)
    load_panel(CODES, "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=[folder]), network],
               cache=tmp_path / "c2", offline=False, calendar="data", on_missing="ignore")  # the next call may fetch
    assert network.calls == []
    assert not (tmp_path / "c2" / MEMO_DIR).exists()
    online_local_only = [LocalProvider(roots=[folder])]  # not offline, but nothing in the chain reaches the network
    load_panel(CODES, "2024-03-01", "2024-03-29", providers=online_local_only, cache=tmp_path / "c3",
               offline=False, calendar="data", on_missing="ignore")
    assert len(list((tmp_path / "c3" / MEMO_DIR).iterdir())) == 1


def test_a_damaged_memo_is_a_miss_and_old_memos_are_evicted(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "A", 10.0)
    cache = tmp_path / "cache"
    reads = _StoreReads(monkeypatch)
    first = _load([folder], cache)
    (memo,) = (cache / MEMO_DIR).iterdir()
    (memo / "close.npy").write_bytes(b"not an array")
    again = _load([folder], cache)
    _assert_same_panel(first, again)
    assert reads.n == 2
    monkeypatch.setenv("RATINGBT_PANEL_MEMO_MB", "0.004")  # room for about one small memo
    _load([folder], cache, fields=("close",))
    newest = _load([folder], cache, fields=("close", "volume"))
    left = list((cache / MEMO_DIR).iterdir())
    assert len(left) == 1  # the least recently used went; the one just written stays
    _assert_same_panel(newest, _load([folder], cache, fields=("close", "volume")))


def test_a_store_file_replaced_by_another_is_another_generation(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "A", 10.0)
    cache = tmp_path / "cache"
    reads = _StoreReads(monkeypatch)
    _load([folder], cache)
    db = cache / "ratingbt.duckdb"
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    os.replace(copy, db)  # same bytes, same token file, another file
    _load([folder], cache)
    assert reads.n == 2


_LOADER = """
import sys, numpy as np
from engine.data.load import load_panel
from engine.data.providers.local import LocalProvider
panel = load_panel({codes!r}, "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=[sys.argv[1]])],
                   cache=sys.argv[2], offline=True, calendar="data", on_missing="ignore")
np.save(sys.argv[3], panel.close)
"""


def test_four_processes_loading_the_same_panel_at_once_agree_and_leave_one_memo(tmp_path):
    """Four processes miss together, each writes the memo (the first rename wins, the others discard theirs), then
    four more read it: every panel equals the store's, one memo folder, no temporary folder left."""
    import subprocess
    import sys

    from engine.paths import REPO_ROOT

    folder, cache = _folder(tmp_path / "A", 10.0), tmp_path / "cache"
    code = _LOADER.format(codes=CODES)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for round_ in ("miss", "hit"):
        procs = [subprocess.Popen([sys.executable, "-c", code, str(folder), str(cache),
                                   str(tmp_path / f"{round_}{k}.npy")], env=env, stderr=subprocess.PIPE, text=True)
                 for k in range(4)]
        for proc in procs:
            assert proc.wait(timeout=120) == 0, proc.stderr.read()
    reference = _load([folder], cache, memo=False).close
    for path in sorted(tmp_path.glob("*.npy")):
        np.testing.assert_array_equal(np.load(path), reference)
    assert len(list(tmp_path.glob("*.npy"))) == 8
    assert [p.name.startswith(".") for p in (cache / MEMO_DIR).iterdir()] == [False]
