"""Weights read from a file: a CSV (or parquet) table with a ``date`` column and one column per stock code.

Reads: the file named by ``path`` (dates in any pandas-readable form; codes in any spelling accepted by
:func:`engine.symbols.normalize_symbol`), the panel's sessions and codes. Returns: the file's rows on the panel's
sessions — a row dated on a non-session applies from the next session; blank cells are NaN (no instruction).
Each row is the target fraction of portfolio value to hold from that date on (see :mod:`strategies`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from engine.data.panel import Panel
from engine.symbols import normalize_symbol


class Params(BaseModel):
    """Parameters of ``target_weights``."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(..., description="CSV or parquet file: date column + one column per code (fractions)")
    fill_missing_with_zero: bool = Field(False, description="blank cells mean 0 (exit) instead of 'no instruction'")


def read_weights(path: str | Path) -> pd.DataFrame:
    """Read the weights file; raises naming the file and the bad column or cell."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"strategy.params.path: weights file {path} does not exist")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if "date" not in frame.columns:
        raise ValueError(f"{path}: needs a 'date' column (found: {', '.join(map(str, frame.columns))})")
    dates = pd.to_datetime(frame.pop("date"), errors="coerce")
    if dates.isna().any():
        bad = int(np.flatnonzero(dates.isna())[0]) + 2
        raise ValueError(f"{path}, line {bad}: unreadable date")
    frame.columns = [normalize_symbol(str(c)) for c in frame.columns]
    values = frame.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & frame.notna()
    if bad.any().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise ValueError(f"{path}, line {r + 2}, column {frame.columns[c]}: not a number: {frame.iat[r, c]!r}")
    values.index = pd.DatetimeIndex(dates).normalize()
    return values.sort_index()


def universe(signals: pd.DataFrame, params: Params) -> list[str]:
    """The codes named in the weights file."""
    return list(read_weights(params.path).columns)


def target_weights(signals: pd.DataFrame, panel: Panel, params: Params) -> pd.DataFrame:
    """The file's weights on the panel's sessions (``signals`` is not used)."""
    table = read_weights(params.path)
    unknown = [c for c in table.columns if c not in set(panel.codes)]
    if unknown:
        raise KeyError(f"{params.path}: codes without prices in the panel: {', '.join(unknown)}")
    sessions = pd.DatetimeIndex(panel.sessions)
    positions = sessions.searchsorted(table.index, side="left")
    keep = positions < len(sessions)
    table = table[keep]
    table.index = sessions[positions[keep]]
    table = table.groupby(level=0).last()  # several file rows before one session: the last one wins
    if params.fill_missing_with_zero:
        table = table.fillna(0.0)
    return table.reindex(columns=panel.codes)
