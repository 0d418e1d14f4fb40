"""Result tables on disk (engine/tables.py): format by size, atomic replace, one reader for both formats."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import tables
from engine.tables import read_table, table_format, table_path, write_table


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"code": [f"{i:06d}.SZ" for i in range(n)], "x": [i / 7 for i in range(n)],
                         "date": pd.date_range("2024-01-01", periods=n, freq="D")})


def test_format_by_size_and_override(monkeypatch):
    monkeypatch.delenv("RATINGBT_TABLE_FORMAT", raising=False)
    assert table_format(tables.LARGE_TABLE_ROWS) == "csv"
    assert table_format(tables.LARGE_TABLE_ROWS + 1) == "parquet"
    assert table_format(10, "parquet") == "parquet"
    monkeypatch.setenv("RATINGBT_TABLE_FORMAT", "csv")
    assert table_format(10**7) == "csv"
    with pytest.raises(ValueError, match="allowed: csv, parquet, auto"):
        table_format(1, "xlsx")


def test_large_table_is_parquet_and_replaces_stale_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "LARGE_TABLE_ROWS", 5)
    small = write_table(_frame(3), tmp_path, "scores")
    assert small.name == "scores.csv"
    big = write_table(_frame(8), tmp_path, "scores")
    assert big.name == "scores.parquet"
    assert not (tmp_path / "scores.csv").exists()          # no stale CSV beside the new table
    assert table_path(tmp_path, "scores") == big
    back = read_table(big)
    pd.testing.assert_frame_equal(back, _frame(8))
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]  # no temporary file left behind


def test_csv_round_trip_iso_dates(tmp_path):
    path = write_table(_frame(2), tmp_path, "t")
    assert path.read_text(encoding="utf-8").splitlines()[1].endswith(",2024-01-01")
    back = read_table(path, parse_dates=["date"])
    pd.testing.assert_frame_equal(back, _frame(2))


def test_failed_write_keeps_the_old_table(tmp_path):
    path = write_table(_frame(2), tmp_path, "t")
    before = path.read_bytes()

    class Boom(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_table(Boom(_frame(3)), tmp_path, "t")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
