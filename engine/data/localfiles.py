"""Local price files as sources of the store: which file serves which code, and re-reading files that changed.

A call names local *sources* — folders and files, in order (``data.prices`` in a config, the ``local`` provider's
``roots``, ``ratingbt data import PATH...``):

- a **per-symbol file** (CSV or parquet named by code: ``SZ300474.csv``, ``HKHSI.csv``, ``300474.SZ.parquet``;
  see :mod:`engine.data.providers.local`) serves its one code;
- a **long parquet** (a ``code`` column: the market file ``code, date, open, high, low, close, volume`` with
  volume in lots of 100) serves every code it holds; it is read with DuckDB SQL straight into the store, no
  separate import step;
- a **folder** stands for the per-symbol and long files directly inside it (not recursive).

Each file is read into the store once, under its absolute path as origin, with its stamp (modification time in ns,
size in bytes) and SHA-256: while the stamp is unchanged the stored rows are used; when it changes the file is
re-read (same content → only the stamp is updated) and its rows replace the old ones in one transaction. A code is
served by every named file holding it, earlier sources first (:func:`engine.data.cache.served_frames`), then by the
providers' ``net`` series. Files are validated on reading (:func:`engine.data.bars.validate_bars`): a bad file, or a
bad code of a long file, is reported naming the file (and code) and left out; the others are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from engine.data.bars import validate_bars
from engine.data.cache import NET, PriceCache, _db_frame
from engine.data.providers.local import LOTS_TO_SHARES, code_from_filename, read_symbol_file
from engine.symbols import SymbolError, normalize_symbol

__all__ = ["LocalFile", "SyncReport", "expand_sources", "stored_kinds", "sync_files", "plan_for", "file_sha256"]

_LONG_COLUMNS = ("code", "date", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class LocalFile:
    """A local price file: absolute ``path``, ``kind`` (``symbol`` or ``long``) and, for a per-symbol file, its
    canonical ``code``."""

    path: Path
    kind: str
    code: str | None = None


@dataclass
class SyncReport:
    """What :func:`sync_files` did: files (re)read, rows per code read, errors (``path`` or ``path [code]`` →
    message), files skipped (path → why), codes re-read because their file changed."""

    read: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    refreshed: list[str] = field(default_factory=list)


def _is_long(path: Path) -> bool:
    if path.suffix != ".parquet":
        return False
    import pyarrow.parquet as pq

    try:
        return "code" in pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - unreadable parquet: reported when read as a per-symbol file
        return False


def _classify(path: Path, skipped: dict[str, str], kinds: dict | None = None) -> LocalFile | None:
    path = path.resolve()
    known = (kinds or {}).get(str(path))
    if known is not None:  # read before with this stamp: its kind is known without opening the file
        st = path.stat()
        if (st.st_mtime_ns, st.st_size) != known[:2]:
            known = None
    is_long = known[2] == "long" if known is not None else _is_long(path)
    if is_long:
        return LocalFile(path, "long")
    try:
        return LocalFile(path, "symbol", code_from_filename(path))
    except SymbolError as exc:
        skipped[str(path)] = str(exc)
        return None


def stored_kinds(cache: PriceCache) -> dict[str, tuple]:
    """``path → (mtime_ns, size, kind)`` of the parquet files the store has read (``kind``: ``symbol`` or
    ``long``), so :func:`expand_sources` need not open an unchanged one (and import pyarrow) to classify it."""
    with cache.store.session() as con:
        rows = con.execute("SELECT path, mtime_ns, size, kind FROM files WHERE path LIKE '%.parquet'").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def expand_sources(roots: Iterable[str | Path],
                   kinds: dict | None = None) -> tuple[list[LocalFile], dict[str, str]]:
    """The files the sources ``roots`` stand for, in order (a folder's files sorted by name), and the skipped ones
    with the reason (not a .csv/.parquet file, a name that is not a code, no such path). ``kinds``
    (:func:`stored_kinds`) classifies parquet files already read, when their stamp is unchanged."""
    files: list[LocalFile] = []
    skipped: dict[str, str] = {}
    seen: set[Path] = set()
    for root in map(Path, roots):
        if root.is_dir():
            entries = sorted(p for p in root.iterdir() if p.is_file())
            for p in entries:
                if p.suffix not in (".csv", ".parquet"):
                    skipped[str(p)] = "not a .csv or .parquet file"
                    continue
                found = _classify(p, skipped, kinds)
                if found is not None and found.path not in seen:
                    seen.add(found.path)
                    files.append(found)
        elif root.is_file():
            found = _classify(root, skipped, kinds)
            if found is not None and found.path not in seen:
                seen.add(found.path)
                files.append(found)
        else:
            skipped[str(root)] = "no such file or directory"
    return files, skipped


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _known(cache: PriceCache, paths: Sequence[str]) -> dict[str, tuple]:
    if not paths:
        return {}
    with cache.store.session() as con:
        con.register("want_paths", pd.DataFrame({"path": pd.Series(list(paths), dtype=object)}))
        try:
            rows = con.execute("SELECT path, mtime_ns, size, sha256, imported, rank FROM files "
                               "JOIN want_paths USING (path)").fetchall()
        finally:
            con.unregister("want_paths")
    return {r[0]: r[1:] for r in rows}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _ranks(cache: PriceCache, files: Sequence[LocalFile], known: dict, imported: bool,
           replace: bool) -> dict[str, int]:
    """Precedence of each file among imported files (lower serves first): new imports go last in the order
    given, with ``replace`` first (still in the order given); a file imported before keeps its place unless
    ``replace``. Files not imported keep their rank (0 for new ones)."""
    out: dict[str, int] = {}
    fresh = []
    for f in files:
        old = known.get(str(f.path))
        if old is not None and old[3] and not (imported and replace):
            out[str(f.path)] = int(old[4])
        elif imported:
            fresh.append(str(f.path))
        else:
            out[str(f.path)] = 0
    if fresh:
        with cache.store.session() as con:
            lo, hi = con.execute("SELECT coalesce(min(rank), 0), coalesce(max(rank), 0) FROM files "
                                 "WHERE imported").fetchone()
        base = int(lo) - len(fresh) if replace else int(hi) + 1
        out.update({p: base + k for k, p in enumerate(fresh)})
    return out


def _set_file(con, path: str, kind: str, stamp: tuple[int, int], sha: str, imported: bool, rank: int) -> None:
    codes, rows = con.execute("SELECT count(*), coalesce(sum(rows), 0) FROM file_codes WHERE path = ?",
                              [path]).fetchone()
    con.execute("DELETE FROM files WHERE path = ?", [path])
    con.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [path, kind, stamp[0], stamp[1], sha, imported, rank, _now(), int(codes), int(rows)])


def _clear_origin(con, path: str) -> None:
    for table in ("bars", "coverage", "updates"):
        con.execute(f"DELETE FROM {table} WHERE origin = ?", [path])
    con.execute("DELETE FROM file_codes WHERE path = ?", [path])
    con.execute("DELETE FROM file_index WHERE path = ?", [path])
    con.execute("DELETE FROM spans WHERE origin = ?", [path])


def _index_origin(con, path: str, source: str, only: str = "") -> None:
    """file_codes, coverage and updates of an origin from its bars (``only``: an SQL condition on ``code``
    limiting it to the codes just read)."""
    cond = f" AND code IN (SELECT code FROM {only})" if only else ""
    con.execute("INSERT INTO file_codes SELECT origin, code, min(date), max(date), count(*) FROM bars "
                f"WHERE origin = ?{cond} GROUP BY origin, code", [path])
    con.execute(f"INSERT INTO coverage SELECT code, path, first, last FROM file_codes WHERE path = ?{cond}", [path])
    con.execute(f"INSERT INTO spans SELECT code, path, first, last, rows FROM file_codes WHERE path = ?{cond}",
                [path])
    con.execute(f"INSERT INTO updates SELECT code, path, ?, ? FROM file_codes WHERE path = ?{cond}",
                [source, _now(), path])


def sync_files(cache: PriceCache, files: Sequence[LocalFile], *, codes: Iterable[str] | None = None,
               imported: bool = False, replace: bool = False) -> SyncReport:
    """Bring the store up to date with ``files``: per-symbol files of ``codes`` (all when None) and every long
    file are (re)read when new or changed (see module docstring). ``imported`` marks them as brought in by
    ``data import`` (served when a call names no local files; ``replace`` puts them first)."""
    report = SyncReport()
    wanted = None if codes is None else set(codes)
    todo = [f for f in files if f.kind == "long" or wanted is None or f.code in wanted]
    known = _known(cache, [str(f.path) for f in todo])
    ranks = _ranks(cache, todo, known, imported, replace)
    symbol_frames: list[tuple[LocalFile, tuple, str, pd.DataFrame | None]] = []
    flags_only: list[tuple[LocalFile, tuple, str]] = []
    for f in todo:
        try:
            st = f.path.stat()
        except OSError as exc:
            report.errors[str(f.path)] = f"cannot read: {exc}"
            continue
        stamp = (st.st_mtime_ns, st.st_size)
        old = known.get(str(f.path))
        if f.kind == "long":
            _sync_long(cache, f, stamp, old, imported, ranks[str(f.path)], report, wanted)
            continue
        if old is not None and (old[0], old[1]) == stamp:
            if imported and (not old[3] or replace):
                flags_only.append((f, stamp, old[2]))
            continue
        try:
            bars = read_symbol_file(f.path, f.code)
        except (ValueError, KeyError, OSError) as exc:
            report.errors[str(f.path)] = str(exc)
            continue
        issues = validate_bars(bars, f.code)
        if issues:
            report.errors[str(f.path)] = "; ".join(str(i) for i in issues[:3])
            continue
        if bars.empty:
            report.skipped[str(f.path)] = f"{f.code}: no rows"
            continue
        sha = file_sha256(f.path)
        if old is not None and old[2] == sha:  # touched, same bytes: keep the rows, update the stamp
            flags_only.append((f, stamp, sha))
            continue
        symbol_frames.append((f, stamp, sha, bars))
        if old is not None:
            report.refreshed.append(f"{f.code} from {f.path}")
    if symbol_frames or flags_only:
        with cache.store.transaction() as con:
            for f, stamp, sha, bars in symbol_frames:
                path = str(f.path)
                _clear_origin(con, path)
                con.register("new_bars", _db_frame(f.code, path, bars))
                try:
                    con.execute("INSERT INTO bars SELECT code, origin, date, open, high, low, close, volume, "
                                "raw_close, adj_factor, source FROM new_bars ORDER BY date")
                finally:
                    con.unregister("new_bars")
                _index_origin(con, path, "local")
                _set_file(con, path, "symbol", stamp, sha, imported or bool(known.get(path, (0,) * 5)[3]),
                          ranks[path])
                report.rows[f.code] = report.rows.get(f.code, 0) + len(bars)
                report.read.append(f.path)
            for f, stamp, sha in flags_only:
                path = str(f.path)
                _set_file(con, path, f.kind, stamp, sha, imported or bool(known.get(path, (0,) * 5)[3]),
                          ranks[path])
    return report


def _long_todo(cache: PriceCache, path: str, wanted: set[str] | None) -> list[tuple[str, str]]:
    """``(raw, code)`` of the codes of long file ``path`` (all, or those in ``wanted``) not read into bars yet."""
    with cache.store.session() as con:
        todo = con.execute("SELECT i.raw, i.code FROM file_index i WHERE i.path = ? AND i.code NOT IN "
                           "(SELECT code FROM file_codes WHERE path = ?)", [path, path]).fetchall()
    return todo if wanted is None else [(raw, code) for raw, code in todo if code in wanted]


def _sync_long(cache: PriceCache, f: LocalFile, stamp: tuple, old: tuple | None, imported: bool, rank: int,
               report: SyncReport, wanted: set[str] | None) -> None:
    """Bring a long parquet's rows for ``wanted`` codes (all when None) into the store with DuckDB SQL.

    A new or changed file (stamp, then SHA-256) first drops its old rows and lists the codes it holds
    (``file_index``); then the wanted codes not read yet are read in one transaction: canonical codes, volume lots →
    shares, codes with invalid rows reported (``path [code]``) and left out (and tried again next time)."""
    import duckdb

    path = str(f.path)
    changed = old is None or (old[0], old[1]) != stamp
    flags = imported and old is not None and (not old[3] or rank != old[4])
    if not changed and not flags and not _long_todo(cache, path, wanted):
        return  # nothing to write: no transaction (it would renew the price generation for nothing)
    with cache.store.transaction() as con:
        if changed:
            sha = file_sha256(f.path)
            if old is None or old[2] != sha:
                try:
                    cols = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()]
                except duckdb.Error as exc:
                    report.errors[path] = f"cannot read as parquet: {exc}"
                    return
                lacking = [c for c in _LONG_COLUMNS if c not in cols]
                if lacking:
                    report.errors[path] = f"long market file lacks column(s) {lacking}; found {cols}"
                    return
                had = con.execute("SELECT count(*) FROM file_codes WHERE path = ?", [path]).fetchone()[0]
                _clear_origin(con, path)
                raws = [r[0] for r in con.execute("SELECT DISTINCT CAST(code AS VARCHAR) FROM read_parquet(?) "
                                                  "WHERE code IS NOT NULL", [path]).fetchall()]
                index = []
                for raw in raws:
                    try:
                        index.append((path, raw, normalize_symbol(raw)))
                    except (SymbolError, TypeError):
                        report.errors[f"{path} [{raw}]"] = f"{raw!r} is not a security code"
                if index:
                    con.register("new_index", pd.DataFrame(index, columns=["path", "raw", "code"], dtype=object))
                    con.execute("INSERT INTO file_index SELECT path, raw, code FROM new_index")
                    con.unregister("new_index")
                if old is not None and had:
                    report.refreshed.append(f"{f.path} (changed: its codes are read again)")
            _set_file(con, path, "long", stamp, sha, imported or bool(old[3] if old else False), rank)
        elif flags:
            _set_file(con, path, "long", stamp, old[2], True, rank)
        todo = _long_todo(cache, path, wanted)
        if todo:
            _read_long_codes(con, f, todo, report)
            _set_file(con, path, "long", stamp, con.execute("SELECT sha256 FROM files WHERE path = ?",
                                                            [path]).fetchone()[0],
                      imported or bool(old[3] if old else False), rank)
    with cache.store.session() as con:
        for code, n in con.execute("SELECT code, rows FROM file_codes WHERE path = ?", [path]).fetchall():
            if wanted is None or code in wanted:
                report.rows[code] = report.rows.get(code, 0) + int(n)
    report.read.append(f.path)


def _read_long_codes(con, f: LocalFile, todo: list[tuple[str, str]], report: SyncReport) -> None:
    """Read the rows of ``todo`` (raw spelling, canonical code) from the long file into ``bars`` (inside the
    caller's transaction)."""
    from engine.data.bars import normalize_bars

    path = str(f.path)
    tag = f"local:{f.path.name}"
    con.register("code_map", pd.DataFrame(todo, columns=["raw", "code"], dtype=object))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE long_in AS SELECT m.code, CAST(p.date AS DATE) AS date, "
                    "CAST(p.open AS DOUBLE) AS open, CAST(p.high AS DOUBLE) AS high, CAST(p.low AS DOUBLE) AS low, "
                    "CAST(p.close AS DOUBLE) AS close, CAST(p.volume AS DOUBLE) AS volume "
                    "FROM read_parquet(?) p JOIN code_map m ON CAST(p.code AS VARCHAR) = m.raw", [path])
        bad = {r[0] for r in con.execute(
            "SELECT DISTINCT code FROM long_in WHERE NOT coalesce("
            "isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close) AND open > 0 AND high > 0 "
            "AND low > 0 AND close > 0 AND high >= greatest(open, close) * (1 - 1e-9) "
            "AND low <= least(open, close) * (1 + 1e-9) AND coalesce(volume >= 0, true) "
            "AND date IS NOT NULL, false) "
            "UNION SELECT code FROM long_in GROUP BY code, date HAVING count(*) > 1").fetchall()}
        for code in sorted(bad):
            rows = con.execute("SELECT date, open, high, low, close, volume FROM long_in WHERE code = ? "
                               "ORDER BY date", [code]).df()
            issues = validate_bars(normalize_bars(rows, source=tag), code)
            report.errors[f"{path} [{code}]"] = "; ".join(str(i) for i in issues[:3]) or "invalid rows"
        good = pd.DataFrame({"code": pd.Series(sorted({c for _, c in todo} - bad), dtype=object)})
        con.register("good_codes", good)
        con.execute("INSERT INTO bars SELECT code, ?, date, open, high, low, close, "
                    f"volume * {LOTS_TO_SHARES}, NULL, NULL, ? FROM long_in "
                    "WHERE code IN (SELECT code FROM good_codes) ORDER BY code, date", [path, tag])
        _index_origin(con, path, "local", only="good_codes")
    finally:
        for name in ("code_map", "good_codes"):
            try:
                con.unregister(name)
            except Exception:  # noqa: BLE001 - not registered after an early error
                pass
        con.execute("DROP TABLE IF EXISTS long_in")


def plan_for(cache: PriceCache, codes: Sequence[str], files: Sequence[LocalFile]) -> dict[str, list[str]]:
    """Origins served per code when a call names ``files``: every named file holding the code, in the order of
    ``files``, then ``net``. Only files already in the store count (call :func:`sync_files` first)."""
    position = {str(f.path): k for k, f in enumerate(files)}
    plan: dict[str, list[tuple[int, str]]] = {c: [] for c in codes}
    known = _known(cache, list(position))
    for f in files:
        if f.kind == "symbol" and f.code in plan and str(f.path) in known:
            plan[f.code].append((position[str(f.path)], str(f.path)))
    longs = [str(f.path) for f in files if f.kind == "long" and str(f.path) in known]
    if longs and plan:
        with cache.store.session() as con:
            con.register("want_codes", pd.DataFrame({"code": pd.Series(list(plan), dtype=object)}))
            try:
                rows = con.execute(f"SELECT fc.code, fc.path FROM file_codes fc JOIN want_codes USING (code) "
                                   f"WHERE fc.path IN ({', '.join('?' * len(longs))})", longs).fetchall()
            finally:
                con.unregister("want_codes")
        for code, path in rows:
            plan[code].append((position[path], path))
    return {c: [p for _, p in sorted(o)] + [NET] for c, o in plan.items()}
