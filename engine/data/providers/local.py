"""The local provider: reads price files already on disk (no network).

Two formats are understood:

1. **Per-symbol CSV** (the format of ``shared/data/prices/``), file stem = :func:`engine.symbols.provider_ticker`
   with ``"local"`` (``SZ300474.csv``, ``SH000300.csv``, ``HK00700.csv``, ``HKHSI.csv``). Columns
   ``date,open,high,low,close,volume`` and optionally ``raw_close,adj_factor,source`` (A-shares; ``close`` is
   forward-adjusted), ``amount`` (CSI 300, ignored). Volume is already in shares. Also accepted: ``<code>.csv``
   named by canonical code (``300474.SZ.csv``) and ``.parquet`` with the same columns.
2. **Long market parquet** (``shared/data/market/ashare_daily_2024_2025.parquet``): columns
   ``code`` (6 digits, no suffix), ``date``, ``open/high/low/close`` (qfq), ``volume`` in **lots of 100** —
   converted to shares here. Read with :func:`read_long_parquet`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from engine.data.bars import normalize_bars
from engine.data.providers.base import EmptyResult, NotSupported, finish_frame
from engine.paths import shared_dir
from engine.symbols import SymbolError, normalize_symbol, provider_ticker

__all__ = ["LocalProvider", "read_symbol_file", "read_long_parquet", "is_long_format", "code_from_filename",
           "LOTS_TO_SHARES"]

LOTS_TO_SHARES = 100.0  # 1 手 (lot) = 100 shares on the A-share market


def code_from_filename(path: Path) -> str:
    """Canonical code of a per-symbol file (``SZ300474.csv`` → ``300474.SZ``, ``HKHSI.csv`` → ``HSI``)."""
    stem = path.name.split(".csv")[0].split(".parquet")[0]
    try:
        return normalize_symbol(stem)
    except SymbolError as exc:
        raise SymbolError(f"{path}: file name does not name a security ({exc})") from None


def read_symbol_file(path: Path, code: str | None = None) -> pd.DataFrame:
    """Read one per-symbol CSV/parquet file into the normalised bar schema (volume in shares).

    Raises ``ValueError`` naming the file (and the missing columns) when the file is not a price file.
    """
    path = Path(path)
    code = code or code_from_filename(path)
    try:
        raw = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pandas raises many kinds; name the file
        raise ValueError(f"{path}: cannot read as a price file ({type(exc).__name__}: {exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(raw.columns)}")
    tag = f"local:{path.name}"
    if "source" in raw.columns:
        raw["source"] = raw["source"].astype("str").where(raw["source"].notna(), "")
        raw["source"] = np.where(raw["source"] == "", tag, tag + ":" + raw["source"])
    return normalize_bars(raw, source=tag)


def is_long_format(path: Path) -> bool:
    """True when ``path`` is a parquet file with a ``code`` column (the long market format)."""
    path = Path(path)
    if path.suffix != ".parquet":
        return False
    import pyarrow.parquet as pq

    return "code" in pq.read_schema(path).names


def read_long_parquet(path: Path, codes: Iterable[str] | None = None, start=None, end=None,
                      volume_unit: str = "lots") -> pd.DataFrame:
    """Read the long market parquet as one frame with a canonical ``code`` column plus the bar columns.

    ``codes`` (canonical) filters rows before loading them all; ``start``/``end`` clip dates (inclusive).
    ``volume_unit``: ``"lots"`` (the market file: ×100 to shares) or ``"shares"``.
    """
    if volume_unit not in ("lots", "shares"):
        raise ValueError(f"volume_unit must be 'lots' or 'shares', got {volume_unit!r}")
    filters = []
    wanted: dict[str, str] | None = None
    if codes is not None:
        wanted = {normalize_symbol(c).split(".")[0]: normalize_symbol(c) for c in codes}
        filters.append(("code", "in", list(wanted)))
    if start is not None:
        filters.append(("date", ">=", pd.Timestamp(start)))
    if end is not None:
        filters.append(("date", "<=", pd.Timestamp(end)))
    df = pd.read_parquet(path, filters=filters or None)
    missing = [c for c in ("code", "date", "open", "high", "low", "close", "volume") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: long market file lacks column(s) {missing}; found {list(df.columns)}")
    digits = df["code"].astype("str")
    uniq = pd.unique(digits)
    mapping = wanted or {}
    for d in uniq:
        if d not in mapping:
            mapping[d] = normalize_symbol(d)
    df = df.assign(code=digits.map(mapping))
    if volume_unit == "lots":
        df["volume"] = df["volume"].astype("float64") * LOTS_TO_SHARES
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    df["raw_close"] = np.nan
    df["adj_factor"] = np.nan
    df["source"] = f"local:{Path(path).name}"
    return df


class LocalProvider:
    """Provider over local sources, in order: folders of per-symbol files, per-symbol files and long market parquet
    files. Through :func:`engine.data.load.load_panel` its ``roots`` are read via the store
    (:mod:`engine.data.localfiles`); :meth:`fetch` reads them directly."""

    name = "local"

    def __init__(self, roots: Iterable[Path] | None = None):
        if roots is None:
            roots = [shared_dir() / "data" / "prices", shared_dir() / "data" / "market"]
        self.roots = [Path(r) for r in roots]
        self._long_codes: dict[Path, set[str]] = {}

    def _candidates(self, code: str) -> list[Path]:
        stem = provider_ticker(code, "local")
        out = []
        for root in self.roots:
            if root.is_file():
                if root.suffix in (".csv", ".parquet") and root.name.split(".")[0] in (stem, code.split(".")[0]) \
                        and not is_long_format(root):
                    with contextlib.suppress(SymbolError):
                        if code_from_filename(root) == code:
                            out.append(root)
                continue
            for name in (f"{stem}.csv", f"{stem}.parquet", f"{code}.csv", f"{code}.parquet"):
                out.append(root / name)
        return out

    def symbol_file(self, code: str) -> Path | None:
        """The per-symbol file this provider would read for ``code`` (first match), or None."""
        return next((path for path in self._candidates(code) if path.is_file()), None)

    def _long_files(self) -> list[Path]:
        files = []
        for root in self.roots:
            if root.is_file() and root.suffix == ".parquet":
                files.append(root)
            elif root.is_dir():
                files.extend(p for p in sorted(root.glob("*.parquet")) if is_long_format(p))
        return files

    def fetch(self, code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Bars from the first matching per-symbol file, else from a long parquet holding ``code``."""
        for path in self._candidates(code):
            if path.is_file():
                df = read_symbol_file(path, code)
                try:
                    return finish_frame(df, provider=self.name, code=code, start=start, end=end,
                                        source=f"local:{path.name}")
                except EmptyResult as exc:  # a file does not grow between retries
                    raise EmptyResult(f"{exc} (file {path})", transient=False) from None
        for path in self._long_files():
            df = read_long_parquet(path, codes=[code], start=start, end=end)
            if len(df):
                return finish_frame(df.drop(columns="code"), provider=self.name, code=code, start=start,
                                    end=end, source=f"local:{path.name}")
        searched = ", ".join(str(r) for r in self.roots)
        raise NotSupported(f"local: no file for {code} ({provider_ticker(code, 'local')}.csv) in {searched}")

