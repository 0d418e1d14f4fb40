"""The store: one embedded DuckDB database ``data_cache/ratingbt.duckdb`` for prices, their provenance and the
signals history.

Tables (dates are exchange-local calendar dates; times are UTC):

============  =====================================================================================================
table         columns
============  =====================================================================================================
``bars``      ``code, origin, date, open, high, low, close, volume, raw_close, adj_factor, source`` — one row per
              code, session and *origin*. ``origin`` is ``net`` for bars fetched from providers (akshare,
              yfinance; the row's ``source`` names which) or the absolute path of the local file the row was read
              from. Prices as in :mod:`engine.data.bars` (adjusted OHLC, volume in shares, raw close, factor).
``files``     ``path, kind (symbol|long), mtime_ns, size, sha256, imported, rank, read_at, codes, rows`` — every
              local file read, with the stamp that tells when it changed; ``imported`` = brought in by
              ``ratingbt data import`` (served when a call names no local files; lower ``rank`` wins).
``file_codes`` ``path, code, first, last, rows`` — the codes of a local file read into ``bars`` so far.
``file_index`` ``path, raw, code`` — every code a long file holds (its spelling there and the canonical code),
              so a call needing 50 codes of the market file reads only those 50.
``spans``     ``code, origin, first, last, rows`` — kept with every write of ``bars``, so planning a whole-market
              load does not scan the bars.
``coverage``  ``code, origin, start, end`` — date ranges asked of a provider and answered (a range may be covered
              without bars: holidays, suspensions).
``updates``   ``code, origin, source, updated`` — latest write per code and origin (``data status``).
``failures``  ``code, start, end, at, error, providers`` — ranges every provider failed to supply (not asked again
              for ``RATINGBT_FAILURE_TTL_HOURS``).
``signals``   :data:`engine.signals.schema.SIGNAL_COLUMNS` plus ``history_source`` (who added the row:
              ``ingest``, ``akshare``, a file name …) and ``ingested_at`` — every signal ever added, one row per
              ``(broker, code, report_date, kind)`` (the first one added is kept).
``meta``      ``key, value`` — schema version, schema fingerprint (a new process whose code creates the same
              schema skips the schema statements), migration note.
============  =====================================================================================================

Price generation: ``ratingbt.duckdb.generation`` holds a random token replaced, under the lock, *before* every
transaction that may change prices (every :meth:`Store.transaction` except the signals history's) and before a
schema upgrade or migration. A token that is unchanged therefore means no price write has begun since it was read;
:mod:`engine.data.panel_memo` keys its memos on it (a writer killed mid-transaction leaves a new token on unchanged
data: only a memo miss).

Concurrency: DuckDB lets one process at a time open the file for writing, so every access (read or write) holds a
cross-process lock on ``ratingbt.duckdb.lock`` (:mod:`filelock`; released by the OS if the process dies) and the
connection is closed when the access ends. A process that finds the lock taken says so on stderr once and waits
(``RATINGBT_LOCK_TIMEOUT`` seconds, default 600, then :class:`StoreBusyError`). Every write is one transaction: a
process killed mid-write leaves the store as it was (DuckDB's write-ahead log is replayed up to the last commit).

Public API for other stages::

    from engine.data.store import open_store
    with open_store() as store:                       # cache_dir=None: $RATINGBT_CACHE or ./data_cache
        new = store.add_signals(frame, source="ingest")   # rows new to the history
        hist = store.signals(brokers=["中信证券"], start="2024-01-01", kinds=["rating"])
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from engine.paths import cache_dir

__all__ = ["Store", "open_store", "StoreBusyError", "StoreError", "DB_NAME", "SIGNAL_KEY"]

DB_NAME = "ratingbt.duckdb"
#: The price generation token's file beside the database (see module docstring).
GENERATION_NAME = DB_NAME + ".generation"
SCHEMA_VERSION = "1"
#: The columns that identify one signal in the history (duplicates keep the first row added).
SIGNAL_KEY = ("broker", "code", "report_date", "kind")
LOCK_TIMEOUT = 600.0

_SQL_TYPES = {"str": "VARCHAR", "bool": "BOOLEAN", "float64": "DOUBLE", "datetime64[ns]": "TIMESTAMP"}

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS bars (code VARCHAR NOT NULL, origin VARCHAR NOT NULL, date DATE NOT NULL,
    open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, raw_close DOUBLE, adj_factor DOUBLE,
    source VARCHAR);
CREATE TABLE IF NOT EXISTS files (path VARCHAR NOT NULL, kind VARCHAR, mtime_ns BIGINT, size BIGINT,
    sha256 VARCHAR, imported BOOLEAN, rank BIGINT, read_at TIMESTAMP, codes INTEGER, rows BIGINT);
CREATE TABLE IF NOT EXISTS file_codes (path VARCHAR, code VARCHAR, first DATE, last DATE, rows INTEGER);
CREATE TABLE IF NOT EXISTS file_index (path VARCHAR, raw VARCHAR, code VARCHAR);
CREATE TABLE IF NOT EXISTS spans (code VARCHAR, origin VARCHAR, first DATE, last DATE, rows BIGINT);
CREATE TABLE IF NOT EXISTS coverage (code VARCHAR, origin VARCHAR, start DATE, "end" DATE);
CREATE TABLE IF NOT EXISTS updates (code VARCHAR, origin VARCHAR, source VARCHAR, updated TIMESTAMP);
CREATE TABLE IF NOT EXISTS failures (code VARCHAR, start DATE, "end" DATE, "at" TIMESTAMP, error VARCHAR,
    providers VARCHAR);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the database file."""


class StoreBusyError(StoreError):
    """Another process held the store's lock for longer than the lock timeout."""


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("RATINGBT_LOCK_TIMEOUT", LOCK_TIMEOUT))
    except ValueError:
        return LOCK_TIMEOUT


#: Database files (resolved path, device, inode) whose schema this process has checked and completed.
_SCHEMA_READY: set[tuple] = set()

_LOCKS: dict[str, object] = {}
_LOCKS_GUARD = threading.Lock()


def _shared_lock(path: Path, factory):
    """One :class:`filelock.FileLock` per lock file and process, shared by every :class:`Store` of that file: the
    same thread re-enters it (a nested access through a second ``Store`` object does not wait for itself), other
    threads and processes wait."""
    key = str(Path(path).resolve())
    with _LOCKS_GUARD:
        if key not in _LOCKS:
            _LOCKS[key] = factory(key)
        return _LOCKS[key]


def _utc_now():
    """Now in UTC as a naive ``datetime`` (the store's TIMESTAMP convention)."""
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _schema_fingerprint() -> str:
    """A digest of what ``Store._init_schema`` creates (schema version, table statements, signals columns): equal
    in the file's ``meta`` means a new process need not run the schema statements again."""
    import hashlib

    columns = ";".join(f"{c} {t}" for c, t in _signal_columns())
    return hashlib.sha256(f"{SCHEMA_VERSION}\n{_TABLES}\n{columns}".encode()).hexdigest()[:16]


def _signal_columns() -> list[tuple[str, str]]:
    from engine.signals.schema import SIGNAL_DTYPES

    return [(c, _SQL_TYPES[t]) for c, t in SIGNAL_DTYPES.items()]


class Store:
    """Handle on ``<root>/ratingbt.duckdb`` (see module docstring). Cheap to create: nothing is opened until a
    method needs the database, and each access closes its connection again, so a ``Store`` may live long without
    blocking other processes. Usable as a context manager (``with open_store() as s: ...``)."""

    def __init__(self, root: Path | str | None = None, *, lock_timeout: float | None = None,
                 notify=None):
        self.root = Path(root) if root is not None else cache_dir()
        self.path = self.root / DB_NAME
        self.lock_path = self.root / (DB_NAME + ".lock")
        self.generation_path = self.root / GENERATION_NAME
        self.lock_timeout = _lock_timeout() if lock_timeout is None else lock_timeout
        self._notify = notify or (lambda text: print(text, file=sys.stderr, flush=True))
        self._con = None
        self._depth = 0
        self._lock = None
        self._thread_lock = threading.RLock()
        self._ready = False
        self.notes: list[str] = []  # things the store did on its own (migration), for the caller to show

    # -- context manager -------------------------------------------------------------------------------------
    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between accesses; kept so callers can close explicitly."""

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections -----------------------------------------------------------------------------------------
    def _acquire(self) -> None:
        from filelock import FileLock, Timeout

        self.root.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            self._lock = _shared_lock(self.lock_path, FileLock)
        try:
            self._lock.acquire(timeout=0.2)
            return
        except Timeout:
            pass
        self._notify(f"waiting for another ratingbt process using {self.path} (lock {self.lock_path}; "
                     f"up to {self.lock_timeout:g} s, RATINGBT_LOCK_TIMEOUT)")
        try:
            self._lock.acquire(timeout=self.lock_timeout)
        except Timeout:
            raise StoreBusyError(f"{self.path} is still in use by another process after {self.lock_timeout:g} s "
                                 f"(lock {self.lock_path}); try again when it has finished") from None

    @contextlib.contextmanager
    def session(self) -> Iterator:
        """A DuckDB connection held under the cross-process lock for the length of the block (nested blocks
        share it). Keep blocks short: other ``ratingbt`` processes wait meanwhile."""
        import duckdb

        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._con
                finally:
                    self._depth -= 1
                return
            self._acquire()
            try:
                try:
                    self._con = duckdb.connect(str(self.path))
                except duckdb.Error as exc:
                    hint = ("another program holds it open (DuckDB allows one writing process): close it and retry"
                            if "lock" in str(exc).lower() else "move the file aside to start a new one")
                    raise StoreError(f"cannot open the store {self.path}: {exc} ({hint})") from exc
                self._depth = 1
                try:
                    self._con.execute("SET enable_progress_bar = false")
                    if not self._ready and not self._known_ready(self._con):
                        self._init_schema(self._con)
                    yield self._con
                finally:
                    self._depth = 0
                    con, self._con = self._con, None
                    con.close()
            finally:
                self._lock.release()

    @contextlib.contextmanager
    def transaction(self, prices: bool = True) -> Iterator:
        """A connection inside one transaction: committed at the end of the block, rolled back on any error.
        Nested inside another transaction it joins the outer one. ``prices``: the block may change prices (bars,
        files, coverage, failures): the price generation token is replaced before it begins (module docstring);
        ``False`` only for writes that leave every price table alone (the signals history)."""
        with self.session() as con:
            if getattr(self, "_in_tx", False):
                if prices:
                    self._new_generation()
                yield con
                return
            if prices:
                self._new_generation()
            con.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                raise
            finally:
                self._in_tx = False

    def price_generation(self) -> str:
        """The price generation token (module docstring) and the database file's identity (device, inode: a
        database file replaced by another one is another generation); ``""`` for a store that has none yet. Needs
        no lock: a token read while a writer works is already the new one."""
        try:
            token = self.generation_path.read_text(encoding="ascii").strip()
            st = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return ""
        return f"{token}@{st.st_dev}:{st.st_ino}"

    def _new_generation(self) -> None:
        """Replace the price generation token (atomically: a temporary file moved into place); caller holds the
        lock."""
        import uuid

        tmp = self.generation_path.with_name(f".{GENERATION_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(uuid.uuid4().hex, encoding="ascii")
        os.replace(tmp, self.generation_path)

    def _file_key(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return str(self.path.resolve()), st.st_dev, st.st_ino

    def _known_ready(self, con) -> bool:
        """True when the file's schema is known to be up to date, which spares the schema statements (~40-50 ms):
        this process already brought it up to date (another ``Store`` of the same file did) and its ``meta``
        version row still answers; or the file's ``schema_fingerprint`` row equals this code's
        (:func:`_schema_fingerprint`: the tables and signals columns the schema statements would create) and no
        old-layout cache waits to be migrated."""
        key = self._file_key()
        if key is None:
            return False
        try:
            rows = dict(con.execute("SELECT key, value FROM meta "
                                    "WHERE key IN ('schema_version', 'schema_fingerprint')").fetchall())
        except Exception:  # noqa: BLE001 - a replaced, damaged or new file: check it in full
            return False
        if key in _SCHEMA_READY:
            self._ready = rows.get("schema_version") == SCHEMA_VERSION
            return self._ready
        from engine.data.migrate import old_layout_present

        if rows.get("schema_fingerprint") == _schema_fingerprint() and not old_layout_present(self.root):
            self._ready = True
            _SCHEMA_READY.add(key)
        return self._ready

    def _init_schema(self, con) -> None:
        self._new_generation()  # a schema upgrade or migration may fill price tables
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(_TABLES)
            cols = ", ".join(f'"{c}" {t}' for c, t in _signal_columns())
            con.execute(f"CREATE TABLE IF NOT EXISTS signals ({cols}, history_source VARCHAR, "
                        "ingested_at TIMESTAMP)")
            have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'signals'").fetchall()}
            for c, t in _signal_columns():  # a column added to the signals schema later
                if c not in have:
                    con.execute(f'ALTER TABLE signals ADD COLUMN "{c}" {t}')
            con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION])
            if not con.execute("SELECT count(*) FROM spans").fetchone()[0]:  # a store from before spans existed
                con.execute("INSERT INTO spans SELECT code, origin, min(date), max(date), count(*) FROM bars "
                            "GROUP BY code, origin")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise
        self._ready = True
        from engine.data.migrate import migrate_old_cache

        note = migrate_old_cache(self, con)
        if note:
            self.notes.append(note)
            self._notify(note)
        con.execute("INSERT INTO meta VALUES ('schema_fingerprint', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value", [_schema_fingerprint()])
        key = self._file_key()
        if key is not None:
            _SCHEMA_READY.add(key)

    def meta(self, key: str) -> str | None:
        with self.session() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    # -- signals history -------------------------------------------------------------------------------------
    def add_signals(self, frame: pd.DataFrame, source: str) -> int:
        """Add ``frame`` (:data:`~engine.signals.schema.SIGNAL_COLUMNS`; coerced with ``coerce_signals``, so a
        missing required column raises ``ValueError`` naming it) to the signals history, tagged ``source``.
        Rows whose ``(broker, code, report_date, kind)`` is already in the history — or repeated within
        ``frame`` — are skipped. Returns the number of rows new to the history. One transaction."""
        from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals

        if not isinstance(source, str) or not source.strip():
            raise ValueError("add_signals: source must be a non-empty string (e.g. 'ingest', 'akshare')")
        rows = coerce_signals(frame).drop_duplicates(subset=list(SIGNAL_KEY), keep="first")
        if rows.empty:
            return 0
        rows = rows.astype({c: object for c in SIGNAL_COLUMNS if rows[c].dtype == "str"})
        cols = ", ".join(f'i."{c}"' for c in SIGNAL_COLUMNS)
        names = ", ".join(f'"{c}"' for c in SIGNAL_COLUMNS)
        with self.transaction(prices=False) as con:
            con.register("incoming_signals", rows)
            try:
                added = con.execute(
                    f"INSERT INTO signals ({names}, history_source, ingested_at) "
                    f"SELECT {cols}, ?, ? FROM incoming_signals i WHERE NOT EXISTS ("
                    "SELECT 1 FROM signals s WHERE s.broker = i.broker AND s.code = i.code "
                    "AND s.report_date IS NOT DISTINCT FROM i.report_date AND s.kind = i.kind)",
                    [source, _utc_now()]).fetchone()[0]
            finally:
                con.unregister("incoming_signals")
        return int(added)

    def signals(self, *, brokers: Iterable[str] | None = None, codes: Iterable[str] | None = None,
                start=None, end=None, kinds: Iterable[str] | None = None,
                sources: Iterable[str] | None = None) -> pd.DataFrame:
        """The signals history, filtered: ``brokers`` / ``codes`` (canonical) / ``kinds`` / ``sources``
        (``history_source`` values) are lists of allowed values; ``start`` / ``end`` bound ``report_date``
        (inclusive). Columns: :data:`~engine.signals.schema.SIGNAL_COLUMNS` (their dtypes) plus
        ``history_source`` and ``ingested_at`` (UTC); sorted by report_date, broker, code."""
        from engine.signals.schema import SIGNAL_COLUMNS, coerce_signals

        where, params = [], []
        for col, values in (("broker", brokers), ("code", codes), ("kind", kinds), ("history_source", sources)):
            if values is None:
                continue
            values = [values] if isinstance(values, str) else list(values)
            if not values:
                return self._empty_history()
            where.append(f'"{col}" IN ({", ".join("?" * len(values))})')
            params.extend(str(v) for v in values)
        if start is not None:
            where.append("report_date >= ?")
            params.append(pd.Timestamp(start).to_pydatetime())
        if end is not None:
            where.append("report_date <= ?")
            params.append(pd.Timestamp(end).to_pydatetime())
        sql = "SELECT * FROM signals" + (" WHERE " + " AND ".join(where) if where else "")
        with self.session() as con:
            df = con.execute(sql + " ORDER BY report_date, broker, code, kind", params).df()
        extra = df[["history_source", "ingested_at"]].reset_index(drop=True)
        out = coerce_signals(df[SIGNAL_COLUMNS])
        out["history_source"] = extra["history_source"].astype(object).where(extra["history_source"].notna(), "")
        out["history_source"] = out["history_source"].astype(str)
        out["ingested_at"] = pd.to_datetime(extra["ingested_at"]).astype("datetime64[ns]")
        return out

    def _empty_history(self) -> pd.DataFrame:
        from engine.signals.schema import empty_signals

        out = empty_signals()
        out["history_source"] = pd.Series(dtype=str)
        out["ingested_at"] = pd.Series(dtype="datetime64[ns]")
        return out


def open_store(cache_dir: Path | str | None = None) -> Store:
    """The :class:`Store` of ``cache_dir`` (default :func:`engine.paths.cache_dir`: ``$RATINGBT_CACHE`` or
    ``./data_cache``); use it as a context manager."""
    return Store(cache_dir)
