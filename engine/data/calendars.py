"""Trading calendars: XSHG (Shanghai, also used for Shenzhen and Beijing), XHKG (Hong Kong) and the combined A+H.

Sessions come from ``exchange_calendars``. Its holiday data ends at a fixed date (XSHG: 2026-12-31; asking past it
raises). Outside the calendar's range we fall back to the sessions present in the price data (``data_sessions``),
so a panel past 2026 uses the days on which bars exist instead of crashing. All sessions are ``datetime64[ns]``
midnight dates without time zone (exchange local date).
"""

from __future__ import annotations

import contextlib
import warnings
from functools import lru_cache
from typing import Iterable

import pandas as pd

from engine.symbols import Market, parse_symbol

__all__ = ["CALENDARS", "calendar_for_codes", "sessions", "early_closes"]

CALENDARS = ("XSHG", "XHKG", "A+H", "data")
_EXCHANGE = {"A": "XSHG", "HK": "XHKG"}


@lru_cache(maxsize=4)
def _calendar(name: str):
    import exchange_calendars as xcals  # lazy: importing it costs ~0.5 s

    with _quiet():
        return xcals.get_calendar(name)


@contextlib.contextmanager
def _quiet():
    """Silence exchange_calendars' own pandas deprecation warnings (not actionable for our users)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"exchange_calendars(\..*)?")
        warnings.filterwarnings("ignore", message=r".*(weekday is deprecated|Series\.values returning).*")
        yield


def calendar_for_codes(codes: Iterable[str]) -> str:
    """``XSHG`` when every code is an A-share (or CSI 300), ``XHKG`` when every code is HK (or HSI), else ``A+H``."""
    markets = {parse_symbol(c).market for c in codes}
    if markets == {Market.A}:
        return "XSHG"
    if markets == {Market.HK}:
        return "XHKG"
    return "A+H"


def _exchange_sessions(name: str, start: pd.Timestamp, end: pd.Timestamp,
                       data_sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    cal = _calendar(name)
    first, last = pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)
    parts = []
    lo, hi = max(start, first), min(end, last)
    if lo <= hi:
        with _quiet():
            parts.append(pd.DatetimeIndex(cal.sessions_in_range(lo, hi)))
    # Outside the calendar's known range: use the days on which the data has bars.
    outside = data_sessions[((data_sessions < first) | (data_sessions > last))
                            & (data_sessions >= start) & (data_sessions <= end)]
    parts.append(outside)
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return pd.DatetimeIndex(out).tz_localize(None).normalize()


def sessions(calendar: str, start, end, data_sessions: Iterable | None = None) -> pd.DatetimeIndex:
    """Trading sessions of ``calendar`` between ``start`` and ``end`` (inclusive dates).

    ``calendar``: ``"XSHG"``, ``"XHKG"``, ``"A+H"`` (union of both) or ``"data"`` (exactly ``data_sessions``).
    ``data_sessions``: dates that have bars; used past the calendar's last (or before its first) session.
    Raises ``ValueError`` naming the allowed values for an unknown calendar.
    """
    start_ts = pd.Timestamp(start).tz_localize(None).normalize() if start is not None else None
    end_ts = pd.Timestamp(end).tz_localize(None).normalize() if end is not None else None
    data = pd.DatetimeIndex(pd.to_datetime(list(data_sessions) if data_sessions is not None else []))
    data = data.tz_localize(None).normalize().unique().sort_values() if len(data) else pd.DatetimeIndex([])
    if start_ts is None:
        start_ts = data[0] if len(data) else None
    if end_ts is None:
        end_ts = data[-1] if len(data) else None
    if start_ts is None or end_ts is None:
        raise ValueError("sessions() needs start and end, or data_sessions to infer them")
    if calendar == "data":
        out = data[(data >= start_ts) & (data <= end_ts)]
    elif calendar in ("XSHG", "XHKG"):
        out = _exchange_sessions(calendar, start_ts, end_ts, data)
    elif calendar == "A+H":
        out = _exchange_sessions("XSHG", start_ts, end_ts, data).union(
            _exchange_sessions("XHKG", start_ts, end_ts, data))
    else:
        raise ValueError(f"unknown calendar {calendar!r}; allowed: {', '.join(CALENDARS)}")
    return pd.DatetimeIndex(out, name="date").astype("datetime64[ns]")


def early_closes(calendar: str, start, end) -> pd.DatetimeIndex:
    """Half-day sessions of an exchange calendar within ``[start, end]`` (clipped to the calendar's range)."""
    cal = _calendar(calendar)
    lo = max(pd.Timestamp(start), pd.Timestamp(cal.first_session))
    hi = min(pd.Timestamp(end), pd.Timestamp(cal.last_session))
    if lo > hi:
        return pd.DatetimeIndex([])
    ec = pd.DatetimeIndex(cal.early_closes)
    ec = ec.tz_localize(None) if ec.tz is not None else ec
    return ec[(ec >= lo) & (ec <= hi)].normalize()
