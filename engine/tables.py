"""Result tables on disk: CSV for tables people open, parquet for large ones; atomic writes; one reader for both.

Every stage writes its tables with :func:`write_table` and the report reads them back with :func:`read_table`:

- format: ``csv`` up to :data:`LARGE_TABLE_ROWS` rows, ``parquet`` above (CSV of a million score rows is ~500 MB
  and slow to read back); ``RATINGBT_TABLE_FORMAT=csv|parquet|auto`` or a stage's ``fmt=`` forces one;
- a table written in one format removes the other format's file of the same name, so a run folder never holds a
  stale ``scores.csv`` beside a fresh ``scores.parquet``;
- writes go to a temporary file in the same folder and are moved into place with :func:`os.replace` (a reader sees
  the old table or the new one, never half a file; several processes may write the same folder).

CSV conventions: UTF-8, ISO dates (``YYYY-MM-DD``), no index column unless asked.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = ["LARGE_TABLE_ROWS", "table_format", "write_table", "read_table", "table_path"]

#: Above this many rows a table is written as parquet unless CSV is asked for.
LARGE_TABLE_ROWS = 100_000

TableFormat = Literal["csv", "parquet", "auto"]


def table_format(n_rows: int, fmt: str | None = None) -> str:
    """``csv`` or ``parquet`` for a table of ``n_rows``: ``fmt`` when given (``auto`` = by size), else
    ``RATINGBT_TABLE_FORMAT``, else by size (:data:`LARGE_TABLE_ROWS`)."""
    choice = (fmt or os.environ.get("RATINGBT_TABLE_FORMAT") or "auto").strip().lower()
    if choice not in ("csv", "parquet", "auto"):
        raise ValueError(f"table format {choice!r}; allowed: csv, parquet, auto")
    if choice == "auto":
        return "parquet" if n_rows > LARGE_TABLE_ROWS else "csv"
    return choice


def write_table(frame: pd.DataFrame, folder: str | Path, name: str, *, fmt: str | None = None, index: bool = False,
                float_format: str | None = None, date_format: str = "%Y-%m-%d") -> Path:
    """Write ``frame`` as ``folder/name.csv`` or ``folder/name.parquet`` (see the module docstring); returns the path."""
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = table_format(len(frame), fmt)
    path = out_dir / f"{name}.{kind}"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".{kind}.tmp", dir=out_dir)
    os.close(fd)
    try:
        if kind == "csv":
            frame.to_csv(tmp, index=index, float_format=float_format, date_format=date_format, encoding="utf-8")
        else:
            frame.to_parquet(tmp, index=index, use_dictionary=_dictionary_columns(frame))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    other = out_dir / f"{name}.{'parquet' if kind == 'csv' else 'csv'}"
    other.unlink(missing_ok=True)
    return path


def _dictionary_columns(frame: pd.DataFrame) -> list[str]:
    """The columns worth parquet's dictionary encoding: text and categoricals (brokers, codes, ratings repeat).
    Numbers and dates are written plainly: pyarrow would otherwise try a dictionary for each float column of a
    million-row table and give it up (a third of the write time of ``scores``, for a smaller file of text only)."""
    return [str(name) for name, dtype in frame.dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)]  # object dtype too


def table_path(folder: str | Path, name: str) -> Path | None:
    """The file of table ``name`` in ``folder`` (``.parquet`` or ``.csv``, the newer if both exist), or ``None``."""
    found = [p for p in (Path(folder) / f"{name}.parquet", Path(folder) / f"{name}.csv") if p.is_file()]
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime_ns)


def read_table(path: str | Path, **csv_options) -> pd.DataFrame:
    """A table written by :func:`write_table` (by suffix: parquet, or CSV read with ``csv_options``)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, **csv_options)
