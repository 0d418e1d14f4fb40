"""Signals parsed from report files, remembered between runs so an unchanged folder is not parsed again.

``ratingbt run`` parses ``signals.reports`` on every run; a second run of the same config over the same files gives
the same table. :func:`remembered_ingest` keeps the table and the parser's notes in
``<cache>/parsed/<key>.pkl``, where ``key`` is a SHA-256 over everything the result depends on:

* every report file under the configured paths (folders walked recursively): its path, size and modification time
  (nanoseconds), so an edited, added, removed or renamed file gives a new key;
* the parser itself: path, size and modification time of every ``*.py`` file of the ``engine`` package and of
  every file under the repository's ``configs/`` folder (broker scales, aliases, security names);
* the Python, pandas and numpy versions (the pickle format).

A hit returns the stored table (equal, column by column and dtype by dtype, to parsing again); anything unreadable
in the stored file counts as a miss. Writes are atomic (temporary file + rename), so concurrent runs never read a
half-written entry; the newest :data:`KEEP` entries are kept. ``RATINGBT_PARSE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

__all__ = ["ParsedReports", "remembered_ingest", "inputs_key", "KEEP"]

#: How many remembered parses are kept per cache folder (the least recently written are deleted).
KEEP = 16
_FORMAT = 1


@dataclass
class ParsedReports:
    """What parsing the reports of a config gave: the signals table, the ``"<file>: <message>"`` notes of every
    file, and one text per unreadable file."""

    signals: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _stamps(root: Path, files_only_suffix: str | None = None) -> Iterable[str]:
    """``path size mtime_ns`` of ``root`` (a file) or of every file below it (a folder), in sorted order."""
    if root.is_file():
        st = root.stat()
        yield f"{root} {st.st_size} {st.st_mtime_ns}"
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if files_only_suffix is not None and not name.endswith(files_only_suffix):
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:  # vanished while walking: the parse will say so
                continue
            yield f"{path} {st.st_size} {st.st_mtime_ns}"


def inputs_key(paths: Iterable[Path]) -> str:
    """The key of a parse of ``paths`` (see the module docstring)."""
    import numpy as np

    import engine
    from engine.paths import REPO_ROOT

    digest = hashlib.sha256()
    digest.update(f"{_FORMAT} {sys.version} {pd.__version__} {np.__version__} {engine.__version__}\n".encode())
    for path in paths:
        digest.update(f"input {Path(path).resolve()}\n".encode())
        for line in _stamps(Path(path).resolve()):
            digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    for line in _stamps(Path(engine.__file__).resolve().parent, ".py"):
        digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    configs = REPO_ROOT / "configs"
    if configs.is_dir():
        for line in _stamps(configs):
            digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def _enabled() -> bool:
    return os.environ.get("RATINGBT_PARSE_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def _read(path: Path) -> ParsedReports | None:
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - our own cache folder, written by this function's twin below
        if data.get("format") != _FORMAT or not isinstance(data.get("signals"), pd.DataFrame):
            return None
        return ParsedReports(data["signals"], list(data["notes"]), list(data["unreadable"]))
    except Exception:  # noqa: BLE001 - missing, truncated or from another version: parse again
        return None


def _write(folder: Path, path: Path, parsed: ParsedReports) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".parsed-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump({"format": _FORMAT, "signals": parsed.signals, "notes": parsed.notes,
                             "unreadable": parsed.unreadable}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        entries = sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:  # a read-only or full cache folder: the run goes on without remembering
        pass


def remembered_ingest(paths: list[Path], cache_root: Path, parse: Callable[[], ParsedReports]) -> ParsedReports:
    """``parse()`` of the reports under ``paths``, or what it gave last time when nothing it depends on changed
    (module docstring). Results without any signal are not remembered (the caller reports them as an error)."""
    if not _enabled():
        return parse()
    folder = Path(cache_root) / "parsed"
    path = folder / f"{inputs_key(paths)}.pkl"
    hit = _read(path) if path.is_file() else None
    if hit is not None:
        return hit
    parsed = parse()
    if len(parsed.signals):
        _write(folder, path, parsed)
    return parsed
