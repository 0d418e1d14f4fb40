"""``import_paths``: per-symbol files, the long market format (bulk path and merge path), bad files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.cache import PriceCache
from engine.data.importer import import_paths
from engine.data.load import load_panel


def _long(rows):
    return pd.DataFrame(rows, columns=["code", "date", "open", "high", "low", "close", "volume"]).assign(
        date=lambda d: pd.to_datetime(d["date"]))


def test_import_long_bulk_and_merge_with_existing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # per-symbol file for 300474 on its own basis (×2 of the long file), 01-02..01-03
    (src / "SZ300474.csv").write_text("date,open,high,low,close,volume\n2024-01-02,20,21,19,20,100\n"
                                      "2024-01-03,22,23,21,22,100\n")
    market = _long([
        ("300474", "2024-01-03", 11.0, 11.5, 10.5, 11.0, 3.0),   # shared date: rebase factor 22/11 = 2
        ("300474", "2024-01-04", 12.1, 12.5, 11.9, 12.1, 4.0),
        ("000001", "2024-01-02", 8.0, 8.2, 7.9, 8.1, 5.0),
        ("000001", "2024-01-03", 8.1, 8.3, 8.0, 8.2, 6.0),
        ("600000", "2024-01-02", 7.0, 6.0, 6.5, 7.0, 1.0),       # high < close: invalid → reported, not imported
    ])
    market.to_parquet(src / "market.parquet")
    cache = PriceCache(tmp_path / "cache")
    report = import_paths([src / "SZ300474.csv", src / "market.parquet"], cache)
    assert list(report.errors) == [f"{src / 'market.parquet'} [600000.SH]"]
    assert "high" in report.errors[f"{src / 'market.parquet'} [600000.SH]"]
    assert report.rows == {"300474.SZ": 2 + 2, "000001.SZ": 2}
    a = cache.read("300474.SZ")
    assert a["close"].tolist() == pytest.approx([20.0, 22.0, 24.2])  # 12.1 × 2: returns continuous across the seam
    assert a["volume"].tolist() == [100.0, 100.0, 400.0]  # the long file's lots × 100
    b = cache.read("000001.SZ")
    assert b["volume"].tolist() == [500.0, 600.0] and b["source"].eq("local:market.parquet").all()
    assert cache.entry("000001.SZ")["covered"] == [["2024-01-02", "2024-01-03"]]
    assert "600000.SH" not in cache.codes()


def test_import_directory_skips_non_price_files_and_reports_bad_ones(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "README.md").write_text("notes")
    (src / "notes.csv").write_text("a,b\n1,2\n")  # name is not a code
    (src / "SH600519.csv").write_text("date,open,high,low,close,volume\n2024-01-02,1700,1720,1690,1710,100\n")
    (src / "SZ000001.csv").write_text("day,px\n2024-01-02,1\n")  # wrong columns
    report = import_paths([src, tmp_path / "nope"], PriceCache(tmp_path / "cache"))
    assert report.rows == {"600519.SH": 1}
    assert "missing column" in report.errors[str(src / "SZ000001.csv")]
    assert set(report.skipped) == {str(src / "README.md"), str(src / "notes.csv"), str(tmp_path / "nope")}


def test_empty_provider_list_means_cache_only(tmp_path):
    cache = PriceCache(tmp_path)
    with pytest.warns(UserWarning, match=r"600519.SH 2024-01-02..2024-01-03 \(no providers given\)"):
        panel = load_panel(["600519"], "2024-01-02", "2024-01-03", providers=[], cache=cache)
    assert np.isnan(panel.close).all()


def test_a_changed_local_file_is_re_read_on_the_next_load(tmp_path):
    """Editing a local price file after it was cached must not leave the old prices in use: the next load through
    the local provider re-reads it (rows replace the cached ones); an unchanged file is not re-read."""
    import os

    from engine.data.fetch import ensure_cached
    from engine.data.providers import make_provider

    src = tmp_path / "prices"
    src.mkdir()
    path = src / "SZ300474.csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-02,20,21,19,20,100\n2024-01-03,22,23,21,22,100\n")
    cache = PriceCache(tmp_path / "cache")
    import_paths([src], cache)
    chain = [make_provider("local", roots=[src])]
    panel = load_panel(["300474.SZ"], "2024-01-02", "2024-01-03", providers=chain, cache=tmp_path / "cache",
                       calendar="data")
    assert panel.close[:, 0].tolist() == [20.0, 22.0]
    from engine.data.chain import ProviderChain

    unchanged = ensure_cached(PriceCache(tmp_path / "cache"), ["300474.SZ"], "2024-01-02", "2024-01-03",
                              chain=ProviderChain(chain))
    assert unchanged.refreshed == []
    path.write_text("date,open,high,low,close,volume\n2024-01-02,20,21,19,20,100\n2024-01-03,22,25,21,24.5,100\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later mtime, as an edit gives
    panel = load_panel(["300474.SZ"], "2024-01-02", "2024-01-03", providers=chain, cache=tmp_path / "cache",
                       calendar="data")
    assert panel.close[:, 0].tolist() == [20.0, 24.5]
    offline = load_panel(["300474.SZ"], "2024-01-02", "2024-01-03", offline=True, cache=tmp_path / "cache",
                         calendar="data")
    assert offline.close[:, 0].tolist() == [20.0, 24.5]
