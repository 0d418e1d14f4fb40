"""The local price cache: one parquet file per symbol plus ``manifest.json``, written atomically.

Layout (root = :func:`engine.paths.cache_dir`, default ``./data_cache``)::

    data_cache/
      manifest.json            {"version": 1, "symbols": {"300474.SZ": {...entry...}, ...}}
      bars/300474.SZ.parquet   normalised bars (engine.data.bars.BAR_COLUMNS), sorted by date

Manifest entry (also stored inside each parquet file's schema metadata under ``ratingbt``, so a file is
self-describing and the manifest can be repaired from the files):

- ``first`` / ``last``: first and last date with a bar (ISO); ``rows``: number of bars;
- ``covered``: list of ``[start, end]`` date ranges (ISO, inclusive) that were asked of a provider and answered —
  a range may be covered without bars (holidays, suspensions); what lies outside is *missing*;
- ``source``: provider of the latest update (``local``, ``akshare``, ``yfinance``); ``sources``: rows per source tag;
- ``updated``: UTC time of the latest write (ISO 8601); ``file``: path relative to the root;
- ``stat``: the file's ``[mtime_ns, size]`` when the entry was written (a mismatch means the file changed behind
  the manifest's back, e.g. a write whose manifest update was interrupted: the entry is re-read from the file).

The manifest also records, under ``local_files``, the local price file each symbol was last read from with its
modification time and size: when that file changes, the next load re-reads it (its rows replace the cached ones).

It also remembers failed fetches under ``failures`` (``{code: [{"start", "end", "at", "error", "providers"}, ...]}``): a range
that every provider failed to supply is not asked again for :data:`FAILURE_TTL_HOURS` hours (env
``RATINGBT_FAILURE_TTL_HOURS``; 0 turns it off; ``ratingbt data fetch --retry-failed`` forgets them), so a symbol
no provider has (e.g. 06082.HK) does not cost retries and back-off on every run.

Writes go to a temporary file in the same directory, are flushed and fsynced, then moved into place with
``os.replace`` (atomic on POSIX): a process killed mid-write leaves the previous file intact (plus a stray
``.tmp`` file that is ignored and cleaned later). The parquet file is the commit point; if the process dies
between the parquet and the manifest replace, the manifest entry is repaired from the file's metadata.
Every read is validated (:func:`engine.data.bars.validate_bars`); a file that cannot be read or fails validation
raises :class:`CacheCorruptError` and is never returned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from engine.data.bars import BAR_COLUMNS, empty_bars, normalize_bars, validate_bars
from engine.paths import cache_dir

__all__ = ["PriceCache", "CacheCorruptError", "merge_bars", "missing_ranges", "union_ranges", "atomic_write_bytes"]

MANIFEST_VERSION = 1
FAILURE_TTL_HOURS = 12.0


def failure_ttl_hours() -> float:
    """Hours a failed fetch is remembered (``RATINGBT_FAILURE_TTL_HOURS``, default 12; 0 = never remember)."""
    try:
        return float(os.environ.get("RATINGBT_FAILURE_TTL_HOURS", FAILURE_TTL_HOURS))
    except ValueError:
        return FAILURE_TTL_HOURS
_META_KEY = b"ratingbt"


class CacheCorruptError(RuntimeError):
    """A cached file cannot be read or fails validation; ``path`` and ``reason`` say which and why."""

    def __init__(self, code: str, path: Path, reason: str):
        self.code, self.path, self.reason = code, path, reason
        super().__init__(f"cache file for {code} is corrupt ({path}): {reason}")


def _iso(d) -> str:
    return pd.Timestamp(d).date().isoformat()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, write, *, fsync: bool = True) -> None:
    """Write ``path`` atomically: ``write(tmp_path)`` fills a temp file in the same directory, then it is fsynced
    (unless ``fsync=False``: bulk writers sync once at the end) and renamed over ``path`` with ``os.replace``.
    On any error the temp file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if fsync:
        _fsync_dir(path.parent)


# ---------------------------------------------------------------------------------------------------- date ranges
def union_ranges(ranges: Iterable[tuple]) -> list[tuple[dt.date, dt.date]]:
    """Merge inclusive date ranges that overlap or touch (end + 1 day = next start)."""
    rs = sorted((pd.Timestamp(a).date(), pd.Timestamp(b).date()) for a, b in ranges)
    out: list[list[dt.date]] = []
    for a, b in rs:
        if out and a <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def missing_ranges(covered: Iterable[tuple], start, end) -> list[tuple[dt.date, dt.date]]:
    """Parts of ``[start, end]`` (inclusive dates) not inside any ``covered`` range."""
    s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    out = []
    cur = s
    for a, b in union_ranges(covered):
        if b < cur:
            continue
        if a > e:
            break
        if a > cur:
            out.append((cur, min(e, a - dt.timedelta(days=1))))
        cur = max(cur, b + dt.timedelta(days=1))
        if cur > e:
            break
    if cur <= e:
        out.append((cur, e))
    return out


# ---------------------------------------------------------------------------------------------------- merging
def merge_bars(existing: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    """Merge ``new`` bars into ``existing``: existing rows win on shared dates; new rows fill other dates.

    Adjusted prices of different fetches may sit on different bases (qfq as of different dates, hfq): when the two
    frames share dates, ``new``'s ``open/high/low/close/adj_factor`` are rescaled by the median of
    ``existing.close / new.close`` over the shared dates, so returns across the seam are right. Returns the merged
    frame and the factor applied (``None`` when there was no shared date, i.e. the segments are not chained).
    """
    if existing is None or existing.empty:
        return new.reset_index(drop=True), 1.0
    if new.empty:
        return existing.reset_index(drop=True), 1.0
    ex = existing.set_index("date")
    nw = new.set_index("date")
    shared = ex.index.intersection(nw.index)
    factor: float | None = None
    if len(shared):
        ratios = (ex.loc[shared, "close"] / nw.loc[shared, "close"]).to_numpy(dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        if len(ratios):
            factor = float(np.median(ratios))
            if abs(factor - 1.0) > 1e-12:
                nw = nw.copy()
                for col in ("open", "high", "low", "close", "adj_factor"):
                    nw[col] = nw[col] * factor
    extra = nw.loc[nw.index.difference(ex.index)]
    merged = pd.concat([ex, extra]).sort_index()
    merged.index.name = "date"
    return merged.reset_index()[list(BAR_COLUMNS)], factor


# ---------------------------------------------------------------------------------------------------- the cache
class PriceCache:
    """Per-symbol parquet cache with a JSON manifest (see module docstring for the layout and guarantees)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else cache_dir()
        self.bars_dir = self.root / "bars"
        self.manifest_path = self.root / "manifest.json"
        self._manifest: dict | None = None
        self._defer_manifest = 0
        self._dirty = False
        self._unsynced = False

    # -- manifest ---------------------------------------------------------------------------------------------
    def manifest(self) -> dict:
        """The manifest dict (``{"version": 1, "symbols": {...}}``), loaded once; a broken manifest is rebuilt."""
        if self._manifest is None:
            if self.manifest_path.is_file():
                try:
                    data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
                    if not isinstance(data, dict) or not isinstance(data.get("symbols"), dict):
                        raise ValueError("no 'symbols' mapping")
                except (ValueError, OSError) as exc:
                    import warnings

                    warnings.warn(f"{self.manifest_path} is unreadable ({exc}); rebuilding it from the bar files",
                                  stacklevel=2)
                    data = self._rebuild_manifest()
            else:
                data = {"version": MANIFEST_VERSION, "symbols": {}}
            self._manifest = data
        return self._manifest

    def _rebuild_manifest(self) -> dict:
        symbols = {}
        for path in sorted(self.bars_dir.glob("*.parquet")) if self.bars_dir.is_dir() else []:
            meta = self._file_meta(path)
            if meta is not None:
                symbols[meta["code"]] = meta
        return {"version": MANIFEST_VERSION, "symbols": symbols}

    def flush(self) -> None:
        """Save the manifest if entries were repaired or deferred writes are pending."""
        if self._dirty and not self._defer_manifest:
            self._save_manifest()

    def _save_manifest(self) -> None:
        if self._defer_manifest:
            self._dirty = True
            return
        payload = json.dumps(self.manifest(), indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
        atomic_write_bytes(self.manifest_path, lambda tmp: tmp.write_bytes(payload))
        self._dirty = False

    @contextlib.contextmanager
    def batch(self) -> Iterator["PriceCache"]:
        """Write the manifest once at the end of a block of many symbol writes. Each file is still replaced
        atomically; durability (fsync) is done once for the whole block (``os.sync``) instead of per file."""
        self._defer_manifest += 1
        try:
            yield self
        finally:
            self._defer_manifest -= 1
            if not self._defer_manifest:
                if self._unsynced and hasattr(os, "sync"):
                    os.sync()
                self._unsynced = False
                self.flush()

    # -- remembered failures ------------------------------------------------------------------------------------
    def _failures_of(self, code: str) -> list[dict]:
        """The remembered failures of ``code`` (a list; older manifests stored one dict)."""
        found = self.manifest().get("failures", {}).get(code, [])
        return [found] if isinstance(found, dict) else list(found)

    def record_failure(self, code: str, start: dt.date, end: dt.date, error: str,
                       providers: Iterable[str] = ()) -> None:
        """Remember that none of ``providers`` could supply ``code`` over ``start..end`` (UTC time of now).
        Up to 8 ranges are kept per code (the newest), so the ranges asked by different stages of a run all count."""
        record = {"start": _iso(start), "end": _iso(end), "error": error[:500], "providers": sorted(set(providers)),
                  "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        kept = [f for f in self._failures_of(code) if (f["start"], f["end"]) != (record["start"], record["end"])]
        self.manifest().setdefault("failures", {})[code] = (kept + [record])[-8:]
        self._save_manifest()

    def recent_failure(self, code: str, start: dt.date, end: dt.date,
                       providers: Iterable[str] | None = None) -> dict | None:
        """A remembered failure covering ``start..end`` for ``code``, younger than :func:`failure_ttl_hours` and made
        with every one of ``providers`` (a chain with a provider that was not tried then asks again); else None."""
        ttl = failure_ttl_hours()
        if ttl <= 0:
            return None
        now = dt.datetime.now(dt.timezone.utc)
        for failure in reversed(self._failures_of(code)):
            if providers is not None and not set(providers) <= set(failure.get("providers", ())):
                continue
            age = now - dt.datetime.fromisoformat(failure["at"])
            if failure["start"] <= _iso(start) and _iso(end) <= failure["end"] and age.total_seconds() < ttl * 3600:
                return failure
        return None

    def forget_failures(self, codes: Iterable[str] | None = None, overlapping: tuple | None = None) -> int:
        """Forget remembered failures (all, or of ``codes``; with ``overlapping=(start, end)`` only the ranges that
        overlap it, e.g. once a provider has answered there); returns how many codes were touched."""
        failures = self.manifest().get("failures", {})
        names = list(failures) if codes is None else [c for c in codes if c in failures]
        touched = 0
        for name in names:
            if overlapping is None:
                del failures[name]
                touched += 1
                continue
            lo, hi = _iso(overlapping[0]), _iso(overlapping[1])
            kept = [f for f in self._failures_of(name) if f["end"] < lo or f["start"] > hi]
            if len(kept) != len(self._failures_of(name)):
                touched += 1
                if kept:
                    failures[name] = kept
                else:
                    del failures[name]
        if touched:
            self._save_manifest()
        return touched

    # -- local source files ------------------------------------------------------------------------------------
    @staticmethod
    def file_stamp(path: Path) -> list:
        """``[absolute path, mtime_ns, size]`` of a local price file: what tells that it changed."""
        st = Path(path).stat()
        return [str(Path(path).resolve()), st.st_mtime_ns, st.st_size]

    def record_local_file(self, code: str, path: Path) -> None:
        """Remember which local file ``code`` was last read from, and its stamp (manifest ``local_files``)."""
        self.manifest().setdefault("local_files", {})[code] = self.file_stamp(path)
        self._save_manifest()

    def local_file_changed(self, code: str, path: Path) -> bool:
        """True when ``code`` was read from ``path`` before and the file changed since (mtime or size)."""
        known = self.manifest().get("local_files", {}).get(code)
        return known is not None and known[0] == str(Path(path).resolve()) and known != self.file_stamp(path)

    # -- paths and entries -------------------------------------------------------------------------------------
    def path(self, code: str) -> Path:
        return self.bars_dir / f"{code}.parquet"

    def codes(self) -> list[str]:
        """Codes with an entry in the manifest or a bar file on disk, sorted."""
        names = set(self.manifest()["symbols"])
        if self.bars_dir.is_dir():
            names |= {p.name[: -len(".parquet")] for p in self.bars_dir.glob("*.parquet")}
        return sorted(names)

    def entry(self, code: str) -> dict | None:
        """The manifest entry of ``code`` (repaired from the file's metadata when missing or stale), or None."""
        entry = self.manifest()["symbols"].get(code)
        path = self.path(code)
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = [st.st_mtime_ns, st.st_size]
        if entry is not None and entry.get("stat") == stamp:
            return entry  # file unchanged since the manifest saw it
        meta = self._file_meta(path)
        if meta is not None:
            meta = {**meta, "stat": stamp}
            if meta != entry:  # repaired in memory; saved with the next write or flush()
                self.manifest()["symbols"][code] = meta
                self._dirty = True
            return meta
        return entry

    @staticmethod
    def _file_meta(path: Path) -> dict | None:
        import pyarrow.parquet as pq

        try:
            md = pq.read_schema(path).metadata or {}
            return json.loads(md[_META_KEY]) if _META_KEY in md else None
        except Exception:  # noqa: BLE001 - unreadable files are reported by read()
            return None

    def covered(self, code: str) -> list[tuple[dt.date, dt.date]]:
        entry = self.entry(code)
        return union_ranges(entry.get("covered", [])) if entry else []

    def missing(self, code: str, start, end) -> list[tuple[dt.date, dt.date]]:
        """Date ranges of ``[start, end]`` never asked of a provider for ``code`` (whole range if not cached)."""
        return missing_ranges(self.covered(code), start, end)

    # -- read / write ------------------------------------------------------------------------------------------
    def read(self, code: str, start=None, end=None) -> pd.DataFrame:
        """Validated bars of ``code`` clipped to ``[start, end]``; raises ``KeyError`` if not cached and
        :class:`CacheCorruptError` if the file cannot be read, does not match its metadata or fails validation."""
        import pyarrow.parquet as pq

        path = self.path(code)
        if not path.is_file():
            raise KeyError(f"{code} is not in the cache ({self.root})")
        try:
            table = pq.ParquetFile(path).read(use_threads=False)
        except Exception as exc:  # noqa: BLE001
            raise CacheCorruptError(code, path, f"unreadable parquet ({type(exc).__name__}: {exc})") from exc
        md = table.schema.metadata or {}
        if _META_KEY not in md:
            raise CacheCorruptError(code, path, "missing ratingbt metadata (not written by this cache)")
        meta = json.loads(md[_META_KEY])
        missing_cols = [c for c in BAR_COLUMNS if c not in table.column_names]
        if missing_cols:
            raise CacheCorruptError(code, path, f"missing column(s) {missing_cols}")
        if table.num_rows != meta.get("rows"):
            raise CacheCorruptError(code, path, f"{table.num_rows} rows but its metadata says {meta.get('rows')}")
        try:  # plain numpy columns: much faster than Table.to_pandas for small frames
            cols = {"date": table.column("date").to_numpy().astype("datetime64[ns]")}
            for name in BAR_COLUMNS[1:-1]:
                cols[name] = table.column(name).to_numpy().astype("float64", copy=False)
            cols["source"] = pd.array(table.column("source").to_pylist(), dtype="str")
            df = pd.DataFrame(cols)
        except Exception as exc:  # noqa: BLE001 - wrong column types
            raise CacheCorruptError(code, path, f"bad column types ({type(exc).__name__}: {exc})") from exc
        issues = validate_bars(df, code)
        if issues:
            head = "; ".join(str(i) for i in issues[:3])
            raise CacheCorruptError(code, path, f"fails validation: {head}")
        if start is not None:
            df = df[df["date"] >= pd.Timestamp(start)]
        if end is not None:
            df = df[df["date"] <= pd.Timestamp(end)]
        return df.reset_index(drop=True)

    def write(self, code: str, bars: pd.DataFrame, *, covered: Iterable[tuple], source: str) -> dict:
        """Replace the cached bars of ``code`` (validated first; raises ``BarsInvalidError``) and its entry."""
        import pyarrow as pa

        from engine.data.bars import check_bars

        bars = normalize_bars(bars) if list(bars.columns) != list(BAR_COLUMNS) else bars.reset_index(drop=True)
        check_bars(bars, code, f"data to cache for {code}")
        sources = bars["source"].astype("str").value_counts().sort_index()
        entry = self._make_entry(code, bars["date"], {str(k): int(v) for k, v in sources.items()}, covered, source)
        return self.write_table(code, pa.Table.from_pandas(bars, preserve_index=False), entry)

    @staticmethod
    def _make_entry(code: str, dates: pd.Series, sources: dict[str, int], covered: Iterable[tuple],
                    source: str) -> dict:
        return {
            "code": code,
            "first": _iso(dates.iloc[0]) if len(dates) else None,
            "last": _iso(dates.iloc[-1]) if len(dates) else None,
            "rows": int(len(dates)),
            "covered": [[a.isoformat(), b.isoformat()] for a, b in union_ranges(covered)],
            "source": source,
            "sources": sources,
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
            "file": f"bars/{code}.parquet",
        }

    def write_table(self, code: str, table, entry: dict) -> dict:
        """Low-level write of an already *validated* arrow table with :data:`BAR_COLUMNS` (bulk import path)."""
        import pyarrow.parquet as pq

        md = dict(table.schema.metadata or {})
        md[_META_KEY] = json.dumps(entry).encode("utf-8")
        table = table.replace_schema_metadata(md)
        path = self.path(code)
        atomic_write_bytes(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"),
                           fsync=not self._defer_manifest)
        self._unsynced = self._unsynced or bool(self._defer_manifest)
        st = path.stat()
        entry = {**entry, "stat": [st.st_mtime_ns, st.st_size]}
        self.manifest()["symbols"][code] = entry
        self._save_manifest()
        return entry

    def update(self, code: str, new: pd.DataFrame, *, covered: Iterable[tuple], source: str,
               replace: bool = False) -> tuple[dict, float | None]:
        """Merge ``new`` bars into the cached ones (:func:`merge_bars`, existing rows win unless ``replace``) and add
        ``covered`` ranges. Returns the new entry and the rescaling factor applied to ``new`` (None = unchained)."""
        try:
            old = self.read(code)
            old_cov = self.covered(code)
        except KeyError:
            old, old_cov = empty_bars(), []
        if replace:
            merged, factor = merge_bars(new, old)
            factor = 1.0
        else:
            merged, factor = merge_bars(old, new)
        entry = self.write(code, merged, covered=[*old_cov, *covered], source=source)
        return entry, factor

    def quarantine(self, code: str) -> Path | None:
        """Move a corrupt file aside (``bars/<code>.parquet.corrupt-<UTC time>``) and drop its entry."""
        path = self.path(code)
        target = None
        if path.exists():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
            target = path.with_name(f"{path.name}.corrupt-{stamp}")
            os.replace(path, target)
        self.manifest()["symbols"].pop(code, None)
        self._save_manifest()
        return target

    def stray_temp_files(self) -> list[Path]:
        """Leftover ``.tmp`` files of interrupted writes (harmless; :meth:`clean_temp` removes them)."""
        out = []
        for d in (self.root, self.bars_dir):
            if d.is_dir():
                out.extend(sorted(d.glob(".*.tmp")))
        return out

    def clean_temp(self) -> int:
        n = 0
        for p in self.stray_temp_files():
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
        return n
