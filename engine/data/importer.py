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

from engine.data.bars import BarsInvalidError, normalize_bars
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
    report.rows[code] = report.rows.get(code, 0) + len(bars)


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
                    long = read_long_parquet(path)
                    groups = list(long.groupby("code", sort=True))
                    for k, (code, g) in enumerate(groups):
                        bars = normalize_bars(g.drop(columns="code"))
                        _import_frame(cache, str(code), bars, replace, report, f"{path} [{code}]")
                        if progress:
                            progress(f"{path.name} {code}", k + 1, len(groups))
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
