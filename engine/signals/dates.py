"""Dates in report text: publication date, quoted-price date, and the next trading session.

Conventions: all dates are exchange-local calendar dates (``datetime.date``).

- Publication date: a line near the top holding only a date (``2024年03月01日``, ``2026年6月3日``), optionally
  labelled (``日期： 2025年01月03日``, ``发布日期：2024-03-01``). Dates in 相关研究 / 相关报告 lists (lines starting
  with ``——``, ``-``, ``1.`` or holding ``《…》`` or ``-2024/02/25``) are ignored.
- Quoted-price date: ``股价为 2025 年 5 月 6 日收盘价``, ``数据更新至 2026 年 6 月 2 日`` (near 现价), or a table
  header cell ``2024/2/23 股价(元)``.
- Next session: :func:`next_session` uses :mod:`engine.data.calendars` (XSHG for A-shares, XHKG for HK) and falls
  back to the next weekday outside the calendar's range (XSHG data stops at 2026-12-31).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re

__all__ = [
    "parse_date",
    "find_dates",
    "find_publication_date",
    "find_price_date",
    "next_session",
    "session_on_or_after",
    "infer_publication_date",
]

_CJK_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_NUM_DATE = r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})"
_DATE_RE = re.compile(rf"{_CJK_DATE}|{_NUM_DATE}")
_LABEL = r"(?:日期|发布日期|报告日期|发布时间|报告发布日期|Date|DATE)\s*[:：]?\s*"
_DATE_LINE_RE = re.compile(rf"(?:{_LABEL})?(?:{_CJK_DATE}|{_NUM_DATE})")
_LIST_ITEM_RE = re.compile(r"^\d+[.、)]")
_RELATED_RE = re.compile(r"相关研究|相关报告|相关阅读|往期回顾|历史报告|近期报告")


def _make(y: str, m: str, d: str) -> dt.date | None:
    try:
        year, month, day = int(y), int(m), int(d)
        if not 1990 <= year <= 2100:
            return None
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """The first date in ``text`` (CJK ``2024年3月1日`` or numeric ``2024/3/1``, ``2024-03-01``), else ``None``."""
    for m in _DATE_RE.finditer(text):
        g = m.groups()
        d = _make(*g[:3]) if g[0] else _make(*g[3:])
        if d is not None:
            return d
    return None


def find_dates(text: str) -> list[tuple[int, dt.date]]:
    """Every (offset, date) in ``text``."""
    out = []
    for m in _DATE_RE.finditer(text):
        g = m.groups()
        d = _make(*g[:3]) if g[0] else _make(*g[3:])
        if d is not None:
            out.append((m.start(), d))
    return out


def find_publication_date(lines: list[str], head_lines: int = 80) -> dt.date | None:
    """The printed publication date near the top (see module docstring), or ``None``."""
    in_related = False
    for raw in lines[:head_lines]:
        line = raw.strip().strip("*#").strip()
        if not line:
            continue
        if _RELATED_RE.search(line) and len(line) < 20:
            in_related = True
            continue
        if line.startswith(("——", "--", "-", "•", "《")) or _LIST_ITEM_RE.match(line) or "《" in line:
            continue
        m = _DATE_LINE_RE.fullmatch(line)
        if m:
            if in_related and not re.match(_LABEL, line):
                continue
            d = parse_date(line)
            if d is not None:
                return d
        elif in_related and len(line) > 30:
            in_related = False
    return None


_PRICE_DATE_PATTERNS = [
    re.compile(rf"股价(?:为|系|取)\s*(?:{_CJK_DATE}|{_NUM_DATE})\s*(?:的)?\s*收盘价"),
    re.compile(rf"(?:{_CJK_DATE}|{_NUM_DATE})\s*(?:的)?\s*收盘价"),
    re.compile(rf"收盘价\s*[（(]?\s*(?:截至|截止|为|日期)?\s*[:：]?\s*(?:{_CJK_DATE}|{_NUM_DATE})"),
    re.compile(rf"(?:{_CJK_DATE}|{_NUM_DATE})\s*股价"),
]
_NEAR_PRICE_PATTERN = re.compile(rf"(?:数据更新至|数据截至|数据截止|截至|截止|更新至)\s*(?:{_CJK_DATE}|{_NUM_DATE})")


def find_price_date(text: str, near: int | None = None, window: int = 600) -> dt.date | None:
    """The date the quoted prices refer to. With ``near`` (offset of a 现价 match) look there first."""
    if near is not None:
        m = _NEAR_PRICE_PATTERN.search(text, max(0, near - 50), near + window)
        if m:
            d = parse_date(m.group(0))
            if d is not None:
                return d
    for pattern in _PRICE_DATE_PATTERNS:
        m = pattern.search(text)
        if m:
            d = parse_date(m.group(0))
            if d is not None:
                return d
    return None


def _next_weekday(day: dt.date) -> dt.date:
    day = day + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@functools.lru_cache(maxsize=2)
def _session_days(market: str) -> tuple[dt.date, ...]:
    """All sessions the calendar knows (loaded once per market); empty when no calendar is available."""
    try:
        from engine.data.calendars import sessions
        days = sessions("XHKG" if market == "HK" else "XSHG", "1990-01-01", "2100-12-31")
    except Exception:  # calendar package missing or broken: weekday fallback
        return ()
    return tuple(d.date() for d in days)


def session_on_or_after(day: dt.date, market: str = "A") -> dt.date:
    """``day`` if it is a session, else the next one: :func:`engine.data.calendars.sessions` (XSHG / XHKG), with a
    weekday fallback outside the calendar's range (past 2026-12-31 for XSHG) or when no calendar is available."""
    days = _session_days("HK" if market == "HK" else "A")
    if days and days[0] <= day <= days[-1]:
        return days[bisect.bisect_left(days, day)]
    return day if day.weekday() < 5 else _next_weekday(day)


def next_session(day: dt.date, market: str = "A") -> dt.date:
    """The first session strictly after ``day`` (exchange calendar; weekday fallback outside its range)."""
    return session_on_or_after(day + dt.timedelta(days=1), market)


def infer_publication_date(price_date: dt.date, body_text: str, market: str = "A",
                           lookahead_days: int = 7) -> dt.date:
    """Publication date of a report that prints none: the next session after its quoted-price date.

    A weekly may quote Friday's prices yet report news from the weekend (seed 004: prices 2024-02-23, an
    announcement dated Saturday 2024-02-24); events dated within ``lookahead_days`` after the price date therefore
    move the inferred date to the session on or after the latest of them, never earlier than the next session.
    """
    inferred = next_session(price_date, market)
    later = [d for _, d in find_dates(body_text) if price_date < d <= price_date + dt.timedelta(days=lookahead_days)]
    if later:
        inferred = max(inferred, session_on_or_after(max(later), market))
    return inferred
