"""Load prices into an aligned :class:`~engine.data.panel.Panel` — the entry point the other stages call.

``load_panel(codes, start, end, *, calendar="auto", offline=None, providers=None, cache=None, on_missing="warn",
progress=False) -> Panel``

1. codes are normalised (:func:`engine.symbols.normalize_symbol`) and de-duplicated, keeping their order;
2. the store is brought up to date for ``[start, end]`` (:func:`engine.data.fetch.ensure_cached`): the local files
   the ``local`` provider names (folders and files, ``data.prices``) are read when new or changed, and only
   missing ranges are fetched through the other providers; offline, nothing is fetched and the missing ranges are
   listed;
3. the served bars of every code (its named local files in order, then the providers' ``net`` series) are read
   from the store in one query and scattered onto the sessions of ``calendar``
   (:func:`engine.data.calendars.sessions`, computed once, falling back to the data's own dates past a calendar's
   end). ``Panel.sources`` records, per code, which origin(s) served it (:func:`sources_table`).

``panel_from_long`` is the fast path for the long market parquet (``code, date, open, high, low, close, volume``),
bypassing the store: it scatters the rows straight into the arrays with numpy.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.data.cache import NET, PriceCache, served_arrays
from engine.data.calendars import CALENDARS, calendar_for_codes, sessions as calendar_sessions
from engine.data.chain import ProviderChain, build_chain
from engine.data.fetch import FetchReport, MissingRange, plan_sources, prepare_fetch, split_chain
from engine.data.panel import PANEL_FIELDS, Panel, not_loaded
from engine.data.panel_memo import memo_enabled, memo_key, read_memo, write_memo
from engine.symbols import normalize_symbol

__all__ = ["load_panel", "load_frames", "panel_from_long", "MissingDataError", "resolve_chain", "sources_table"]

_DAY_NS = 86_400_000_000_000


class MissingDataError(LookupError):
    """Prices needed for a panel are not available; ``missing`` lists each (code, start, end, reason)."""

    def __init__(self, missing: Sequence[MissingRange], errors: Sequence[str] = ()):
        self.missing = list(missing)
        self.errors = list(errors)
        lines = "\n".join(f"  {m}" for m in self.missing)
        extra = ("\nprovider errors:\n" + "\n".join(f"  {e}" for e in self.errors)) if self.errors else ""
        super().__init__(f"{len(self.missing)} missing price range(s):\n{lines}{extra}")


def _offline_default() -> bool:
    return os.environ.get("RATINGBT_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def resolve_chain(providers) -> ProviderChain:
    """A :class:`ProviderChain` from ``None`` (``RATINGBT_PROVIDERS`` or ``local,akshare,yfinance``), a
    comma-separated string, a list of names and/or provider objects, or a chain (returned as is)."""
    if isinstance(providers, ProviderChain):
        return providers
    if providers is None or isinstance(providers, str):
        return build_chain(providers)
    from engine.data.providers import make_provider

    return ProviderChain([make_provider(p) if isinstance(p, str) else p for p in providers])


def _unique_codes(codes: Iterable[str] | str) -> list[str]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace(";", ",").split(",") if c.strip()]
    out = list(dict.fromkeys(normalize_symbol(c) for c in codes))
    if not out:
        raise ValueError("no codes given")
    return out


def _chain_for(providers, offline: bool) -> tuple[ProviderChain | None, list | None]:
    """The provider chain to fetch with (None offline or with an empty list) and the local sources it names (None =
    none named: the imported files are served). Offline, local sources named explicitly are still read."""
    if isinstance(providers, (list, tuple)) and not providers:
        return None, None
    if offline and providers is None:
        return None, None
    chain = resolve_chain(providers)
    local, _ = split_chain(chain)
    roots = list(local.roots) if local is not None else None
    return (None if offline else chain), roots


def _range_of(summ: pd.DataFrame, start, end):
    if summ.empty:
        raise ValueError("start/end not given and none of the codes is cached: pass start and end")
    return (start if start is not None else summ["first"].min()), (end if end is not None else summ["last"].max())


def load_frames(codes: Iterable[str] | str, start=None, end=None, *, offline: bool | None = None, providers=None,
                cache: PriceCache | str | Path | None = None,
                progress=None) -> tuple[dict[str, pd.DataFrame], FetchReport]:
    """Per-symbol served bar frames (``engine.data.bars.BAR_COLUMNS``) clipped to ``[start, end]`` plus the
    :class:`FetchReport`. Symbols without any stored bar are absent from the dict (and listed in the report)."""
    code_list = _unique_codes(codes)
    store = cache if isinstance(cache, PriceCache) else PriceCache(cache)
    offline = _offline_default() if offline is None else offline
    report, start, end = _ensure(store, code_list, start, end, providers, offline, progress)
    frames: dict[str, pd.DataFrame] = {}
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    for code in code_list:
        try:
            df = store.read(code, origins=report.plan[code])
        except KeyError:
            continue
        report.first_bar_dates[code] = pd.Timestamp(df["date"].min())
        frames[code] = df[(df["date"] >= lo) & (df["date"] <= hi)].reset_index(drop=True)
    return frames, report


def _ensure(store: PriceCache, code_list: list[str], start, end, providers, offline, progress):
    """Plan, sync local files and fill gaps; returns the report (with ``summary`` attached: the served spans) and
    the resolved start/end. Without a network chain everything runs in one store connection."""
    chain, roots = _chain_for(providers, offline)
    net = split_chain(chain)[1] if chain is not None else None
    try:
        with (store.store.session() if net is None else contextlib.nullcontext()):
            first = FetchReport()
            with store.store.session():  # every read before any network call, in one connection
                plan = plan_sources(store, code_list, roots, first)
                summ = store.summary(plan)
                if start is None or end is None:
                    start, end = _range_of(summ, start, end)
                prepared = prepare_fetch(store, code_list, start, end, chain=chain, offline=offline,
                                         local_roots=roots, plan=plan)
            report = prepared.run(progress)
            report.errors[:0] = first.errors
            report.refreshed[:0] = first.refreshed
            report.skipped.update(first.skipped)
            report.summary = summ if not report.fetched else store.summary(plan)
    finally:
        if chain is not None and not isinstance(providers, ProviderChain):
            chain.close()
    return report, start, end


def load_panel(codes: Iterable[str] | str, start=None, end=None, *, calendar: str = "auto",
               offline: bool | None = None, providers=None, cache: PriceCache | str | Path | None = None,
               on_missing: str = "warn", progress=None, fields: Iterable[str] = PANEL_FIELDS,
               order: str = "C", memo: bool | None = None) -> Panel:
    """Aligned sessions × assets arrays of ``codes`` over ``[start, end]`` (inclusive dates).

    Parameters
    ----------
    codes: any spellings (``"300474"``, ``"sz300474"``, ``"0700.HK"``, ``"HSI"``) or one comma-separated string;
        panel columns follow this order (canonical codes, duplicates dropped).
    start, end: dates (``"2024-01-02"``, ``datetime.date``, ``Timestamp``). ``None`` = the stored range's
        earliest first / latest last bar of the codes.
    calendar: ``"auto"`` (XSHG if all codes are A-share, XHKG if all are HK, else ``"A+H"``), ``"XSHG"``,
        ``"XHKG"``, ``"A+H"`` (union of both exchanges' sessions) or ``"data"`` (union of the bars' dates).
        Past a calendar's end (XSHG: 2026-12-31) the data's own dates are used.
    offline: ``True`` = no network: the store and the local files named by ``providers`` only, missing ranges
        listed; ``None`` = ``RATINGBT_OFFLINE`` env (default off).
    providers: fallback chain — ``None`` (``RATINGBT_PROVIDERS`` or ``local,akshare,yfinance``), a string
        ``"local,akshare"``, a list of names / provider objects (``LocalProvider(roots=[folder, file, ...])``
        names the local sources), or a :class:`~engine.data.chain.ProviderChain`. An empty list means "store
        only" (like offline; missing ranges say "no providers given"). Without a local provider the files brought
        in by ``ratingbt data import`` are served.
    cache: :class:`~engine.data.cache.PriceCache`, a directory, or ``None`` (:func:`engine.paths.cache_dir`).
    on_missing: ``"warn"`` (default: warn and leave NaN), ``"raise"`` (:class:`MissingDataError` listing every
        missing range and provider error) or ``"ignore"``. Missing ranges are always in ``Panel.missing``.
    progress: optional callable ``progress(code)`` called before each code is checked/fetched.
    fields: the price fields to load (any of :data:`~engine.data.panel.PANEL_FIELDS`, default all). Scoring needs
        ``close`` only: loading one field of the whole market reads and fills a sixth of the arrays. Fields not
        loaded are read-only all-NaN views (``Panel.fields`` lists the loaded ones; ``Panel.require`` checks).
    order: memory layout of the arrays: ``"C"`` (default; a session's row is contiguous, as the backtest walks
        them) or ``"F"`` (an asset's column is contiguous, as the scoring kernels walk them: no copy there, and the
        store's rows, sorted by code and date, fill it in order).
    memo: reuse the on-disk memo of an identical earlier load (:mod:`engine.data.panel_memo`: keyed on the store's
        price generation, the named files' stamps and the arguments, so it is never stale); only for loads that
        cannot reach the network. ``None`` = ``RATINGBT_PANEL_MEMO`` (default on), ``False`` = always from the store.

    Returns
    -------
    :class:`~engine.data.panel.Panel` — ``close``/``open``/``high``/``low`` adjusted (ratios = total returns),
    ``raw_close`` traded price (NaN where unknown), ``volume`` in shares, ``tradable`` = bar with volume > 0;
    CNY for A-shares, HKD for HK stocks, index points for indexes. NaN = no bar that session. ``Panel.sources``:
    code → the origins that served it (see :func:`sources_table`).
    """
    if on_missing not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_missing must be 'warn', 'raise' or 'ignore', got {on_missing!r}")
    if calendar != "auto" and calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; allowed: auto, {', '.join(CALENDARS)}")
    asked = [fields] if isinstance(fields, str) else list(fields)
    unknown = [name for name in asked if name not in PANEL_FIELDS]
    if unknown or not asked:
        raise ValueError(f"fields={asked!r}: unknown {', '.join(map(repr, unknown)) or 'none given'}; allowed: "
                         f"{', '.join(PANEL_FIELDS)}")
    fields = tuple(name for name in PANEL_FIELDS if name in asked)  # panel order, each once
    if order not in ("C", "F"):
        raise ValueError(f"order={order!r}; allowed: C, F")
    code_list = _unique_codes(codes)
    store = cache if isinstance(cache, PriceCache) else PriceCache(cache)
    offline = _offline_default() if offline is None else offline
    use_memo, roots = _memo_roots(providers, offline) if memo_enabled(memo) else (False, None)
    memo_call = (code_list, start, end, calendar, fields, order, roots)
    if use_memo:
        hit = read_memo(store.root, memo_key(store.store.price_generation(), *memo_call))
        if hit is not None:
            _check_missing(hit["missing"], [], on_missing)
            return _panel_from_memo(hit)
    # offline nothing waits on the network: checking the sources and reading the bars share one store connection
    with (store.store.session() if offline else contextlib.nullcontext()):
        report, lo, hi = _ensure(store, code_list, start, end, providers, offline, progress)
        _check_missing(report.missing, report.errors, on_missing)
        with store.store.session():
            col, day, values, first_dates, sources = _read_served(store, code_list, report.plan, lo, hi,
                                                                  report.summary, fields)
            generation = store.store.price_generation()  # what was read: the store as of this token
    cal = calendar_for_codes(code_list) if calendar == "auto" else calendar
    present = np.zeros(int(day.max()) - int(day.min()) + 1 if len(day) else 0, dtype=bool)
    if len(day):
        present[day - day.min()] = True  # distinct days without sorting 2 M values
    data_days = np.flatnonzero(present) + (int(day.min()) if len(day) else 0)
    data_dates = pd.DatetimeIndex((data_days * _DAY_NS).astype("datetime64[ns]"))
    sess = calendar_sessions(cal, lo, hi, data_sessions=data_dates)
    sess_days = sess.asi8 // _DAY_NS
    n_s, n_a = len(sess_days), len(code_list)
    row = np.searchsorted(sess_days, day)
    ok = row < n_s
    ok[ok] = sess_days[row[ok]] == day[ok]
    # one flat index for every field, in the layout asked for
    flat = row[ok] * n_a + col[ok] if order == "C" else col[ok] * n_s + row[ok]
    arrays = {name: not_loaded((n_s, n_a)) for name in PANEL_FIELDS}
    for name in fields:
        out = np.full(n_s * n_a, np.nan)
        out[flat] = values[name][ok] if not ok.all() else values[name]
        arrays[name] = out.reshape((n_s, n_a), order=order)
    if "close" in fields and "volume" in fields:
        with np.errstate(invalid="ignore"):
            tradable = np.isfinite(arrays["close"]) & (arrays["volume"] > 0)  # NaN volume compares False
    else:
        tradable = not_loaded((n_s, n_a), False)
    panel = Panel(sessions=sess.to_numpy(dtype="datetime64[ns]"), codes=np.array(code_list, dtype=object),
                  tradable=tradable, fields=fields, **arrays)
    panel.missing = tuple(report.missing)
    panel.first_bar_dates = first_dates
    panel.sources = sources
    _untradable_indexes(panel)
    if use_memo and not report.errors:
        _write_panel_memo(store, memo_key(generation, *memo_call), panel)
    return panel


def _check_missing(missing: Sequence[MissingRange], errors: Sequence[str], on_missing: str) -> None:
    """``load_panel``'s ``on_missing``: raise or warn about missing ranges and provider errors."""
    if missing or errors:
        if on_missing == "raise":
            raise MissingDataError(missing, errors)
        if on_missing == "warn":
            warnings.warn(str(MissingDataError(missing, errors)), stacklevel=3)


def _memo_roots(providers, offline: bool) -> tuple[bool, list | None]:
    """Whether a load may use the panel memo — it cannot reach the network: offline, no providers, or only local
    provider objects with their files — and the local sources it names."""
    if isinstance(providers, (list, tuple)) and not providers:
        return True, None
    if offline:
        return True, _chain_for(providers, offline)[1]
    if isinstance(providers, (list, tuple)) and not any(isinstance(p, str) for p in providers):
        local, net = split_chain(ProviderChain(list(providers)))
        if net is None and local is not None:
            return True, list(local.roots)
    return False, None


def _write_panel_memo(store: PriceCache, key: str, panel: Panel) -> None:
    arrays = {name: getattr(panel, name) for name in panel.fields}
    if panel.tradable.flags.writeable:  # real, not the not-loaded stand-in
        arrays["tradable"] = panel.tradable
    meta = {"codes": panel.codes.tolist(), "markets": panel.markets.tolist(), "boards": panel.boards.tolist(),
            "fields": panel.fields, "missing": list(panel.missing), "first_bar_dates": panel.first_bar_dates,
            "sources": panel.sources}
    write_memo(store.root, key, arrays, panel.sessions, meta)


def _panel_from_memo(hit: dict) -> Panel:
    arrays, shape = hit["arrays"], (len(hit["sessions"]), len(hit["codes"]))
    fields = {name: arrays[name] if name in arrays else not_loaded(shape) for name in PANEL_FIELDS}
    tradable = arrays["tradable"] if "tradable" in arrays else not_loaded(shape, False)
    return Panel(sessions=hit["sessions"], codes=np.array(hit["codes"], dtype=object),
                 markets=np.array(hit["markets"], dtype=object), boards=np.array(hit["boards"], dtype=object),
                 tradable=tradable, fields=tuple(hit["fields"]), missing=tuple(hit["missing"]),
                 first_bar_dates=hit["first_bar_dates"], sources=hit["sources"], **fields)


def _read_served(store: PriceCache, code_list: list[str], plan: dict, lo, hi, summ: pd.DataFrame | None = None,
                 fields: tuple[str, ...] = PANEL_FIELDS):
    """Every code's served bars within ``[lo, hi]`` as flat arrays: column index, day number (days since
    1970-01-01), and one float array per field of ``fields``; plus first bar dates and the sources per code.

    Codes served by one origin are read in one SQL query; codes with several origins are merged in pandas
    (:func:`engine.data.cache.served_frames`, on their whole history so the rebasing seam is found)."""
    summ = store.summary(plan) if summ is None else summ
    first_dates = {c: pd.Timestamp(t) for c, t in summ.groupby("code")["first"].min().items()}
    found = _sources(store, summ)
    sources = {c: found[c] for c in code_list if c in found}  # in panel column order
    index = {c: j for j, c in enumerate(code_list)}
    n_orig = summ.groupby("code").size()
    single = summ[summ["code"].map(n_orig) == 1]
    multi = [c for c in n_orig.index[n_orig > 1]]
    lo_s, hi_s = pd.Timestamp(lo).date().isoformat(), pd.Timestamp(hi).date().isoformat()
    selected = ", ".join(f"b.{n}" for n in fields)
    want = pd.DataFrame({"code": single["code"].astype(object).to_numpy(),
                         "origin": single["origin"].astype(object).to_numpy(),
                         "j": single["code"].map(index).to_numpy(dtype=np.int64)})
    cols, days, vals = [], [], {n: [] for n in fields}
    if len(want):
        with store.store.session() as con:
            con.register("want_single", want)
            try:
                table = con.sql(f"SELECT w.j, (b.date - DATE '1970-01-01') AS d, {selected} FROM bars b "
                                f"JOIN want_single w USING (code, origin) "
                                f"WHERE b.date BETWEEN DATE '{lo_s}' AND DATE '{hi_s}'").to_arrow_table()
            finally:
                con.unregister("want_single")
        cols.append(table.column("j").to_numpy().astype(np.int64))
        days.append(table.column("d").to_numpy().astype(np.int64))
        for n in fields:
            vals[n].append(table.column(n).to_numpy(zero_copy_only=False).astype(np.float64, copy=False))
    lo_t, hi_t = pd.Timestamp(lo), pd.Timestamp(hi)
    multi_plan = {c: o.tolist() for c, o in summ[summ["code"].isin(multi)].groupby("code", sort=False)["origin"]}
    # one query for every code served by several origins; all fields, since the merge rebases on them
    parts = store.origin_arrays_of(multi_plan, PANEL_FIELDS)
    for code in multi:
        stamps, merged = served_arrays(parts[code], PANEL_FIELDS)
        keep = (stamps >= lo_t.value) & (stamps <= hi_t.value)
        cols.append(np.full(int(keep.sum()), index[code], dtype=np.int64))
        days.append(stamps[keep] // _DAY_NS)
        for n in fields:
            vals[n].append(merged[n][keep])
    cat = (lambda xs, dt_: (xs[0] if len(xs) == 1 else np.concatenate(xs)) if xs else np.array([], dtype=dt_))
    return (cat(cols, np.int64), cat(days, np.int64), {n: cat(v, np.float64) for n, v in vals.items()},
            first_dates, sources)


def _sources(store: PriceCache, summ: pd.DataFrame) -> dict[str, list[dict]]:
    """code → served origins in order: ``{"origin", "provider", "file", "mtime_ns", "size", "sha256", "first",
    "last", "rows"}`` (``provider`` is ``local`` for a file, else the providers whose rows are in ``net``)."""
    if summ.empty:
        return {}
    with store.store.session() as con:
        files = {r[0]: r[1:] for r in con.execute("SELECT path, mtime_ns, size, sha256 FROM files").fetchall()} \
            if (summ["origin"] != NET).any() else {}
        net_codes = summ.loc[summ["origin"] == NET, "code"].tolist()
        net_src: dict[str, str] = {}
        if net_codes:
            con.register("net_codes", pd.DataFrame({"code": pd.Series(net_codes, dtype=object)}))
            try:
                for code, srcs in con.execute("SELECT code, string_agg(DISTINCT source, ',' ORDER BY source) "
                                              "FROM bars JOIN net_codes USING (code) WHERE origin = 'net' "
                                              "GROUP BY code").fetchall():
                    net_src[code] = srcs or ""
            finally:
                con.unregister("net_codes")
    out: dict[str, list[dict]] = {}
    iso = (lambda col: np.datetime_as_string(summ[col].to_numpy(dtype="datetime64[ns]"), unit="D").tolist())
    for code, origin, first, last, rows in zip(summ["code"].tolist(), summ["origin"].tolist(), iso("first"),
                                               iso("last"), summ["rows"].to_numpy(dtype=np.int64).tolist()):
        f = files.get(origin)
        out.setdefault(code, []).append({
            "origin": origin, "provider": "local" if origin != NET else net_src.get(code, ""),
            "file": origin if origin != NET else "", "mtime_ns": f[0] if f else None,
            "size": f[1] if f else None, "sha256": f[2] if f else "", "first": first, "last": last, "rows": rows})
    return out


def sources_table(panel: Panel) -> pd.DataFrame:
    """``Panel.sources`` as a table for ``runs/<name>/``: one row per code and served origin, columns ``code,
    order`` (0 = served first), ``provider`` (``local`` or the providers in ``net``), ``file`` (absolute path of
    a local file, else empty), ``mtime_ns``, ``size`` (bytes), ``sha256``, ``first``, ``last`` (ISO dates of the
    origin's stored bars), ``rows``. Codes with no stored bar are absent."""
    rows = [{"code": code, "order": k, **{key: rec[key] for key in ("provider", "file", "mtime_ns", "size",
                                                                    "sha256", "first", "last", "rows")}}
            for code, recs in (panel.sources or {}).items() for k, rec in enumerate(recs)]
    return pd.DataFrame(rows, columns=["code", "order", "provider", "file", "mtime_ns", "size", "sha256", "first",
                                       "last", "rows"])


def _untradable_indexes(panel: Panel) -> None:
    """Index columns keep their levels but are never tradable (see :mod:`engine.data.panel`)."""
    is_index = panel.boards == "index"
    if is_index.any() and panel.tradable.flags.writeable:
        panel.tradable[:, is_index] = False


def panel_from_long(source: str | Path | pd.DataFrame, codes: Iterable[str] | None = None, start=None, end=None, *,
                    calendar: str = "data", volume_unit: str = "lots") -> Panel:
    """Panel straight from a long table (``code, date, open, high, low, close, volume``; the market parquet).

    ``codes``: keep only these (columns in the order given); default all, sorted by canonical code.
    ``calendar``: ``"data"`` (union of the file's dates, default), or ``XSHG`` / ``XHKG`` / ``A+H``.
    ``volume_unit``: ``"lots"`` (×100 → shares; the market file) or ``"shares"``. ``raw_close`` is NaN (the long
    file has adjusted prices only). Algorithm: read the columns with pyarrow, dictionary-encode the code column
    (so each of the ~5,000 codes is parsed once, not each of the ~2.3 M rows), factorize the dates, then scatter
    every field into a preallocated ``(sessions, assets)`` array with one fancy-index assignment — no pivot and no
    per-symbol frames.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from engine.data.providers.local import LOTS_TO_SHARES

    if volume_unit not in ("lots", "shares"):
        raise ValueError(f"volume_unit must be 'lots' or 'shares', got {volume_unit!r}")
    wanted = _unique_codes(codes) if codes is not None else None
    if isinstance(source, pd.DataFrame):
        table = pa.Table.from_pandas(source, preserve_index=False)
    else:
        filters = []
        if wanted is not None:
            filters.append(("code", "in", [c.split(".")[0] for c in wanted]))
        if start is not None:
            filters.append(("date", ">=", pd.Timestamp(start)))
        if end is not None:
            filters.append(("date", "<=", pd.Timestamp(end)))
        table = pq.read_table(source, columns=["code", "date", *[f for f in PANEL_FIELDS if f != "raw_close"]],
                              filters=filters or None)
    missing_cols = [c for c in ("code", "date", "close") if c not in table.column_names]
    if missing_cols:
        raise ValueError(f"{source if not isinstance(source, pd.DataFrame) else 'frame'}: long table lacks "
                         f"column(s) {missing_cols}; found {table.column_names}")
    dict_codes = pc.dictionary_encode(pc.cast(table.column("code"), pa.string())).combine_chunks()
    raw_idx = dict_codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    canon = np.array([normalize_symbol(c) for c in dict_codes.dictionary.to_pylist()], dtype=object)
    dates = pd.DatetimeIndex(table.column("date").to_pandas()).tz_localize(None).normalize().as_unit("ns")
    keep = np.ones(len(raw_idx), dtype=bool)
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates <= pd.Timestamp(end)
    if wanted is not None:
        order = {c: i for i, c in enumerate(wanted)}
        remap = np.array([order.get(c, -1) for c in canon], dtype=np.int64)
        code_arr = np.array(wanted, dtype=object)
    else:
        sort = np.argsort(canon.astype(str), kind="stable")
        remap = np.empty(len(canon), dtype=np.int64)
        remap[sort] = np.arange(len(canon))
        code_arr = canon[sort]
    col_idx = remap[raw_idx] if len(canon) else raw_idx
    keep &= col_idx >= 0
    date_i8 = dates.asi8
    data_dates = pd.DatetimeIndex(np.unique(date_i8[keep]).astype("datetime64[ns]"))
    if calendar == "data":
        sess = data_dates
    else:
        if not len(data_dates) and (start is None or end is None):
            raise ValueError("no rows left and no start/end to build calendar sessions from")
        sess = calendar_sessions(calendar, start if start is not None else data_dates[0],
                                 end if end is not None else data_dates[-1], data_sessions=data_dates)
    sess_i8 = sess.asi8
    row_idx = np.searchsorted(sess_i8, date_i8)
    inside = row_idx < len(sess_i8)
    keep &= inside
    keep[inside] &= sess_i8[row_idx[inside]] == date_i8[inside]
    rows, cols = row_idx[keep], col_idx[keep]
    n_s, n_a = len(sess_i8), len(code_arr)
    arrays = {}
    table = table.drop_columns(["code", "date"])
    del dict_codes, raw_idx, dates, date_i8, row_idx, col_idx
    for name in PANEL_FIELDS:
        out = np.full((n_s, n_a), np.nan)
        if name in table.column_names:
            values = table.column(name).to_numpy().astype(np.float64, copy=False)
            table = table.drop_columns([name])  # release each input column as soon as it is scattered
            if name == "volume" and volume_unit == "lots":
                values = values * LOTS_TO_SHARES
            out[rows, cols] = values[keep]
            del values
        arrays[name] = out
    tradable = np.isfinite(arrays["close"]) & (np.nan_to_num(arrays["volume"], nan=0.0) > 0)
    panel = Panel(sessions=sess.to_numpy(dtype="datetime64[ns]"), codes=code_arr, tradable=tradable, **arrays)
    _untradable_indexes(panel)
    return panel
