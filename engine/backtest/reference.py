"""Reference data for the simulator's price limits: ST flags (main-board ±5 %, ±10 % from 2026-07-06) and listing
dates (no limit in a new listing's first 5 sessions).

Sources (config keys in :class:`engine.config.PortfolioConfig`):

- ``portfolio.st_flags``: a CSV ``code,start,end`` — one row per ST period, ISO dates, ``end`` inclusive and blank
  while the stock is still ST (``code`` in any form :func:`engine.symbols.normalize_symbol` reads).
- ``portfolio.listings``: a CSV ``code,listing_date``.
- ``portfolio.st_provider: akshare``: akshare's risk-warning board ``stock_zh_a_st_em()`` (columns 序号, 代码, 名称,
  最新价, …), a snapshot of the stocks that are ST *on the day it is taken*. Each snapshot is stored as
  ``<cache>/reference/st_akshare_<date>.csv`` and the stored snapshots are read as periods: a code is ST from the
  first snapshot that lists it until the day before the next snapshot that does not. Sessions before the first
  snapshot are never flagged from it (no look-ahead), so a backtest of past years needs ``st_flags``.

Errors name the file, the line (1 = header) and the field.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

__all__ = ["ReferenceDataError", "read_st_flags", "read_listings", "st_matrix", "fetch_st_snapshot",
           "stored_st_periods", "ST_COLUMNS", "LISTING_COLUMNS"]

ST_COLUMNS = ("code", "start", "end")
LISTING_COLUMNS = ("code", "listing_date")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReferenceDataError(ValueError):
    """A reference file that cannot be used; the message names the file, the line and the field."""


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise ReferenceDataError(f"{path}: file not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ReferenceDataError(f"{path}: missing column(s) {', '.join(missing)} (expected {','.join(columns)})")
    return table


def _date(path: Path, line: int, field: str, text: str, required: bool) -> pd.Timestamp | None:
    text = text.strip()
    if not text:
        if required:
            raise ReferenceDataError(f"{path}, line {line}: {field} is empty (expected YYYY-MM-DD)")
        return None
    if not _ISO.match(text):
        raise ReferenceDataError(f"{path}, line {line}: {field} {text!r} is not a date YYYY-MM-DD")
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ReferenceDataError(f"{path}, line {line}: {field} {text!r} is not a valid date") from None


def _code(path: Path, line: int, text: str) -> str:
    from engine.symbols import SymbolError, normalize_symbol

    try:
        return normalize_symbol(text.strip())
    except (SymbolError, ValueError) as exc:
        raise ReferenceDataError(f"{path}, line {line}: code {text!r} is not a stock code ({exc})") from None


def read_st_flags(path: str | Path) -> pd.DataFrame:
    """ST periods from a CSV ``code,start,end``: DataFrame with canonical ``code``, ``start``, ``end`` (NaT = open)."""
    path = Path(path)
    table = _read_csv(path, ST_COLUMNS)
    rows = []
    for k, rec in enumerate(table.itertuples(index=False), start=2):
        code = _code(path, k, rec.code)
        start = _date(path, k, "start", rec.start, True)
        end = _date(path, k, "end", rec.end, False)
        if end is not None and end < start:
            raise ReferenceDataError(f"{path}, line {k}: end {end.date()} is before start {start.date()}")
        rows.append((code, start, end if end is not None else pd.NaT))
    return pd.DataFrame(rows, columns=list(ST_COLUMNS))


def read_listings(path: str | Path) -> dict[str, pd.Timestamp]:
    """Listing dates from a CSV ``code,listing_date``: canonical code → date."""
    path = Path(path)
    table = _read_csv(path, LISTING_COLUMNS)
    out: dict[str, pd.Timestamp] = {}
    for k, rec in enumerate(table.itertuples(index=False), start=2):
        out[_code(path, k, rec.code)] = _date(path, k, "listing_date", rec.listing_date, True)
    return out


def st_matrix(periods: pd.DataFrame, codes, sessions) -> np.ndarray:
    """``(n_sessions, n_assets)`` bool: True where a session lies in one of the code's ST periods (ends inclusive)."""
    days = pd.DatetimeIndex(sessions)
    codes = [str(c) for c in codes]
    out = np.zeros((len(days), len(codes)), dtype=bool)
    col = {c: j for j, c in enumerate(codes)}
    for rec in periods.itertuples(index=False):
        j = col.get(rec.code)
        if j is None:
            continue
        end = rec.end if pd.notna(rec.end) else days.max() if len(days) else rec.start
        out[(days >= rec.start) & (days <= end), j] = True
    return out


def fetch_st_snapshot(cache_dir: Path, module: ModuleType | None = None, today: dt.date | None = None) -> Path:
    """Take akshare's ST list now (``module.stock_zh_a_st_em()``) and store it as
    ``<cache_dir>/reference/st_akshare_<today>.csv`` (column ``code``, canonical), atomically; returns the path."""
    from engine.symbols import normalize_symbol

    if module is None:
        import akshare as module  # noqa: PLC0415 - lazy: importing akshare takes seconds
    table = module.stock_zh_a_st_em()
    if "代码" not in table.columns:
        found = ", ".join(map(str, table.columns))
        raise ReferenceDataError(f"akshare stock_zh_a_st_em: no column 代码 (columns: {found})")
    codes = sorted({normalize_symbol(str(c).zfill(6)) for c in table["代码"] if str(c).strip()})
    today = today or dt.date.today()
    folder = Path(cache_dir) / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"st_akshare_{today.isoformat()}.csv"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("code\n" + "".join(f"{c}\n" for c in codes))
    os.replace(tmp, path)
    return path


def stored_st_periods(cache_dir: Path) -> pd.DataFrame:
    """The stored akshare snapshots as ST periods (``code,start,end``; see the module docstring)."""
    folder = Path(cache_dir) / "reference"
    snaps = sorted(folder.glob("st_akshare_*.csv")) if folder.is_dir() else []
    dated = []
    for p in snaps:
        try:
            day = pd.Timestamp(dt.date.fromisoformat(p.stem.rsplit("_", 1)[-1]))
        except ValueError:
            continue
        dated.append((day, set(pd.read_csv(p, dtype=str)["code"].dropna())))
    rows = []
    open_since: dict[str, pd.Timestamp] = {}
    for day, codes in dated:
        for code in list(open_since):
            if code not in codes:
                rows.append((code, open_since.pop(code), day - pd.Timedelta(days=1)))
        for code in codes:
            open_since.setdefault(code, day)
    rows += [(code, start, pd.NaT) for code, start in open_since.items()]
    return pd.DataFrame(rows, columns=list(ST_COLUMNS))


def limit_inputs(cfg, panel) -> tuple[np.ndarray | None, dict[str, pd.Timestamp] | None, list[str]]:
    """ST flags ``(n_sessions, n_assets)`` (None when no source is configured), listing dates (None = the panel's
    first bars) and notes for the run, from a :class:`engine.config.BacktestConfig`. A bad file raises
    :class:`engine.config.ConfigError` naming the key, file, line and field; an unreachable provider is a note."""
    from engine.config import ConfigError
    from engine.paths import cache_dir

    notes: list[str] = []
    periods = []
    listings = None
    for key, value in (("portfolio.st_flags", cfg.portfolio.st_flags), ("portfolio.listings", cfg.portfolio.listings)):
        if not value:
            continue
        try:
            if key == "portfolio.st_flags":
                periods.append(read_st_flags(cfg.resolve(value)))
            else:
                listings = read_listings(cfg.resolve(value))
        except ReferenceDataError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    if cfg.portfolio.st_provider == "akshare":
        cache = cfg.resolve(cfg.data.cache) or cache_dir()
        if not cfg.data.offline:
            try:
                fetch_st_snapshot(cache)
            except Exception as exc:  # noqa: BLE001 - network or schema trouble: use the stored snapshots
                notes.append(f"akshare ST list not taken today ({type(exc).__name__}: {str(exc)[:120]}); "
                             "using stored snapshots only")
        stored = stored_st_periods(cache)
        if stored.empty:
            notes.append("portfolio.st_provider: no stored akshare ST snapshot; no ST flags from the provider")
        periods.append(stored)
    periods = [p for p in periods if not p.empty]
    st = st_matrix(pd.concat(periods, ignore_index=True), panel.codes, panel.sessions) if periods else None
    if st is not None and st.any():
        flagged = [str(c) for c, hit in zip(panel.codes, st.any(axis=0)) if hit]
        notes.append(f"ST flags (±5 % main-board limit, ±10 % from 2026-07-06) on {', '.join(flagged[:10])}"
                     + (f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""))
    return st, listings, notes
