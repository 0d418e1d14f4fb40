"""Bring the cache up to date for ``(codes, start, end)``: fetch only the missing ranges, or list them offline.

Algorithm of :func:`ensure_cached`, per code:

1. read the cached file; a corrupt file (:class:`~engine.data.cache.CacheCorruptError`) is reported, moved aside
   (:meth:`PriceCache.quarantine`) and the whole range is fetched again — never used;
   A symbol read earlier from a local per-symbol file that has changed since (mtime or size, manifest
   ``local_files``) is re-read from it first, its rows replacing the cached ones (:func:`_refresh_changed_local_file`);
2. compute the missing ranges (:meth:`PriceCache.missing`: parts of ``[start, end]`` never asked of a provider);
3. offline: record each missing range in :attr:`FetchReport.missing`; online: ask the chain for the range, widened
   to include the nearest cached bar on each side so the new segment can be rebased onto the cached one
   (:func:`~engine.data.cache.merge_bars`), and merge it in;
4. a provider's answer *covers* the requested range only as far as the exchange calendar agrees: if sessions exist
   between the last bar returned and ``end`` (or between ``start`` and the first bar), that tail stays missing, so a
   later run can fill it from another provider or once the data exists.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from engine.data.cache import CacheCorruptError, PriceCache, failure_ttl_hours
from engine.data.chain import AllProvidersFailed, ProviderChain
from engine.data.providers.local import read_symbol_file
from engine.symbols import parse_symbol

__all__ = ["MissingRange", "FetchReport", "ensure_cached", "answered_range"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingRange:
    """A date range of one symbol that is not in the cache (inclusive dates) and why."""

    code: str
    start: dt.date
    end: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.code} {self.start}..{self.end} ({self.reason})"


@dataclass
class FetchReport:
    """What :func:`ensure_cached` did: rows fetched per code, errors, corrupt files found, ranges still missing."""

    fetched: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[MissingRange] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)  # codes re-read because their local file changed
    first_bar_dates: dict = field(default_factory=dict)  # code -> earliest cached bar (before any clipping)
    errors: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    unchained: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.errors

    def missing_text(self) -> str:
        return "\n".join(f"  {m}" for m in self.missing)


def _calendar_of(code: str) -> str:
    return "XHKG" if parse_symbol(code).market.value == "HK" else "XSHG"


def _trim_to_sessions(code: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """``[start, end]`` shrunk to its first and last exchange session; None when it holds no session (weekend,
    holidays). Ranges reaching outside the calendar's known years are kept as they are past its edge."""
    from engine.data.calendars import _calendar, sessions

    cal_name = _calendar_of(code)
    cal = _calendar(cal_name)
    cal_first, cal_last = pd.Timestamp(cal.first_session).date(), pd.Timestamp(cal.last_session).date()
    if start < cal_first:
        return start, end
    sess = sessions(cal_name, start, min(end, cal_last))
    if end > cal_last:
        return (sess[0].date() if len(sess) else start), end
    if not len(sess):
        return None
    return sess[0].date(), sess[-1].date()


def _session_gaps(cache: PriceCache, code: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    out = []
    for a, b in cache.missing(code, start, end):
        trimmed = _trim_to_sessions(code, a, b)
        if trimmed is not None:
            out.append(trimmed)
    return out


def answered_range(code: str, start: dt.date, end: dt.date, bars: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """The part of ``[start, end]`` a provider's answer really covers (see step 4 of the module docstring).

    Past the calendar's last session the answer is trusted only up to its last bar.
    """
    from engine.data.calendars import _calendar, sessions

    if bars.empty:
        return None
    first, last = pd.Timestamp(bars["date"].iloc[0]).date(), pd.Timestamp(bars["date"].iloc[-1]).date()
    cal_name = _calendar_of(code)
    cal_last = pd.Timestamp(_calendar(cal_name).last_session).date()
    lo, hi = start, end
    if first > start:
        head = sessions(cal_name, start, first - dt.timedelta(days=1))
        if len(head):
            lo = first
    if last < end:
        tail_end = min(end, cal_last)
        tail = sessions(cal_name, last + dt.timedelta(days=1), tail_end) if last < tail_end else []
        if len(tail) or end > cal_last:
            hi = last
    return lo, hi


def ensure_cached(cache: PriceCache, codes: Iterable[str], start, end, *, chain: ProviderChain | None = None,
                  offline: bool = False, progress: Callable[[str], None] | None = None,
                  frames: dict[str, pd.DataFrame] | None = None) -> FetchReport:
    """Make sure ``cache`` covers ``[start, end]`` for every code (see module docstring). Never raises for a single
    symbol's failure: errors and still-missing ranges are collected in the returned :class:`FetchReport`.
    ``frames``, when given, receives each code's validated cached bars (whole cached range), saving a re-read."""
    start_d, end_d = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if start_d > end_d:
        raise ValueError(f"start {start_d} is after end {end_d}")
    with cache.batch():  # one manifest save at the end instead of one per symbol
        return _ensure(cache, list(codes), start_d, end_d, chain, offline, progress, frames)


def _local_file(chain: ProviderChain | None, code: str) -> Path | None:
    """The per-symbol file the chain's ``local`` provider would read for ``code`` (None without one)."""
    local = next((p for p in (chain.providers if chain else []) if p.name == "local"), None)
    finder = getattr(local, "symbol_file", None)
    return finder(code) if finder else None


def _refresh_changed_local_file(cache: PriceCache, chain: ProviderChain | None, code: str, cached: pd.DataFrame,
                                report: FetchReport) -> pd.DataFrame:
    """Re-read ``code``'s local price file when it changed since it was cached (its rows replace the cached ones
    over the file's range); returns the cached bars as they are now."""
    path = _local_file(chain, code)
    if path is None or not cache.local_file_changed(code, path):
        return cached
    try:
        bars = read_symbol_file(path, code)
        first, last = bars["date"].iloc[0].date(), bars["date"].iloc[-1].date()
        cache.update(code, bars, covered=[(first, last)], source="local", replace=True)
    except (ValueError, KeyError, OSError, IndexError) as exc:
        report.errors.append(f"{path}: changed since it was cached but cannot be re-read: {exc}")
        return cached
    cache.record_local_file(code, path)
    report.refreshed.append(f"{code} from {path}")
    log.info("%s changed since it was cached: re-read it for %s", path, code)
    return cache.read(code)


def _fill_gap(cache: PriceCache, code: str, a: dt.date, b: dt.date, chain: ProviderChain,
              cached: pd.DataFrame | None, report: FetchReport) -> pd.DataFrame | None:
    """Ask ``chain`` for ``code`` over the missing range ``a..b`` and merge the answer into the cache.

    When a provider answers only part of the range (a local file that ends earlier, say), the sessions still missing
    are asked of the providers after it in the chain. A range every provider asked failed to supply is remembered
    (:meth:`PriceCache.record_failure`). Returns the cached bars as they are afterwards."""
    ask_a, ask_b = a, b
    if cached is not None and not cached.empty:
        before = cached["date"][cached["date"] < pd.Timestamp(a)]
        after = cached["date"][cached["date"] > pd.Timestamp(b)]
        if len(before):
            ask_a = before.iloc[-1].date()  # one shared bar to rebase the new segment on
        if len(after):
            ask_b = after.iloc[0].date()
    failed = cache.recent_failure(code, a, b, providers=chain.names)
    if failed is not None:
        report.missing.append(MissingRange(
            code, a, b, f"all providers failed at {failed['at']} (not retried for {failure_ttl_hours():g} h;"
                        " `ratingbt data fetch --retry-failed` asks again)"))
        return cached
    try:
        bars, provider = chain.fetch(code, ask_a, ask_b)
    except AllProvidersFailed as exc:
        report.errors.append(str(exc))
        report.missing.append(MissingRange(code, a, b, "all providers failed"))
        cache.record_failure(code, a, b, str(exc), providers=chain.names)
        return cached
    got = answered_range(code, ask_a, ask_b, bars)
    adds_rows = cached is None or (~bars["date"].isin(cached["date"])).any()
    adds_coverage = got is not None and bool(cache.missing(code, got[0], got[1]))
    if adds_rows or adds_coverage:  # an answer with nothing new does not rewrite the cached file
        _, factor = cache.update(code, bars, covered=[got] if got else [], source=provider)
        if factor is None:
            report.unchained.append(f"{code} {a}..{b}")
        cached = cache.read(code)
    if got is not None:
        cache.forget_failures([code], overlapping=got)
    if provider == "local":
        local_path = _local_file(chain, code)
        if local_path is not None:
            cache.record_local_file(code, local_path)
    report.fetched[code] = report.fetched.get(code, 0) + len(bars)
    report.sources[code] = provider
    left = _session_gaps(cache, code, a, b) if got is not None else []
    rest = chain.after(provider)
    for ma, mb in left:
        if rest is not None:
            cached = _fill_gap(cache, code, ma, mb, rest, cached, report)
        else:
            report.missing.append(MissingRange(code, ma, mb, f"{provider} has no bars there"))
    return cached


def _ensure(cache, codes, start_d, end_d, chain, offline, progress, frames) -> FetchReport:
    report = FetchReport()
    for code in codes:
        if progress:
            progress(code)
        cached = None
        try:
            cached = cache.read(code)
        except KeyError:
            pass
        except CacheCorruptError as exc:
            report.corrupt.append(str(exc))
            if offline:
                report.missing.append(MissingRange(code, start_d, end_d, f"cache file corrupt: {exc.reason}"))
                continue
            cache.quarantine(code)
        if cached is not None and not offline:
            cached = _refresh_changed_local_file(cache, chain, code, cached, report)
        gaps = _session_gaps(cache, code, start_d, end_d)
        if frames is not None and cached is not None:
            frames[code] = cached
        if offline:
            reason = "not cached" if cached is None else "outside the cached range"
            report.missing.extend(MissingRange(code, a, b, reason) for a, b in gaps)
            continue
        if chain is None:
            if gaps:
                report.missing.extend(MissingRange(code, a, b, "no providers given") for a, b in gaps)
            continue
        for a, b in gaps:
            cached = _fill_gap(cache, code, a, b, chain, cached, report)
            if frames is not None and cached is not None:
                frames[code] = cached
    return report
