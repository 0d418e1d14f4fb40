"""Prices in the store (:mod:`engine.data.store`): bars per code and origin, coverage, remembered failures.

:class:`PriceCache` is the price-side view of one store (``<root>/ratingbt.duckdb``). Bars are kept per *origin*:
``net`` for everything fetched from providers (akshare, yfinance — one series per code, segments rebased onto each
other as they arrive), or the absolute path of the local file they were read from. What a call is served for a
code is an ordered list of origins (see :mod:`engine.data.localfiles`): the local files the call names (in their
order), or — when it names none — the files brought in by ``ratingbt data import``; then ``net``. The series of
these origins are merged in that order (:func:`merge_bars`: earlier origins win on shared dates, later ones fill
other dates, rescaled on the shared dates so returns across the seam are right).

Coverage: per code and origin, the date ranges that were asked and answered (a local file covers its first..last
date). What lies outside the union of a code's served origins' coverage is *missing*.

Failures: a range every provider failed to supply is remembered (``failures`` table) and not asked again for
:func:`failure_ttl_hours` hours (env ``RATINGBT_FAILURE_TTL_HOURS``; 0 turns it off; ``ratingbt data fetch
--retry-failed`` forgets them), so a symbol no provider has (e.g. 06082.HK) does not cost retries on every run.

Every method that writes does so in one transaction under the store's cross-process lock; reads see only
committed data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from engine.data.bars import BAR_COLUMNS, normalize_bars
from engine.data.store import Store

__all__ = ["PriceCache", "CacheCorruptError", "merge_bars", "missing_ranges", "union_ranges", "NET",
           "failure_ttl_hours", "served_frames", "served_arrays"]

NET = "net"
FAILURE_TTL_HOURS = 12.0
_FLOATS = ("open", "high", "low", "close", "volume", "raw_close", "adj_factor")
_SELECT_BARS = "date, open, high, low, close, volume, raw_close, adj_factor, source"


def failure_ttl_hours() -> float:
    """Hours a failed fetch is remembered (``RATINGBT_FAILURE_TTL_HOURS``, default 12; 0 = never remember)."""
    try:
        return float(os.environ.get("RATINGBT_FAILURE_TTL_HOURS", FAILURE_TTL_HOURS))
    except ValueError:
        return FAILURE_TTL_HOURS


class CacheCorruptError(RuntimeError):
    """Stored bars of ``code`` fail validation (``reason`` says how); they are reported, never served."""

    def __init__(self, code: str, path: Path, reason: str):
        self.code, self.path, self.reason = code, path, reason
        super().__init__(f"stored bars of {code} are invalid ({path}): {reason}")


def _as_date(d) -> dt.date:
    """``d`` as a ``datetime.date`` (dates pass through without the cost of a Timestamp)."""
    return d if type(d) is dt.date else pd.Timestamp(d).date()


def _iso(d) -> str:
    return pd.Timestamp(d).date().isoformat()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------------- date ranges
def union_ranges(ranges: Iterable[tuple]) -> list[tuple[dt.date, dt.date]]:
    """Merge inclusive date ranges that overlap or touch (end + 1 day = next start)."""
    rs = sorted((_as_date(a), _as_date(b)) for a, b in ranges)
    out: list[list[dt.date]] = []
    for a, b in rs:
        if out and a <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def missing_ranges(covered: Iterable[tuple], start, end) -> list[tuple[dt.date, dt.date]]:
    """Parts of ``[start, end]`` (inclusive dates) not inside any ``covered`` range."""
    s, e = _as_date(start), _as_date(end)
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

    Adjusted prices of different sources may sit on different bases (qfq as of different dates, hfq): when the two
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


def served_frames(parts: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, float | None]:
    """Merge the series of a code's origins in precedence order (:func:`merge_bars` one after the other);
    returns the merged frame and the factor the *last* part was rescaled by (None = it shared no date)."""
    out, factor = parts[0].reset_index(drop=True), 1.0
    for part in parts[1:]:
        out, factor = merge_bars(out, part)
    return out, factor


_RESCALED = ("open", "high", "low", "close", "adj_factor")


def served_arrays(parts: Sequence, fields: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`served_frames` as numpy arrays, without building frames: ``(dates, {field: values})`` with ``dates``
    int64 nanoseconds (sorted) and one float64 array per name in ``fields`` (which must include ``close``).
    ``parts``: bar frames, or ``(dates, {field: values})`` pairs as :meth:`PriceCache.origin_arrays_of` gives them.
    Same rules, same numbers: earlier parts win on shared dates; a later part is rescaled by the median of
    ``earlier close / later close`` over the shared dates (finite ratios) unless that median is 1 within 1e-12."""
    def arrays(part) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if not isinstance(part, pd.DataFrame):
            return part[0], {c: part[1][c] for c in fields}
        return (part["date"].to_numpy(dtype="datetime64[ns]").view("int64"),
                {c: part[c].to_numpy(dtype=np.float64) for c in fields})

    dates, cols = arrays(parts[0])
    for part in parts[1:]:
        new_dates, new_cols = arrays(part)
        if not len(dates):
            dates, cols = new_dates, new_cols
            continue
        if not len(new_dates):
            continue
        _, ia, ib = np.intersect1d(dates, new_dates, assume_unique=True, return_indices=True)
        if len(ia):
            ratios = cols["close"][ia] / new_cols["close"][ib]
            ratios = ratios[np.isfinite(ratios)]
            if len(ratios):
                factor = float(np.median(ratios))
                if abs(factor - 1.0) > 1e-12:
                    new_cols = {c: v * factor if c in _RESCALED else v for c, v in new_cols.items()}
        extra = ~np.isin(new_dates, dates)
        dates = np.concatenate([dates, new_dates[extra]])
        order = np.argsort(dates, kind="stable")
        dates = dates[order]
        cols = {c: np.concatenate([cols[c], new_cols[c][extra]])[order] for c in cols}
    return dates, cols


def _to_bars(df: pd.DataFrame) -> pd.DataFrame:
    """A frame selected with ``_SELECT_BARS`` as the :data:`BAR_COLUMNS` schema (NULL → NaN, str source)."""
    out = pd.DataFrame({"date": pd.to_datetime(df["date"]).astype("datetime64[ns]").to_numpy()})
    for c in _FLOATS:
        out[c] = pd.to_numeric(df[c]).astype("float64").to_numpy()
    out["source"] = pd.array(df["source"].astype(object).where(df["source"].notna(), "").tolist(), dtype="str")
    return out


def _db_frame(code: str, origin: str, bars: pd.DataFrame) -> pd.DataFrame:
    out = bars[list(BAR_COLUMNS)].copy()
    out.insert(0, "origin", origin)
    out.insert(0, "code", code)
    out["date"] = pd.to_datetime(out["date"]).dt.date
    return out.astype({"code": object, "origin": object, "source": object})


# ---------------------------------------------------------------------------------------------------- the cache
class PriceCache:
    """Prices of one store (see module docstring). ``root``: the cache directory (default
    :func:`engine.paths.cache_dir`), or pass an open :class:`~engine.data.store.Store` as ``store``."""

    def __init__(self, root: Path | str | None = None, *, store: Store | None = None):
        self.store = store if store is not None else Store(root)
        self.root = self.store.root

    def __repr__(self) -> str:
        return f"PriceCache({str(self.root)!r})"

    @contextlib.contextmanager
    def batch(self) -> Iterator["PriceCache"]:
        """Kept for callers of the old file cache: every write is its own transaction now."""
        yield self

    def flush(self) -> None:
        """Nothing is buffered; kept for callers of the old file cache."""

    # -- remembered failures ------------------------------------------------------------------------------------
    def failures(self) -> dict[str, list[dict]]:
        """Every remembered failure: ``{code: [{"start", "end", "at", "error", "providers"}, ...]}`` (oldest
        first; ISO dates, ``at`` ISO UTC)."""
        with self.store.session() as con:
            rows = con.execute('SELECT code, start, "end", "at", error, providers FROM failures '
                               'ORDER BY code, "at", start').fetchall()
        return _failures_by_code(rows)

    def manifest(self) -> dict:
        """Read-only view in the shape of the old ``manifest.json`` for callers written against it: only
        ``failures`` (:meth:`failures`) is filled; ``symbols`` is empty (see :meth:`status`)."""
        return {"version": 2, "symbols": {}, "failures": self.failures()}

    def _failures_of(self, code: str) -> list[dict]:
        """The remembered failures of ``code``, oldest first (``start``/``end`` ISO dates, ``at`` ISO UTC)."""
        return self.failures_of_codes([code]).get(code, [])

    def failures_of_codes(self, codes: Sequence[str]) -> dict[str, list[dict]]:
        """The remembered failures of each of ``codes`` (codes without any are absent), read in one query; each
        list oldest first, as :meth:`failures` gives them."""
        codes = list(codes)
        if not codes:
            return {}
        with self.store.session() as con, _registered(con, "want_failures",
                                                      pd.DataFrame({"code": pd.Series(codes, dtype=object)})):
            rows = con.execute('SELECT f.code, f.start, f."end", f."at", f.error, f.providers FROM failures f '
                               'JOIN want_failures w USING (code) ORDER BY f.code, f."at", f.start').fetchall()
        return _failures_by_code(rows)

    def record_failure(self, code: str, start: dt.date, end: dt.date, error: str,
                       providers: Iterable[str] = ()) -> None:
        """Remember that none of ``providers`` could supply ``code`` over ``start..end`` (UTC time of now).
        Up to 8 ranges are kept per code (the newest), so the ranges asked by different stages of a run all count."""
        a, b = pd.Timestamp(start).date(), pd.Timestamp(end).date()
        with self.store.transaction() as con:
            con.execute('DELETE FROM failures WHERE code = ? AND start = ? AND "end" = ?', [code, a, b])
            con.execute("INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?)",
                        [code, a, b, _now(), error[:500], ",".join(sorted(set(providers)))])
            con.execute('DELETE FROM failures WHERE code = ? AND ("at", start) NOT IN (SELECT ("at", start) FROM '
                        'failures WHERE code = ? ORDER BY "at" DESC, start DESC LIMIT 8)', [code, code])

    def recent_failure(self, code: str, start: dt.date, end: dt.date,
                       providers: Iterable[str] | None = None, *, known: list[dict] | None = None) -> dict | None:
        """A remembered failure covering ``start..end`` for ``code``, younger than :func:`failure_ttl_hours` and made
        with every one of ``providers`` (a chain with a provider that was not tried then asks again); else None.
        ``known``: the code's failures as read before (:meth:`failures_of_codes`), to spare a query."""
        ttl = failure_ttl_hours()
        if ttl <= 0:
            return None
        return _recent(self._failures_of(code) if known is None else known, start, end, providers, ttl)

    def forget_failures(self, codes: Iterable[str] | None = None, overlapping: tuple | None = None) -> int:
        """Forget remembered failures (all, or of ``codes``; with ``overlapping=(start, end)`` only the ranges that
        overlap it, e.g. once a provider has answered there); returns how many codes were touched."""
        where, params = [], []
        if codes is not None:
            codes = list(codes)
            if not codes:
                return 0
            where.append(f"code IN ({', '.join('?' * len(codes))})")
            params.extend(codes)
        if overlapping is not None:
            where.append('NOT ("end" < ? OR start > ?)')
            params.extend([pd.Timestamp(overlapping[0]).date(), pd.Timestamp(overlapping[1]).date()])
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        with self.store.transaction() as con:
            touched = con.execute(f"SELECT count(DISTINCT code) FROM failures{cond}", params).fetchone()[0]
            if touched:
                con.execute(f"DELETE FROM failures{cond}", params)
        return int(touched)

    # -- origins, coverage and entries ------------------------------------------------------------------------
    def codes(self) -> list[str]:
        """Every code with stored bars (any origin), sorted (from ``spans``, kept with every write of ``bars``)."""
        with self.store.session() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT code FROM spans WHERE rows > 0 "
                                              "ORDER BY code").fetchall()]

    def default_plan(self, codes: Sequence[str]) -> dict[str, list[str]]:
        """Origins served when a call names no local files: the imported files holding the code (lowest rank
        first), then ``net``."""
        plan = {c: [] for c in codes}
        if not plan:
            return {}
        with self.store.session() as con:
            con.register("want_codes", pd.DataFrame({"code": pd.Series(list(plan), dtype=object)}))
            try:
                rows = con.execute("SELECT fc.code, fc.path FROM file_codes fc JOIN files f USING (path) "
                                   "JOIN want_codes w USING (code) WHERE f.imported "
                                   "ORDER BY f.rank, f.read_at").fetchall()
            finally:
                con.unregister("want_codes")
        for code, path in rows:
            plan[code].append(path)
        return {c: [*o, NET] for c, o in plan.items()}

    def coverage_of(self, plan: dict[str, list[str]]) -> dict[str, list[tuple[dt.date, dt.date]]]:
        """Per code, the union of the coverage of its planned origins."""
        out: dict[str, list] = {c: [] for c in plan}
        if not plan:
            return out
        with self.store.session() as con, _registered(con, "want", _plan_frame(plan)):
            rows = con.execute('SELECT c.code, c.start, c."end" FROM coverage c JOIN want w '
                               "USING (code, origin)").fetchall()
        for code, a, b in rows:
            out[code].append((a, b))
        return {c: union_ranges(r) for c, r in out.items()}

    def covered(self, code: str, origins: Sequence[str] | None = None) -> list[tuple[dt.date, dt.date]]:
        plan = {code: list(origins)} if origins is not None else self.default_plan([code])
        return self.coverage_of(plan)[code]

    def missing(self, code: str, start, end, origins: Sequence[str] | None = None) -> list[tuple[dt.date, dt.date]]:
        """Date ranges of ``[start, end]`` covered by none of ``code``'s origins (whole range if not stored)."""
        return missing_ranges(self.covered(code, origins), start, end)

    def summary(self, plan: dict[str, list[str]]) -> pd.DataFrame:
        """Per code and origin of ``plan`` holding bars: ``code, origin, rank, first, last, rows``."""
        if not plan:
            return pd.DataFrame(columns=["code", "origin", "rank", "first", "last", "rows"])
        with self.store.session() as con, _registered(con, "want", _plan_frame(plan)):
            df = con.execute("SELECT s.code, s.origin, w.rank, s.first, s.last, s.rows FROM spans s "
                             "JOIN want w USING (code, origin) ORDER BY s.code, w.rank").df()
        df["first"] = pd.to_datetime(df["first"]).astype("datetime64[ns]")
        df["last"] = pd.to_datetime(df["last"]).astype("datetime64[ns]")
        return df

    def entry(self, code: str, origins: Sequence[str] | None = None) -> dict | None:
        """What is served for ``code`` (default: imported files, then net): ``first``, ``last`` (ISO), ``rows``,
        ``covered`` (``[[start, end], ...]``), ``source`` (latest writer), ``sources`` (rows per source tag),
        ``origins`` and ``updated`` (UTC ISO); None when nothing is stored."""
        origins = list(origins) if origins is not None else self.default_plan([code])[code]
        try:
            df = self.read(code, origins=origins)
        except KeyError:
            return None
        with self.store.session() as con:
            upd = con.execute(f"SELECT source, updated FROM updates WHERE code = ? AND origin IN "
                              f"({', '.join('?' * len(origins))}) ORDER BY updated DESC LIMIT 1",
                              [code, *origins]).fetchone()
        counts = df["source"].astype(str).value_counts().sort_index()
        return {"code": code, "first": _iso(df["date"].iloc[0]), "last": _iso(df["date"].iloc[-1]),
                "rows": int(len(df)),
                "covered": [[a.isoformat(), b.isoformat()] for a, b in self.covered(code, origins)],
                "source": upd[0] if upd else "?", "sources": {str(k): int(v) for k, v in counts.items()},
                "origins": origins,
                "updated": pd.Timestamp(upd[1]).isoformat() if upd else None}

    def status(self, codes: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per stored code and origin (``data status``): ``code, origin`` (provider names for ``net``, else
        the file path, with `` (imported)`` when ``data import`` brought it in), ``first``, ``last`` (ISO),
        ``rows``, ``updated`` (UTC). Requested codes with nothing stored get a row with origin ``not cached``."""
        where = ""
        params: list = []
        if codes is not None:
            if not codes:
                return pd.DataFrame(columns=["code", "origin", "first", "last", "rows", "updated"])
            where = f" WHERE b.code IN ({', '.join('?' * len(codes))})"
            params = list(codes)
        with self.store.session() as con:
            df = con.execute(
                "SELECT b.code, CASE WHEN b.origin = 'net' THEN string_agg(DISTINCT b.source, ',' ORDER BY b.source)"
                " ELSE b.origin || CASE WHEN any_value(f.imported) THEN ' (imported)' ELSE '' END END AS origin, "
                "min(b.date) AS first, max(b.date) AS last, count(*) AS rows, "
                "(SELECT max(u.updated) FROM updates u WHERE u.code = b.code AND u.origin = b.origin) AS updated "
                f"FROM bars b LEFT JOIN files f ON f.path = b.origin{where} GROUP BY b.code, b.origin "
                "ORDER BY b.code, b.origin", params).df()
        df = _status_frame(df)
        if codes is not None:
            absent = [c for c in codes if c not in set(df["code"])]
            if absent:
                df = pd.concat([df, pd.DataFrame({"code": absent, "origin": "not cached", "first": None,
                                                  "last": None, "rows": 0, "updated": None})], ignore_index=True)
        return df

    def iter_origins(self, codes: Sequence[str] | None = None) -> Iterator[tuple[str, str, pd.DataFrame]]:
        """``(code, origin, bars)`` for every stored code and origin (of ``codes`` when given), read in one
        query; ``bars`` in the :data:`BAR_COLUMNS` schema, in stored order (``data verify`` validates them)."""
        where, params = "", []
        if codes is not None:
            if not codes:
                return
            where = f" WHERE code IN ({', '.join('?' * len(codes))})"
            params = list(codes)
        with self.store.session() as con:
            df = con.execute(f"SELECT code, origin, {_SELECT_BARS} FROM bars{where} "
                             "ORDER BY code, origin, date", params).df()
        if df.empty:
            return
        all_bars = _to_bars(df)
        keys = (df["code"] + "\x00" + df["origin"]).to_numpy()
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for lo, hi in zip(starts, ends):
            yield str(df["code"].iat[lo]), str(df["origin"].iat[lo]), all_bars.iloc[lo:hi].reset_index(drop=True)

    # -- read / write -----------------------------------------------------------------------------------------
    def origin_frames(self, code: str, origins: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
        """The stored bars of ``code`` per origin, in the order of ``origins`` (origins without rows left out)."""
        with self.store.session() as con:
            df = con.execute(f"SELECT origin, {_SELECT_BARS} FROM bars WHERE code = ? AND origin IN "
                             f"({', '.join('?' * len(origins))}) ORDER BY origin, date",
                             [code, *origins]).df()
        out = []
        for origin in origins:
            part = df[df["origin"] == origin]
            if len(part):
                out.append((origin, _to_bars(part.reset_index(drop=True))))
        return out

    def origin_arrays_of(self, plan: dict[str, list[str]], fields: Sequence[str]) -> dict[str, list[tuple]]:
        """:meth:`origin_frames` of every code of ``plan`` (code → origins in precedence order) in one query, as
        numpy arrays of ``fields`` only (no frames): code → ``[(dates int64 ns, {field: float64 values}), ...]`` in
        the order of its origins (origins without rows left out), each sorted by date."""
        out: dict[str, list[tuple]] = {c: [] for c in plan}
        if not plan:
            return out
        cols = ", ".join(f"b.{c}" for c in fields)
        with self.store.session() as con, _registered(con, "want_origins", _plan_frame(plan)):
            got = con.execute(f"SELECT b.code, w.rank, epoch_ns(b.date) AS ns, {cols} FROM bars b "
                              "JOIN want_origins w USING (code, origin) ORDER BY b.code, w.rank, b.date").fetchnumpy()
        if not len(got["ns"]):
            return out
        codes = np.asarray(got["code"], dtype=object)
        ranks = np.asarray(got["rank"], dtype=np.int64)
        stamps = np.asarray(got["ns"], dtype=np.int64)
        values = {c: np.ma.filled(np.ma.asarray(got[c]).astype(np.float64), np.nan) for c in fields}
        cut = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (ranks[1:] != ranks[:-1]), True])
        for lo, hi in zip(cut[:-1], cut[1:]):
            out[codes[lo]].append((stamps[lo:hi], {c: v[lo:hi] for c, v in values.items()}))
        return out

    def read(self, code: str, start=None, end=None, *, origins: Sequence[str] | None = None) -> pd.DataFrame:
        """Bars served for ``code`` (origins merged, see module docstring) clipped to ``[start, end]``; raises
        ``KeyError`` when none of its origins holds a bar."""
        origins = list(origins) if origins is not None else self.default_plan([code])[code]
        parts = self.origin_frames(code, origins)
        if not parts:
            raise KeyError(f"{code} is not in the store ({self.store.path})")
        df, _ = served_frames([p for _, p in parts])
        if start is not None:
            df = df[df["date"] >= pd.Timestamp(start)]
        if end is not None:
            df = df[df["date"] <= pd.Timestamp(end)]
        return df.reset_index(drop=True)

    def write(self, code: str, bars: pd.DataFrame, *, covered: Iterable[tuple], source: str,
              origin: str = NET) -> dict:
        """Replace the bars and coverage of ``code`` in ``origin`` (default ``net``) in one transaction (validated
        first; raises ``BarsInvalidError``). Returns the entry of that origin."""
        from engine.data.bars import check_bars

        bars = normalize_bars(bars) if list(bars.columns) != list(BAR_COLUMNS) else bars.reset_index(drop=True)
        check_bars(bars, code, f"data to store for {code}")
        with self.store.transaction() as con:
            self._replace(con, code, origin, bars, union_ranges(covered), source)
        return self.entry(code, [origin]) or {}

    @staticmethod
    def _replace(con, code: str, origin: str, bars: pd.DataFrame, covered: list, source: str) -> None:
        con.execute("DELETE FROM bars WHERE code = ? AND origin = ?", [code, origin])
        con.execute("DELETE FROM coverage WHERE code = ? AND origin = ?", [code, origin])
        con.execute("DELETE FROM updates WHERE code = ? AND origin = ?", [code, origin])
        con.execute("DELETE FROM spans WHERE code = ? AND origin = ?", [code, origin])
        if len(bars):
            con.execute("INSERT INTO spans VALUES (?, ?, ?, ?, ?)",
                        [code, origin, _as_date(bars["date"].iloc[0]), _as_date(bars["date"].iloc[-1]), len(bars)])
            con.register("new_bars", _db_frame(code, origin, bars))
            try:
                con.execute("INSERT INTO bars SELECT code, origin, date, open, high, low, close, volume, "
                            "raw_close, adj_factor, source FROM new_bars ORDER BY date")
            finally:
                con.unregister("new_bars")
        if covered:
            con.executemany("INSERT INTO coverage VALUES (?, ?, ?, ?)", [(code, origin, a, b) for a, b in covered])
        con.execute("INSERT INTO updates VALUES (?, ?, ?, ?)", [code, origin, source, _now()])

    def update(self, code: str, new: pd.DataFrame, *, covered: Iterable[tuple], source: str,
               replace: bool = False, basis: pd.DataFrame | None = None,
               basis_factor: float | None = None) -> tuple[dict, float | None]:
        """Merge ``new`` provider bars into ``code``'s ``net`` series and add ``covered`` ranges, in one
        transaction (read, merge and write under the lock: concurrent updates are not lost).

        ``new`` is rebased onto ``basis`` (the series served for the code when it was fetched) when given, else onto
        the stored net series (:func:`merge_bars`); ``basis_factor`` is the factor the net series was rescaled by in
        that served series (so the rows are stored on the net series' own basis). Existing rows win on shared dates
        unless ``replace``. Returns the net entry and the factor applied to ``new`` (None = unchained)."""
        from engine.data.bars import check_bars

        new = normalize_bars(new) if list(new.columns) != list(BAR_COLUMNS) else new.reset_index(drop=True)
        with self.store.transaction() as con:
            old = con.execute(f"SELECT {_SELECT_BARS} FROM bars WHERE code = ? AND origin = ? ORDER BY date",
                              [code, NET]).df()
            old = _to_bars(old)
            old_cov = [(a, b) for a, b in con.execute('SELECT start, "end" FROM coverage WHERE code = ? AND '
                                                      "origin = ?", [code, NET]).fetchall()]
            on_basis = basis is not None and not basis.empty
            _, factor = merge_bars(basis if on_basis else old, new)
            scale = (factor or 1.0) / ((basis_factor or 1.0) if on_basis else 1.0)
            if not replace and abs(scale - 1.0) > 1e-12:
                new = new.copy()
                for col in ("open", "high", "low", "close", "adj_factor"):
                    new[col] = new[col] * scale
            merged, _ = merge_bars(new, old) if replace else merge_bars(old, new)
            check_bars(merged, code, f"data to store for {code}")
            self._replace(con, code, NET, merged, union_ranges([*old_cov, *covered]), source)
        return self.entry(code, [NET]) or {}, factor


def _failures_by_code(rows) -> dict[str, list[dict]]:
    """``(code, start, end, at, error, providers)`` rows of the ``failures`` table → ``{code: [record, ...]}`` in
    row order."""
    out: dict[str, list[dict]] = {}
    for code, a, b, at, err, prov in rows:
        out.setdefault(code, []).append(_failure_record(a, b, at, err, prov))
    return out


def _failure_record(a, b, at, err, prov) -> dict:
    return {"start": _iso(a), "end": _iso(b), "at": pd.Timestamp(at).tz_localize("UTC").isoformat(),
            "error": err or "", "providers": [p for p in (prov or "").split(",") if p]}


def _recent(failures: list[dict], start, end, providers, ttl: float) -> dict | None:
    now = dt.datetime.now(dt.timezone.utc)
    for failure in reversed(failures):
        if providers is not None and not set(providers) <= set(failure.get("providers", ())):
            continue
        age = now - dt.datetime.fromisoformat(failure["at"])
        if failure["start"] <= _iso(start) and _iso(end) <= failure["end"] and age.total_seconds() < ttl * 3600:
            return failure
    return None


@contextlib.contextmanager
def _registered(con, name: str, frame: pd.DataFrame):
    """``frame`` visible to ``con``'s SQL as the view ``name`` for the ``with`` block (unregistered after it)."""
    con.register(name, frame)
    try:
        yield
    finally:
        con.unregister(name)


def _plan_frame(plan: dict[str, list[str]]) -> pd.DataFrame:
    codes, origins, ranks = [], [], []
    for code, olist in plan.items():
        for k, origin in enumerate(olist):
            codes.append(code)
            origins.append(origin)
            ranks.append(k)
    return pd.DataFrame({"code": pd.Series(codes, dtype=object), "origin": pd.Series(origins, dtype=object),
                         "rank": np.asarray(ranks, dtype=np.int64)})


def _status_frame(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("first", "last"):
        df[col] = [pd.Timestamp(v).date().isoformat() if pd.notna(v) else None for v in df[col]]
    df["updated"] = [pd.Timestamp(v).isoformat(sep=" ", timespec="seconds") if pd.notna(v) else None
                     for v in df["updated"]]
    return df
