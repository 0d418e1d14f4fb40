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

import numpy as np
import pandas as pd

from engine.symbols import Market, parse_symbol

__all__ = ["CALENDARS", "calendar_for_codes", "sessions", "early_closes", "exchange_calendar", "StoredCalendar"]

CALENDARS = ("XSHG", "XHKG", "A+H", "data")
_EXCHANGE = {"A": "XSHG", "HK": "XHKG"}


@lru_cache(maxsize=4)
def _calendar(name: str):
    """The exchange calendar ``name`` (``XSHG`` / ``XHKG``): read from the copy kept in the cache folder
    (:class:`StoredCalendar`) when one was made today with the installed ``exchange_calendars``, else built by
    ``exchange_calendars`` (importing it and building a calendar cost 0.3-1 s) and kept for the next process."""
    stored = StoredCalendar.load(name)
    if stored is not None:
        return stored
    import exchange_calendars as xcals

    with _quiet():
        cal = xcals.get_calendar(name)
    StoredCalendar.save(name, cal)
    return cal


def exchange_calendar(name: str):
    """The calendar object of exchange ``name`` (``XSHG``, ``XHKG``): ``first_session``, ``last_session``
    (Timestamps; ``exchange_calendars`` covers 20 years back to one year ahead of today, clipped to its holiday
    data), ``sessions_in_range(start, end)`` and ``early_closes`` (naive DatetimeIndex)."""
    return _calendar(name)


class StoredCalendar:
    """What this package reads of an ``exchange_calendars`` calendar, kept in ``<cache>/calendars/`` as one
    ``.npz`` file per calendar, day (the calendar's range follows today's date) and installed version of
    ``exchange_calendars`` (stamps of its source files), so later processes need not import it."""

    def __init__(self, sessions: np.ndarray, early: np.ndarray):
        self._sessions = pd.DatetimeIndex(sessions.astype("datetime64[ns]"))
        self.early_closes = pd.DatetimeIndex(early.astype("datetime64[ns]"))
        self.first_session = self._sessions[0]
        self.last_session = self._sessions[-1]

    def sessions_in_range(self, start, end) -> pd.DatetimeIndex:
        """Sessions within ``[start, end]`` (inclusive dates), as ``exchange_calendars`` gives them."""
        lo = self._sessions.searchsorted(pd.Timestamp(start), "left")
        hi = self._sessions.searchsorted(pd.Timestamp(end), "right")
        return self._sessions[lo:hi]

    @staticmethod
    def _path(name: str):
        import datetime as dt
        import hashlib
        import importlib.util
        import os

        from engine.paths import cache_dir

        spec = importlib.util.find_spec("exchange_calendars")
        if spec is None or not spec.submodule_search_locations:
            return None
        digest = hashlib.sha256(f"{name} {dt.date.today().isoformat()}".encode())
        for folder in spec.submodule_search_locations:
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    digest.update(f" {entry.name} {st.st_size} {st.st_mtime_ns}".encode())
        return cache_dir() / "calendars" / f"{name}-{digest.hexdigest()[:24]}.npz"

    @classmethod
    def load(cls, name: str) -> "StoredCalendar | None":
        try:
            path = cls._path(name)
            if path is None or not path.is_file():
                return None
            with np.load(path) as data:
                return cls(data["sessions"], data["early"])
        except Exception:  # noqa: BLE001 - damaged or unreadable: build it again
            return None

    @classmethod
    def save(cls, name: str, cal) -> None:
        """Keep ``cal``'s sessions and early closes (atomic write; an unwritable cache folder is skipped)."""
        import os
        import tempfile

        try:
            path = cls._path(name)
            if path is None:
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob(f"{name}-*.npz"):  # yesterday's or another version's copy
                old.unlink(missing_ok=True)
            sessions = pd.DatetimeIndex(cal.sessions).tz_localize(None).to_numpy(dtype="datetime64[ns]")
            early = pd.DatetimeIndex(cal.early_closes)
            early = (early.tz_localize(None) if early.tz is not None else early).to_numpy(dtype="datetime64[ns]")
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, sessions=sessions.view("int64"), early=early.view("int64"))
            os.replace(tmp, path)
        except OSError:
            pass


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
