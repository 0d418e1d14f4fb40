"""Bring the store up to date for ``(codes, start, end)``: read named local files, fetch only missing ranges.

Algorithm of :func:`ensure_cached`:

1. the chain's ``local`` provider (its ``roots``: folders and files, in order) names the local sources; they are
   read into the store when new or changed (:func:`engine.data.localfiles.sync_files`) and each code is served by
   the named files holding it, then by the providers' ``net`` series (:func:`engine.data.localfiles.plan_for`).
   Without a local provider (or offline with no chain) the files brought in by ``data import`` are served instead;
2. per code, the missing ranges are the parts of ``[start, end]`` outside the union of its served origins'
   coverage, trimmed to exchange sessions (a weekend or holiday alone is not missing);
3. offline: record each missing range in :attr:`FetchReport.missing`; online: ask the providers after ``local``
   for the range, widened to include the nearest served bar on each side so the new segment can be rebased onto
   the served series (:func:`~engine.data.cache.merge_bars`), and merge it into ``net`` (one transaction);
4. a provider's answer *covers* the requested range only as far as the exchange calendar agrees: if sessions exist
   between the last bar returned and ``end`` (or between ``start`` and the first bar), that tail stays missing, so a
   later run can fill it from another provider or once the data exists. A range every provider failed to supply is
   remembered (:meth:`PriceCache.record_failure`) and not asked again for a while.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from engine.data.cache import NET, PriceCache, failure_ttl_hours, missing_ranges, served_frames
from engine.data.chain import AllProvidersFailed, ProviderChain
from engine.symbols import parse_symbol

__all__ = ["MissingRange", "FetchReport", "ensure_cached", "prepare_fetch", "PreparedFetch", "answered_range",
           "split_chain"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingRange:
    """A date range of one symbol that is not in the store (inclusive dates) and why."""

    code: str
    start: dt.date
    end: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.code} {self.start}..{self.end} ({self.reason})"


@dataclass
class FetchReport:
    """What :func:`ensure_cached` did: rows fetched per code, errors, ranges still missing, the origins served per
    code (``plan``: local file paths in order, then ``net``)."""

    fetched: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[MissingRange] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)  # files re-read because they changed
    first_bar_dates: dict = field(default_factory=dict)  # code -> earliest served bar (before any clipping)
    errors: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    unchained: list[str] = field(default_factory=list)
    plan: dict = field(default_factory=dict)
    summary: object = None  # per code and served origin: first, last, rows (PriceCache.summary), set by load_panel
    skipped: dict = field(default_factory=dict)  # local paths that are not price files -> why

    @property
    def ok(self) -> bool:
        return not self.missing and not self.errors

    def missing_text(self) -> str:
        return "\n".join(f"  {m}" for m in self.missing)


_DAY_NS = 86_400_000_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=65536)
def _calendar_of(code: str) -> str:
    return "XHKG" if parse_symbol(code).market.value == "HK" else "XSHG"


class _Sessions:
    """Exchange sessions of ``[start, end]`` per calendar, computed once (not once per code), to trim ranges."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self._cals: dict[str, tuple] = {}
        self._gaps: dict[tuple, list] = {}

    def _of(self, name: str) -> tuple:
        if name not in self._cals:
            from engine.data.calendars import _calendar, sessions

            cal = _calendar(name)
            first, last = pd.Timestamp(cal.first_session).date(), pd.Timestamp(cal.last_session).date()
            lo, hi = max(self.start, first), min(self.end, last)
            sess = sessions(name, lo, hi).asi8 if lo <= hi else np.array([], dtype=np.int64)
            # sessions as day ordinals (datetime.date.toordinal) in a list: bisect on Python ints is the cheapest
            # look-up for one range at a time (a whole-market call trims ~10,000 ranges)
            self._cals[name] = (first, last, (sess // _DAY_NS + _EPOCH_ORDINAL).tolist())
        return self._cals[name]

    def trim(self, code: str, a: dt.date, b: dt.date) -> tuple[dt.date, dt.date] | None:
        """``[a, b]`` shrunk to its first and last session; None when it holds none. Parts outside the
        calendar's known years are kept as they are."""
        first, last, sess = self._of(_calendar_of(code))
        if a < first:
            return a, b
        lo_i = bisect.bisect_left(sess, a.toordinal())
        hi_i = bisect.bisect_right(sess, min(b, last).toordinal())
        if b > last:
            return (dt.date.fromordinal(sess[lo_i]) if hi_i > lo_i else a), b
        if hi_i <= lo_i:
            return None
        return dt.date.fromordinal(sess[lo_i]), dt.date.fromordinal(sess[hi_i - 1])

    def gaps(self, code: str, covered: list, a: dt.date, b: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The session ranges of ``[a, b]`` outside ``covered``. Computed once per calendar, coverage and range:
        most codes of a market file share their coverage, so a whole-market call computes a few hundred, not
        5,000 (the result list is shared between those codes: do not modify it)."""
        key = (_calendar_of(code), tuple(covered), a, b)
        out = self._gaps.get(key)
        if out is None:
            out = []
            for x, y in missing_ranges(covered, a, b):
                t = self.trim(code, x, y)
                if t is not None:
                    out.append(t)
            self._gaps[key] = out
        return out


class _KnownFailures:
    """The remembered failures of a call's codes, read once when it starts (one query instead of one store
    connection per missing range). A code whose failures the call itself records or forgets is read from the store
    again afterwards, so every look-up sees what the store holds."""

    def __init__(self, records: dict[str, list[dict]] | None):
        self.records = records  # None: nothing read, every look-up goes to the store
        self.stale: set[str] = set()

    def of(self, code: str) -> list[dict] | None:
        """The code's failures as read (``[]`` = none), or None when the store must be asked."""
        if self.records is None or code in self.stale:
            return None
        return self.records.get(code, [])

    def changed(self, code: str) -> None:
        self.stale.add(code)


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


def split_chain(chain: ProviderChain | None):
    """``(local provider or None, chain of the other providers or None)``. A ``local`` provider is one with
    ``roots`` (its files are read through the store); a provider merely named ``local`` without roots stays in
    the chain."""
    if chain is None:
        return None, None
    local = next((p for p in chain.providers if p.name == "local" and hasattr(p, "roots")), None)
    if local is None:
        return None, chain
    rest = [p for p in chain.providers if p is not local]
    if not rest:
        return local, None
    sub = ProviderChain(rest, chain.settings, sleep=chain.sleep, clock=chain._clock)
    sub.limiter, sub.attempts, sub._network_strikes = chain.limiter, chain.attempts, chain._network_strikes
    return local, sub


def ensure_cached(cache: PriceCache, codes: Iterable[str], start, end, *, chain: ProviderChain | None = None,
                  offline: bool = False, progress: Callable[[str], None] | None = None,
                  local_roots: Iterable | None = None, plan: dict | None = None) -> FetchReport:
    """Make sure the store covers ``[start, end]`` for every code (see module docstring). Never raises for a
    single symbol's failure: errors and still-missing ranges are collected in the returned :class:`FetchReport`.
    ``local_roots`` names local sources directly (instead of, or when offline without, a chain's local
    provider); offline, named local files are still read (they are not network). ``plan`` (from
    :func:`plan_sources` with the same roots) skips planning again."""
    return prepare_fetch(cache, codes, start, end, chain=chain, offline=offline, local_roots=local_roots,
                         plan=plan).run(progress)


@dataclass
class PreparedFetch:
    """What :func:`ensure_cached` reads from the store before asking any provider (plan, coverage, remembered
    failures); :meth:`run` does the rest. Split so a caller can read it inside a store session it already holds."""

    cache: PriceCache
    code_list: list[str]
    start: dt.date
    end: dt.date
    net: ProviderChain | None
    offline: bool
    roots: list | None
    report: FetchReport
    covered: dict
    known: "_KnownFailures"

    def run(self, progress: Callable[[str], None] | None = None) -> FetchReport:
        """Fill the gaps (network calls happen here, outside any store session) and return the report."""
        report, net = self.report, self.net
        sess = _Sessions(self.start, self.end)
        names = net.names if net is not None else []
        for code in self.code_list:
            if progress:
                progress(code)
            gaps = sess.gaps(code, self.covered[code], self.start, self.end)
            if not gaps:
                continue
            if self.offline or net is None:
                if self.offline:
                    reason = "not cached" if not self.covered[code] else "outside the cached range"
                else:
                    reason = "no providers given" if not self.covered[code] or self.roots is None else \
                        "outside the local files and no other provider given"
                report.missing.extend(MissingRange(code, a, b, reason) for a, b in gaps)
                continue
            for a, b in gaps:
                _fill_gap(self.cache, code, a, b, net, report, sess, names, self.known)
        return report


def prepare_fetch(cache: PriceCache, codes: Iterable[str], start, end, *, chain: ProviderChain | None = None,
                  offline: bool = False, local_roots: Iterable | None = None,
                  plan: dict | None = None) -> PreparedFetch:
    """The store reads of :func:`ensure_cached` (planning, coverage, remembered failures), in one store session."""
    start_d, end_d = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if start_d > end_d:
        raise ValueError(f"start {start_d} is after end {end_d}")
    code_list = list(dict.fromkeys(codes))
    local, net = split_chain(chain)
    roots = list(local_roots) if local_roots is not None else (list(local.roots) if local is not None else None)
    report = FetchReport()
    with cache.store.session():  # planning, coverage and remembered failures in one connection (no network inside)
        report.plan = plan if plan is not None else plan_sources(cache, code_list, roots, report)
        covered = cache.coverage_of(report.plan)
        ask = not offline and net is not None and failure_ttl_hours() > 0
        known = _KnownFailures(cache.failures_of_codes(code_list) if ask else None)
    return PreparedFetch(cache, code_list, start_d, end_d, net, offline, roots, report, covered, known)


def plan_sources(cache: PriceCache, codes: list[str], roots: list | None, report: FetchReport) -> dict:
    """Read the named local sources into the store and return the origins served per code (module docstring)."""
    if roots is None:
        return cache.default_plan(codes)
    from engine.data.localfiles import expand_sources, plan_for, stored_kinds, sync_files

    files, skipped = expand_sources(roots, stored_kinds(cache))
    report.skipped.update(skipped)
    synced = sync_files(cache, files, codes=codes)
    report.errors.extend(f"{path}: {msg}" for path, msg in synced.errors.items())
    report.refreshed.extend(synced.refreshed)
    return plan_for(cache, codes, files)


def _fill_gap(cache: PriceCache, code: str, a: dt.date, b: dt.date, chain: ProviderChain, report: FetchReport,
              sess: _Sessions, names: list[str], failures: "_KnownFailures | None" = None) -> None:
    """Ask ``chain`` for ``code`` over the missing range ``a..b`` and merge the answer into ``net``.

    When a provider answers only part of the range, the sessions still missing are asked of the providers after
    it in the chain. A range every provider asked failed to supply is remembered. ``failures``: the remembered
    failures read when the call started (None: read them from the store now)."""
    failures = failures if failures is not None else _KnownFailures(None)
    origins = report.plan[code]
    failed = cache.recent_failure(code, a, b, providers=chain.names, known=failures.of(code))
    if failed is not None:
        report.missing.append(MissingRange(
            code, a, b, f"all providers failed at {failed['at']} (not retried for {failure_ttl_hours():g} h;"
                        " `ratingbt data fetch --retry-failed` asks again)"))
        return
    parts = cache.origin_frames(code, origins)
    served, net_factor = (served_frames([p for _, p in parts]) if parts else (None, None))
    if parts and parts[-1][0] != NET:
        net_factor = None  # no net rows yet: nothing to keep consistent with
    ask_a, ask_b = a, b
    if served is not None and not served.empty:
        before = served["date"][served["date"] < pd.Timestamp(a)]
        after = served["date"][served["date"] > pd.Timestamp(b)]
        if len(before):
            ask_a = before.iloc[-1].date()  # one shared bar to rebase the new segment on
        if len(after):
            ask_b = after.iloc[0].date()
    try:
        bars, provider = chain.fetch(code, ask_a, ask_b)
    except AllProvidersFailed as exc:
        report.errors.append(str(exc))
        report.missing.append(MissingRange(code, a, b, "all providers failed"))
        cache.record_failure(code, a, b, str(exc), providers=chain.names)
        failures.changed(code)
        return
    got = answered_range(code, ask_a, ask_b, bars)
    adds_rows = served is None or (~bars["date"].isin(served["date"])).any()
    covered = cache.coverage_of({code: origins})[code]
    adds_coverage = got is not None and bool(missing_ranges(covered, got[0], got[1]))
    if adds_rows or adds_coverage:  # an answer with nothing new is not written
        _, factor = cache.update(code, bars, covered=[got] if got else [], source=provider, basis=served,
                                 basis_factor=net_factor)
        if factor is None and served is not None and not served.empty:
            report.unchained.append(f"{code} {a}..{b}")
    if got is not None:
        cache.forget_failures([code], overlapping=got)
        failures.changed(code)
    report.fetched[code] = report.fetched.get(code, 0) + len(bars)
    report.sources[code] = provider
    left = sess.gaps(code, cache.coverage_of({code: origins})[code], a, b) if got is not None else []
    rest = chain.after(provider)
    for ma, mb in left:
        if rest is not None:
            _fill_gap(cache, code, ma, mb, rest, report, sess, names)
        else:
            report.missing.append(MissingRange(code, ma, mb, f"{provider} has no bars there"))
