"""Import local price files into the cache (``ratingbt data import``).

Accepted inputs: per-symbol CSV/parquet files (``SZ300474.csv``: see :mod:`engine.data.providers.local`), the long
market parquet (``code, date, open, high, low, close, volume`` in lots), or directories holding either (searched
non-recursively; files whose name is not a security code, such as ``SOURCES.md``, are skipped). Each symbol is
merged into the cache (:meth:`PriceCache.update`: existing rows win unless ``replace``; a new segment is rebased on
the shared dates) and its covered range becomes the file's first..last date. A bad file is reported with its path
and the import continues with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from engine.data.bars import BarsInvalidError
from engine.data.cache import PriceCache
from engine.data.providers.local import code_from_filename, is_long_format, read_long_parquet, read_symbol_file
from engine.symbols import SymbolError

__all__ = ["ImportReport", "import_paths", "expand_paths"]


@dataclass
class ImportReport:
    """Per-code rows imported, files read, files skipped (path → why) and errors (path → message)."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], dict[str, str]]:
    """Files to import from files and directories, and the skipped ones with the reason."""
    files: list[Path] = []
    skipped: dict[str, str] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if f.suffix in (".csv", ".parquet") and f.is_file():
                    files.append(f)
                elif f.is_file():
                    skipped[str(f)] = "not a .csv or .parquet file"
        elif p.is_file():
            files.append(p)
        else:
            skipped[str(p)] = "no such file or directory"
    return files, skipped


def _import_frame(cache: PriceCache, code: str, bars: pd.DataFrame, replace: bool, report: ImportReport,
                  where: str) -> None:
    if bars.empty:
        report.skipped[where] = f"{code}: no rows"
        return
    first, last = bars["date"].iloc[0].date(), bars["date"].iloc[-1].date()
    try:
        cache.update(code, bars, covered=[(first, last)], source="local", replace=replace)
    except BarsInvalidError as exc:
        report.errors[where] = str(exc)
        return
    if Path(where).is_file():  # a per-symbol file (long files are named "path [code]" here)
        cache.record_local_file(code, Path(where))
    report.rows[code] = report.rows.get(code, 0) + len(bars)


def _import_long(cache: PriceCache, path: Path, replace: bool, report: ImportReport,
                 progress: Callable[[str, int, int], None] | None) -> None:
    """Bulk path for the long market file: one sort, one vectorised validation, one arrow table sliced per code
    (zero copy). Codes already in the cache go through the normal merge (:meth:`PriceCache.update`)."""
    import numpy as np
    import pyarrow as pa

    from engine.data.bars import BAR_COLUMNS, validate_bars

    long = read_long_parquet(path).sort_values(["code", "date"], kind="stable").reset_index(drop=True)
    frame = long[list(BAR_COLUMNS)]
    codes = long["code"].to_numpy(dtype=object)
    o, h, l, c = (frame[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c) & (o > 0) & (h > 0) & (l > 0)
                & (c > 0)) | (h < np.maximum(o, c) * (1 - 1e-9)) | (l > np.minimum(o, c) * (1 + 1e-9))
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    dates_i8 = frame["date"].to_numpy(dtype="datetime64[ns]").view("int64")
    step_ok = np.r_[True, np.diff(dates_i8) > 0]
    step_ok[starts] = True
    bad |= ~step_ok
    bad_codes = set(codes[bad])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tag = f"local:{path.name}"
    for k, (lo, hi) in enumerate(zip(starts, ends)):
        code = str(codes[lo])
        where = f"{path} [{code}]"
        if code in bad_codes or cache.path(code).is_file():
            bars = frame.iloc[lo:hi].reset_index(drop=True)
            if code in bad_codes:
                report.errors[where] = "; ".join(str(i) for i in validate_bars(bars, code)[:3])
            else:
                _import_frame(cache, code, bars, replace, report, where)
        else:
            dates = frame["date"].iloc[[lo, hi - 1]]
            entry = cache._make_entry(code, dates, {tag: int(hi - lo)}, [(dates.iloc[0], dates.iloc[-1])], "local")
            entry["rows"] = int(hi - lo)
            cache.write_table(code, table.slice(lo, hi - lo), entry)
            report.rows[code] = report.rows.get(code, 0) + int(hi - lo)
        if progress:
            progress(f"{path.name} {code}", k + 1, len(starts))


def import_paths(paths: Iterable[str | Path], cache: PriceCache | None = None, *, replace: bool = False,
                 progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
    """Import every price file found in ``paths`` into ``cache``. ``progress(label, done, total)`` is called as
    work advances (total = files, or symbols for a long parquet)."""
    cache = cache or PriceCache()
    files, skipped = expand_paths(paths)
    report = ImportReport(skipped=skipped)
    with cache.batch():
        for n, path in enumerate(files):
            try:
                if is_long_format(path):
                    _import_long(cache, path, replace, report, progress)
                    report.files.append(path)
                    continue
                code = code_from_filename(path)
                bars = read_symbol_file(path, code)
            except SymbolError as exc:
                report.skipped[str(path)] = str(exc)
                continue
            except (ValueError, KeyError, OSError) as exc:
                report.errors[str(path)] = str(exc)
                continue
            _import_frame(cache, code, bars, replace, report, str(path))
            report.files.append(path)
            if progress:
                progress(path.name, n + 1, len(files))
    return report
