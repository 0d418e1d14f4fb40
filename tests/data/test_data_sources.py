"""Provenance decides: each call is served the local files it names (folders, per-symbol files, long parquet), a
changed file is re-read, and the panel records which file each code's prices came from."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.cache import PriceCache
from engine.data.load import load_panel, sources_table
from engine.data.providers.local import LocalProvider
from tests.data.fakes import edit_price_file

CODES = ["600000.SH", "300474.SZ", "000300.SH"]
DATES = pd.bdate_range("2024-03-01", "2024-03-29")


def _folder(root: Path, scale: float, seed: int) -> Path:
    """Per-symbol CSVs for CODES with different prices per folder (scale and noise)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for code in CODES:
        close = scale * np.cumprod(1 + rng.normal(0, 0.02, len(DATES)))
        digits, exch = code.split(".")
        pd.DataFrame({"date": DATES.strftime("%Y-%m-%d"), "open": close * 0.99, "high": close * 1.03,
                      "low": close * 0.97, "close": close, "volume": 1e5}).to_csv(root / f"{exch}{digits}.csv",
                                                                                index=False)
    return root


def _reference(root: Path) -> pd.DataFrame:
    """Independent read: pandas over the CSVs, pivoted to dates × codes (XSHG sessions of March 2024)."""
    cols = {}
    for code in CODES:
        digits, exch = code.split(".")
        cols[code] = pd.read_csv(root / f"{exch}{digits}.csv", parse_dates=["date"]).set_index("date")["close"]
    return pd.DataFrame(cols)


def _load(roots, cache, **kw):
    return load_panel(CODES, "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=roots)], cache=cache,
                      offline=True, calendar="data", on_missing="ignore", **kw)


def test_two_price_folders_one_cache_each_gets_its_own_prices(tmp_path):
    a, b = _folder(tmp_path / "A", 10.0, 1), _folder(tmp_path / "B", 50.0, 2)
    cache = tmp_path / "cache"
    for _ in range(2):  # A, B, A, B with one cache: never the other folder's bars
        for root in (a, b):
            panel = _load([root], cache)
            ref = _reference(root)
            np.testing.assert_array_equal(panel.close, ref.reindex(pd.DatetimeIndex(panel.sessions)).to_numpy())
            src = sources_table(panel)
            assert src["file"].tolist() == [str((root / f"{c.split('.')[1]}{c.split('.')[0]}.csv").resolve())
                                            for c in CODES]
            assert src["provider"].eq("local").all() and src["order"].eq(0).all()
            for rec in src.itertuples():
                assert rec.sha256 == hashlib.sha256(Path(rec.file).read_bytes()).hexdigest()
                assert rec.size == Path(rec.file).stat().st_size and rec.rows == len(DATES)
            sub = panel.subset(["000300.SH", "600000.SH"])  # a stage's subset keeps the provenance of its codes
            assert list(sub.sources) == ["000300.SH", "600000.SH"]
            assert sub.sources["600000.SH"] == panel.sources["600000.SH"]
    # a call naming no local files is not served either folder (they were not imported)
    none = load_panel(CODES, "2024-03-01", "2024-03-29", offline=True, cache=cache, on_missing="ignore")
    assert np.isnan(none.close).all() and none.sources == {}


def test_a_changed_file_is_re_read_and_an_unchanged_one_is_not(tmp_path):
    a = _folder(tmp_path / "A", 10.0, 1)
    cache = PriceCache(tmp_path / "cache")
    _load([a], cache)
    df = edit_price_file(a / "SH600000.csv", 3, close=99.0, high=99.5)
    panel = _load([a], cache)
    assert panel.close[3, 0] == 99.0
    np.testing.assert_array_equal(panel.close[:, 0], df["close"].to_numpy())
    with PriceCache(tmp_path / "cache").store.session() as con:
        rows = con.execute("SELECT count(*) FROM bars WHERE code = '600000.SH'").fetchone()[0]
    assert rows == len(DATES)  # the old version's rows were replaced, not kept beside the new ones
    touched = a / "SZ300474.csv"  # same bytes, newer mtime: the stamp is updated, nothing re-read
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    from engine.data.fetch import ensure_cached
    from engine.data.chain import ProviderChain

    report = ensure_cached(cache, CODES, "2024-03-01", "2024-03-29", offline=True,
                           chain=ProviderChain([LocalProvider(roots=[a])]), local_roots=[a])
    assert report.refreshed == [] and report.missing == []


def test_a_list_of_sources_folder_then_long_file_fills_the_tail_rebased(tmp_path):
    """data.prices: [folder, market.parquet]: the folder serves first; the long file fills the dates the folder
    lacks, rescaled on the shared date (returns across the seam are the long file's own); codes only in the long
    file come from it. Reference computed by hand with pandas."""
    folder = tmp_path / "prices"
    folder.mkdir()
    short = pd.DataFrame({"date": ["2024-03-01", "2024-03-04"], "open": [20.0, 22.0], "high": [21.0, 23.0],
                          "low": [19.0, 21.0], "close": [20.0, 22.0], "volume": [100.0, 100.0]})
    short.to_csv(folder / "SH600000.csv", index=False)
    market = pd.DataFrame({
        "code": ["600000", "600000", "600000", "000001", "000001"],
        "date": pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-05", "2024-03-06"]),
        "open": [11.0, 12.1, 11.0, 8.0, 8.1], "high": [11.5, 12.5, 11.5, 8.2, 8.3],
        "low": [10.5, 11.9, 10.5, 7.9, 8.0], "close": [11.0, 12.1, 11.0, 8.1, 8.2], "volume": [3.0, 4.0, 5.0, 6.0, 7.0]})
    market.to_parquet(tmp_path / "market.parquet", index=False)
    panel = load_panel(["600000.SH", "000001.SZ"], "2024-03-01", "2024-03-06", offline=True, calendar="XSHG",
                       providers=[LocalProvider(roots=[folder, tmp_path / "market.parquet"])],
                       cache=tmp_path / "cache", on_missing="ignore")
    assert [str(m) for m in panel.missing] == ["000001.SZ 2024-03-01..2024-03-04 (outside the cached range)"]
    factor = 22.0 / 11.0  # folder close / long close on the shared date 03-04
    assert panel.close[:, 0].tolist() == pytest.approx([20.0, 22.0, 12.1 * factor, 11.0 * factor])
    assert panel.volume[:, 0].tolist() == [100.0, 100.0, 400.0, 500.0]  # lots × 100 in the long file
    assert np.isnan(panel.close[:2, 1]).all() and panel.close[2:, 1].tolist() == [8.1, 8.2]
    src = sources_table(panel)
    assert src.loc[src["code"] == "600000.SH", "file"].tolist() == [str((folder / "SH600000.csv").resolve()),
                                                                   str((tmp_path / "market.parquet").resolve())]
    assert src.loc[src["code"] == "000001.SZ", "file"].tolist() == [str((tmp_path / "market.parquet").resolve())]


def test_a_bad_local_file_is_named_and_the_others_are_served(tmp_path):
    a = _folder(tmp_path / "A", 10.0, 1)
    (a / "SZ300474.csv").write_text("day,px\n2024-03-01,1\n")
    with pytest.warns(UserWarning, match=r"SZ300474.csv: .*missing column"):
        panel = load_panel(CODES, "2024-03-01", "2024-03-29", providers=[LocalProvider(roots=[a])],
                           cache=tmp_path / "c", offline=True, calendar="data")
    assert np.isfinite(panel.close[:, 0]).all() and np.isnan(panel.close[:, 1]).all()


def test_config_data_prices_list_and_prices_dir_alias(tmp_path):
    from pydantic import ValidationError

    from engine.config import DataConfig

    assert DataConfig(prices=["a", "b.parquet"]).prices == ["a", "b.parquet"]
    assert DataConfig(prices="a").prices == ["a"]
    assert DataConfig(prices_dir="a").prices == ["a"]  # the old key still works
    with pytest.raises(ValidationError, match="not both"):
        DataConfig(prices=["a"], prices_dir="b")
    with pytest.raises(ValidationError, match="data.prices"):
        DataConfig(prices=["a", ""])


def test_a_long_file_is_read_only_for_the_codes_asked_and_re_read_when_it_changes(tmp_path):
    from engine.data.store import Store

    def market(shift: float) -> pd.DataFrame:
        rows = []
        for k, digits in enumerate(["600000", "000001", "300474", "688041"]):
            close = np.array([10.0, 10.5, 10.2]) * (k + 1) + shift
            rows.append(pd.DataFrame({"code": digits, "date": pd.to_datetime(["2024-03-04", "2024-03-05",
                                                                               "2024-03-06"]),
                                      "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                                      "volume": 10.0}))
        return pd.concat(rows, ignore_index=True)

    path = tmp_path / "market.parquet"
    market(0.0).to_parquet(path, index=False)
    local = [LocalProvider(roots=[path])]

    def held():
        with Store(tmp_path / "c").session() as con:
            return sorted(r[0] for r in con.execute("SELECT code FROM file_codes").fetchall())

    p1 = load_panel(["600000.SH", "300474.SZ"], "2024-03-04", "2024-03-06", offline=True, providers=local,
                    cache=tmp_path / "c", on_missing="raise")
    assert held() == ["300474.SZ", "600000.SH"]  # not the whole file
    assert p1.close[:, 1].tolist() == pytest.approx([30.0, 31.5, 30.6])
    load_panel(["000001.SZ"], "2024-03-04", "2024-03-06", offline=True, providers=local, cache=tmp_path / "c")
    assert held() == ["000001.SZ", "300474.SZ", "600000.SH"]
    market(100.0).to_parquet(path, index=False)  # a new version: its size/mtime change
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    p2 = load_panel(["300474.SZ"], "2024-03-04", "2024-03-06", offline=True, providers=local,
                    cache=tmp_path / "c", on_missing="raise")
    assert p2.close[:, 0].tolist() == pytest.approx([130.0, 131.5, 130.6])
    assert held() == ["300474.SZ"]  # the old version's rows are gone
    assert sources_table(p2)["sha256"].tolist() == [hashlib.sha256(path.read_bytes()).hexdigest()]


def test_a_long_file_already_read_is_classified_from_the_store(tmp_path, monkeypatch):
    """A parquet file the store has read, unchanged since, is known to be a long file without opening it (no
    pyarrow import); once its stamp changes it is opened again."""
    import engine.data.localfiles as lf

    path = tmp_path / "market.parquet"
    close = np.array([10.0, 10.5, 10.2])
    pd.DataFrame({"code": "600000", "date": pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-06"]),
                  "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                  "volume": 10.0}).to_parquet(path, index=False)
    load_panel(["600000.SH"], "2024-03-04", "2024-03-06", offline=True, providers=[LocalProvider(roots=[path])],
               cache=tmp_path / "c", on_missing="raise")
    kinds = lf.stored_kinds(PriceCache(tmp_path / "c"))
    assert kinds[str(path.resolve())][2] == "long"
    opened = []
    real = lf._is_long
    monkeypatch.setattr(lf, "_is_long", lambda p: opened.append(p) or real(p))
    files, _ = lf.expand_sources([path], kinds)
    assert [f.kind for f in files] == ["long"] and opened == []
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    files, _ = lf.expand_sources([path], kinds)
    assert [f.kind for f in files] == ["long"] and opened == [path.resolve()]
    # a stale record cannot make a per-symbol file long: the stamp decides, then the file itself
    fake = {str(path.resolve()): (1, 1, "long")}
    pd.DataFrame({"date": ["2024-03-04"], "close": [1.0]}).to_parquet(tmp_path / "SH600000.parquet")
    files, _ = lf.expand_sources([tmp_path / "SH600000.parquet"], {**fake, str((tmp_path / "SH600000.parquet")
                                                                             .resolve()): (1, 1, "long")})
    assert [f.kind for f in files] == ["symbol"]
