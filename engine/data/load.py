"""Load prices into an aligned :class:`~engine.data.panel.Panel` — the entry point the other stages call.

``load_panel(codes, start, end, *, calendar="auto", offline=None, providers=None, cache=None, on_missing="warn",
progress=False) -> Panel``

1. codes are normalised (:func:`engine.symbols.normalize_symbol`) and de-duplicated, keeping their order;
2. the cache is brought up to date for ``[start, end]`` (:func:`engine.data.fetch.ensure_cached`): only missing
   ranges are fetched through the provider chain; offline, nothing is fetched and the missing ranges are listed;
3. cached bars are read (validated) and aligned on the sessions of ``calendar``
   (:func:`engine.data.calendars.sessions`, falling back to the data's own dates past a calendar's end)
   by :func:`engine.data.panel.panel_from_frames`.

``panel_from_long`` is the fast path for the long market parquet (``code, date, open, high, low, close, volume``),
bypassing the cache: it scatters the rows straight into the arrays with numpy.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from engine.data.cache import PriceCache
from engine.data.calendars import CALENDARS, calendar_for_codes, sessions as calendar_sessions
from engine.data.chain import ProviderChain, build_chain
from engine.data.fetch import FetchReport, MissingRange, ensure_cached
from engine.data.panel import PANEL_FIELDS, Panel
from engine.symbols import normalize_symbol

__all__ = ["load_panel", "load_frames", "panel_from_long", "MissingDataError", "resolve_chain"]


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
    out: list[str] = []
    for c in codes:
        code = normalize_symbol(c)
        if code not in out:
            out.append(code)
    if not out:
        raise ValueError("no codes given")
    return out


def load_frames(codes: Iterable[str] | str, start=None, end=None, *, offline: bool | None = None, providers=None,
                cache: PriceCache | str | Path | None = None,
                progress=None) -> tuple[dict[str, pd.DataFrame], FetchReport]:
    """Per-symbol validated bar frames (``engine.data.bars.BAR_COLUMNS``) clipped to ``[start, end]`` plus the
    :class:`FetchReport`. Symbols without any cached bar are absent from the dict (and listed in the report)."""
    code_list = _unique_codes(codes)
    store = cache if isinstance(cache, PriceCache) else PriceCache(cache)
    offline = _offline_default() if offline is None else offline
    if start is None or end is None:
        entries = [store.entry(c) for c in code_list]
        firsts = [e["first"] for e in entries if e and e.get("first")]
        lasts = [e["last"] for e in entries if e and e.get("last")]
        if not firsts:
            raise ValueError("start/end not given and none of the codes is cached: pass start and end")
        start = start if start is not None else min(firsts)
        end = end if end is not None else max(lasts)
    no_providers = isinstance(providers, (list, tuple)) and not providers
    chain = None if offline or no_providers else resolve_chain(providers)
    full: dict[str, pd.DataFrame] = {}
    try:
        report = ensure_cached(store, code_list, start, end, chain=chain, offline=offline, progress=progress,
                               frames=full)
    finally:
        if chain is not None and not isinstance(providers, ProviderChain):
            chain.close()
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    frames: dict[str, pd.DataFrame] = {}
    for code in code_list:
        if code in full:
            df = full[code]
            dates = df["date"]
            if len(dates):
                report.first_bar_dates[code] = pd.Timestamp(dates.min())
            frames[code] = df[(dates >= lo) & (dates <= hi)].reset_index(drop=True)
    return frames, report


def load_panel(codes: Iterable[str] | str, start=None, end=None, *, calendar: str = "auto",
               offline: bool | None = None, providers=None, cache: PriceCache | str | Path | None = None,
               on_missing: str = "warn", progress=None) -> Panel:
    """Aligned sessions × assets arrays of ``codes`` over ``[start, end]`` (inclusive dates).

    Parameters
    ----------
    codes: any spellings (``"300474"``, ``"sz300474"``, ``"0700.HK"``, ``"HSI"``) or one comma-separated string;
        panel columns follow this order (canonical codes, duplicates dropped).
    start, end: dates (``"2024-01-02"``, ``datetime.date``, ``Timestamp``). ``None`` = the cached range's
        earliest first / latest last bar of the codes.
    calendar: ``"auto"`` (XSHG if all codes are A-share, XHKG if all are HK, else ``"A+H"``), ``"XSHG"``,
        ``"XHKG"``, ``"A+H"`` (union of both exchanges' sessions) or ``"data"`` (union of the bars' dates).
        Past a calendar's end (XSHG: 2026-12-31) the data's own dates are used.
    offline: ``True`` = use the cache only, list missing ranges; ``None`` = ``RATINGBT_OFFLINE`` env (default off).
    providers: fallback chain — ``None`` (``RATINGBT_PROVIDERS`` or ``local,akshare,yfinance``), a string
        ``"local,akshare"``, a list of names / provider objects, or a :class:`~engine.data.chain.ProviderChain`.
        An empty list means "cache only" (like offline; missing ranges say "no providers given").
    cache: :class:`~engine.data.cache.PriceCache`, a directory, or ``None`` (:func:`engine.paths.cache_dir`).
    on_missing: ``"warn"`` (default: warn and leave NaN), ``"raise"`` (:class:`MissingDataError` listing every
        missing range and provider error) or ``"ignore"``. Missing ranges are always in ``Panel.missing``.
    progress: optional callable ``progress(code)`` called before each code is checked/fetched.

    Returns
    -------
    :class:`~engine.data.panel.Panel` — ``close``/``open``/``high``/``low`` adjusted (ratios = total returns),
    ``raw_close`` traded price (NaN where unknown), ``volume`` in shares, ``tradable`` = bar with volume > 0;
    CNY for A-shares, HKD for HK stocks, index points for 000300.SH / HSI. NaN = no bar that session.
    """
    if on_missing not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_missing must be 'warn', 'raise' or 'ignore', got {on_missing!r}")
    if calendar != "auto" and calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; allowed: auto, {', '.join(CALENDARS)}")
    code_list = _unique_codes(codes)
    frames, report = load_frames(code_list, start, end, offline=offline, providers=providers, cache=cache,
                                 progress=progress)
    if report.missing or report.errors:
        if on_missing == "raise":
            raise MissingDataError(report.missing, report.errors)
        if on_missing == "warn":
            warnings.warn(str(MissingDataError(report.missing, report.errors)), stacklevel=2)
    cal = calendar_for_codes(code_list) if calendar == "auto" else calendar
    data_dates = pd.DatetimeIndex([])
    for df in frames.values():
        data_dates = data_dates.union(pd.DatetimeIndex(df["date"]))
    lo = start if start is not None else (data_dates[0] if len(data_dates) else None)
    hi = end if end is not None else (data_dates[-1] if len(data_dates) else None)
    if lo is None:
        sess = pd.DatetimeIndex([])
    else:
        sess = calendar_sessions(cal, lo, hi, data_sessions=data_dates)
    panel = _align(code_list, frames, sess)
    panel.missing = tuple(report.missing)
    panel.first_bar_dates = dict(report.first_bar_dates)
    _untradable_indexes(panel)
    return panel


def _align(codes: list[str], frames: dict[str, pd.DataFrame], sess: pd.DatetimeIndex) -> Panel:
    """Scatter each code's bars into ``(sessions, assets)`` arrays (same result as
    :func:`engine.data.panel.panel_from_frames`, without a per-symbol reindex). Rows off ``sess`` are dropped."""
    sess_i8 = pd.DatetimeIndex(sess).as_unit("ns").asi8
    n_s, n_a = len(sess_i8), len(codes)
    arrays = {name: np.full((n_s, n_a), np.nan) for name in PANEL_FIELDS}
    for j, code in enumerate(codes):
        df = frames.get(code)
        if df is None or df.empty or not n_s:
            continue
        d = df["date"].to_numpy(dtype="datetime64[ns]").view("int64")
        pos = np.searchsorted(sess_i8, d)
        ok = pos < n_s
        ok[ok] = sess_i8[pos[ok]] == d[ok]
        rows = pos[ok]
        for name in PANEL_FIELDS:
            arrays[name][rows, j] = df[name].to_numpy(dtype=float)[ok]
    tradable = np.isfinite(arrays["close"]) & (np.nan_to_num(arrays["volume"], nan=0.0) > 0)
    return Panel(sessions=sess_i8.view("datetime64[ns]").copy(), codes=np.array(codes, dtype=object),
                 tradable=tradable, **arrays)


def _untradable_indexes(panel: Panel) -> None:
    """Index columns keep their levels but are never tradable (see :mod:`engine.data.panel`)."""
    is_index = panel.boards == "index"
    if is_index.any():
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
