"""Import local price files into the store (``ratingbt data import``).

Accepted inputs: per-symbol CSV/parquet files (``SZ300474.csv``: see :mod:`engine.data.providers.local`), the long
market parquet (``code, date, open, high, low, close, volume`` in lots), or directories holding either (searched
non-recursively; files whose name is not a security code, such as ``SOURCES.md``, are skipped). Each file is read
into the store under its own path with its stamp and SHA-256 (:func:`engine.data.localfiles.sync_files`) and marked
*imported*: imported files serve calls that name no local files, the earlier import first (``--replace`` puts a
file first). Importing an unchanged file again reads nothing. A bad file (or a bad code of a long file) is reported
with its path and the import continues with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from engine.data.cache import PriceCache

__all__ = ["ImportReport", "import_paths", "expand_paths"]


@dataclass
class ImportReport:
    """Per-code rows held by the imported files, files imported, files skipped (path → why) and errors (path, or
    ``path [code]`` for one code of a long file → message)."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], dict[str, str]]:
    """Price files to import from files and directories, and the skipped ones with the reason."""
    from engine.data.localfiles import expand_sources

    files, skipped = expand_sources(paths)
    return [f.path for f in files], skipped


def import_paths(paths: Iterable[str | Path], cache: PriceCache | None = None, *, replace: bool = False,
                 progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
    """Import every price file found in ``paths`` into ``cache`` (one transaction per long file, one for all
    per-symbol files). ``progress(label, done, total)`` is called per file."""
    from engine.data.localfiles import expand_sources, sync_files

    cache = cache or PriceCache()
    files, skipped = expand_sources(paths)
    report = ImportReport(skipped=dict(skipped))
    # originals as given (relative paths stay relative in messages)
    for n, f in enumerate(files):
        if progress:
            progress(f.path.name, n, len(files))
    synced = sync_files(cache, files, imported=True, replace=replace)
    report.errors.update(synced.errors)
    report.skipped.update(synced.skipped)
    bad = set(synced.errors)
    good = [f for f in files if str(f.path) not in bad]
    report.files = [f.path for f in good]
    with cache.store.session() as con:
        paths_in = [str(f.path) for f in good]
        if paths_in:
            rows = con.execute(f"SELECT code, sum(rows) FROM file_codes WHERE path IN "
                               f"({', '.join('?' * len(paths_in))}) GROUP BY code ORDER BY code",
                               paths_in).fetchall()
            report.rows = {code: int(n) for code, n in rows}
    if progress:
        progress("done", len(files), len(files))
    return report
