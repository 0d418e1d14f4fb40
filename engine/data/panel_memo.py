"""On-disk memo of :func:`engine.data.load.load_panel` results: loading the same panel again reads a few ``.npy``
files instead of planning, checking and reading the store.

When it is used
    Only for loads that cannot reach the network (offline, or a provider list without network providers), whose
    sources reported no error; ``RATINGBT_PANEL_MEMO=0`` (or ``load_panel(memo=False)``) turns it off.

What a memo is keyed on (SHA-256 of all of it; any change is a different memo, never a stale one)
    - the store's *price generation* token (:meth:`engine.data.store.Store.price_generation`), replaced before
      every transaction that may change prices (any import, fetch, re-read of a changed file or migration since),
      with the database file's identity (a file replaced by another is another generation);
    - the local sources named (``--prices`` / ``prices:``): path, modification time (ns) and size of each file,
      and of every file in each folder named (a file added, removed or edited in a folder changes the key);
    - the call: canonical codes in order, ``start``/``end``, ``calendar``, ``fields``, ``order``;
    - today's date (calendars and "up to today" ranges are dated) and the data layer's code (modification time and
      size of the modules under ``engine/data/`` and ``engine/symbols.py``), plus :data:`MEMO_FORMAT`.

Layout
    ``<cache>/panels/<key>/``: one ``<field>.npy`` per loaded field (and ``tradable.npy`` when real),
    ``sessions.npy``, and ``meta.pkl`` (codes, markets, boards, fields, missing ranges, first bar dates, sources;
    a pickle of plain values, like numba's own cache). Written into a temporary folder and renamed into place, so
    readers see a whole memo or none; several processes may write the same memo (the first rename wins). The
    least recently used memos are removed above ``RATINGBT_PANEL_MEMO_MB`` (default 1024 MiB).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["memo_enabled", "memo_key", "read_memo", "write_memo", "MEMO_FORMAT", "MEMO_DIR"]

#: Bumped when the memo's files or their meaning change.
MEMO_FORMAT = "1"
#: The memos' folder inside the cache directory.
MEMO_DIR = "panels"
DEFAULT_MAX_MB = 1024.0

_ENGINE = Path(__file__).resolve().parents[1]


def memo_enabled(memo: bool | None = None) -> bool:
    """``memo`` when given, else ``RATINGBT_PANEL_MEMO`` (``0``/``false``/``no``/``off`` = off; default on)."""
    if memo is not None:
        return bool(memo)
    return os.environ.get("RATINGBT_PANEL_MEMO", "1").strip().lower() not in ("0", "false", "no", "off")


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}|absent"
    return f"{path}|{st.st_mtime_ns}|{st.st_size}"


def _sources_stamp(roots: Sequence[str | Path]) -> list[str]:
    """Stamps of the named local sources: a file's own, and every file's in a named folder (not recursive, as
    :func:`engine.data.localfiles.expand_sources` reads them)."""
    out = []
    for root in map(Path, roots):
        root = root.resolve()
        if root.is_dir():
            out.append(f"{root}|dir")
            with os.scandir(root) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.is_file():
                        st = entry.stat()
                        out.append(f"{entry.name}|{st.st_mtime_ns}|{st.st_size}")
        else:
            out.append(_stamp(root))
    return out


def _code_stamp() -> list[str]:
    """Stamps of the data layer's modules: an upgraded or edited loader never serves an old memo."""
    files = sorted((_ENGINE / "data").glob("*.py")) + [_ENGINE / "symbols.py"]
    return [_stamp(p) for p in files]


def memo_key(generation: str, codes: Sequence[str], start, end, calendar: str, fields: Sequence[str], order: str,
             roots: Sequence[str | Path] | None) -> str:
    """Hex key of one load (module docstring: what it covers). ``roots`` = the local sources named (``None``:
    none, the store's imported files are served)."""
    import datetime as dt

    iso = (lambda x: "" if x is None else str(np.datetime64(_as_datetime(x), "D")))
    parts = [MEMO_FORMAT, generation, dt.date.today().isoformat(), iso(start), iso(end), calendar, ",".join(fields),
             order, *(["roots:none"] if roots is None else ["roots:", *_sources_stamp(roots)]), *_code_stamp(),
             "codes:", *codes]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _as_datetime(value):
    """A date-like value as something ``np.datetime64`` reads (Timestamp, date, datetime, ISO string)."""
    import pandas as pd

    return pd.Timestamp(value).to_datetime64()


def _root(cache_root: Path) -> Path:
    return Path(cache_root) / MEMO_DIR


def read_memo(cache_root: Path, key: str) -> dict | None:
    """The memo ``key`` as ``{"arrays": {name: array}, "sessions": array, **meta}``, or ``None`` when absent or
    unreadable (a memo removed or damaged meanwhile is only a miss)."""
    folder = _root(cache_root) / key
    try:
        with open(folder / "meta.pkl", "rb") as fh:
            meta = pickle.load(fh)
        arrays = {name: np.load(folder / f"{name}.npy") for name in meta["arrays"]}
        sessions = np.load(folder / "sessions.npy")
    except FileNotFoundError:  # absent, or evicted by another process meanwhile
        return None
    except Exception:  # noqa: BLE001 - damaged or from another version: removed, recomputed and written again
        shutil.rmtree(folder, ignore_errors=True)
        return None
    try:
        os.utime(folder)  # recently used: evicted last
    except OSError:
        pass
    return {**meta, "arrays": arrays, "sessions": sessions}


def write_memo(cache_root: Path, key: str, arrays: dict[str, np.ndarray], sessions: np.ndarray, meta: dict) -> None:
    """Store a memo (module docstring: atomic, first writer wins, then eviction). Failures (disk full, read-only
    cache) are ignored: a memo is only ever a shortcut."""
    root = _root(cache_root)
    final = root / key
    if final.exists():
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    except OSError:
        return
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr)
        np.save(tmp / "sessions.npy", sessions)
        with open(tmp / "meta.pkl", "wb") as fh:
            pickle.dump({**meta, "arrays": list(arrays)}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.rename(tmp, final)  # atomic; fails if another process put the same memo first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _evict(root, keep=final)


def _max_bytes() -> float:
    try:
        return float(os.environ.get("RATINGBT_PANEL_MEMO_MB", DEFAULT_MAX_MB)) * 2**20
    except ValueError:
        return DEFAULT_MAX_MB * 2**20


def _evict(root: Path, keep: Path) -> None:
    """Remove the least recently used memos (and temporary folders older than an hour) until the memos fit
    :func:`_max_bytes`; ``keep`` (the memo just written) stays."""
    now = time.time()
    memos = []
    for folder in root.iterdir():
        try:
            st = folder.stat()
            if folder.name.startswith("."):
                if now - st.st_mtime > 3600:  # left by a killed writer
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            size = sum(f.stat().st_size for f in folder.iterdir())
        except OSError:
            continue  # removed by another process meanwhile
        memos.append((st.st_mtime, size, folder))
    total = sum(size for _, size, _ in memos)
    for _, size, folder in sorted(memos, key=lambda m: m[0]):
        if total <= _max_bytes():
            break
        if folder != keep:
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
