"""``data verify``: validate every cached file and list *suspect* rows.

*Invalid* data breaks a rule of :func:`engine.data.bars.validate_bars` (unsorted/duplicate dates, non-positive
prices, high < max(open, close), low > min(open, close)) and makes ``data verify`` exit non-zero. *Suspect* rows are
valid but probably wrong; they are reported, never changed:

=====================  ===========================================================================================
rule                   meaning
=====================  ===========================================================================================
``placeholder``        open = high = low = close and volume 0: a filler row, not a traded session
                       (e.g. HSI 2026-08-04)
``zero_volume``        volume 0 with a price range on a full session (an intraday snapshot? e.g. HSI 2026-08-27).
                       Half-day sessions (XHKG early closes: Christmas Eve, New Year's Eve, Lunar New Year's Eve)
                       are not flagged: yfinance reports 0 volume there.
``jump``               close-to-close move between consecutive sessions beyond the board's daily price limit
                       (A-shares: main 10 %, ChiNext/STAR 20 %, Beijing 30 %, plus 1 point of rounding slack),
                       > 15 % for an index, > 50 % for an HK stock: an unadjusted corporate action or a bad print
``non_session``        a bar on a day that is not a session of the exchange calendar (within its range)
``half_day``           (only with ``include_half_days``) zero volume on an early-close session
=====================  ===========================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.bars import validate_bars
from engine.symbols import Board, parse_symbol

__all__ = ["Suspect", "find_suspects", "SUSPECT_RULES", "jump_limit"]

SUSPECT_RULES = ("placeholder", "zero_volume", "jump", "non_session", "half_day")


@dataclass(frozen=True)
class Suspect:
    """One suspect row: canonical code, session date, rule name, human-readable reason."""

    code: str
    date: pd.Timestamp
    rule: str
    reason: str


def jump_limit(code: str, date: pd.Timestamp) -> float:
    """Largest plausible |close/prev_close - 1| (fraction) for ``code`` on ``date`` (see module table)."""
    sym = parse_symbol(code)
    if sym.board is Board.INDEX:
        return 0.15
    if sym.board is Board.HK:
        return 0.50
    if sym.board is Board.CHINEXT:
        limit = 0.20 if date >= pd.Timestamp("2020-08-24") else 0.10
    elif sym.board is Board.STAR:
        limit = 0.20
    elif sym.board is Board.BSE:
        limit = 0.30
    else:
        limit = 0.10
    return limit + 0.01


def find_suspects(code: str, bars: pd.DataFrame, *, include_half_days: bool = False,
                  validate: bool = True) -> list[Suspect]:
    """Suspect rows of one symbol's validated bars (rules in the module docstring), in date order.

    Zero-volume rows on half-day sessions are skipped unless ``include_half_days`` (rule ``half_day``).
    ``validate=False`` skips re-validating bars already validated (e.g. by :meth:`PriceCache.read`); invalid
    bars yield no suspects.
    """
    from engine.data.calendars import _calendar, early_closes, sessions

    if bars.empty or (validate and validate_bars(bars, code)):
        return []
    sym = parse_symbol(code)
    cal_name = "XHKG" if sym.market.value == "HK" else "XSHG"
    dates = pd.DatetimeIndex(bars["date"])
    o, h, l, c = (bars[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    vol = bars["volume"].to_numpy(dtype=float)
    out: list[Suspect] = []
    flat = (o == h) & (h == l) & (l == c)
    zero = vol == 0
    half_days = set(early_closes(cal_name, dates[0], dates[-1]))
    for i in np.flatnonzero(zero & dates.isin(list(half_days))):
        if include_half_days:
            out.append(Suspect(code, dates[i], "half_day",
                               f"zero volume on a half-day session (close {c[i]:g}); yfinance reports 0 there"))
    for i in np.flatnonzero(flat & zero):
        if dates[i] in half_days:
            continue
        out.append(Suspect(code, dates[i], "placeholder",
                           f"open = high = low = close = {c[i]:g} with zero volume: a filler row, not a session"))
    for i in np.flatnonzero(zero & ~flat):
        if dates[i] in half_days:
            continue
        out.append(Suspect(code, dates[i], "zero_volume",
                           f"zero volume on a full session with range {l[i]:g}..{h[i]:g} (intraday snapshot?)"))
    cal = _calendar(cal_name)
    cal_first, cal_last = pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)
    inside = dates[(dates >= cal_first) & (dates <= cal_last)]
    if len(inside):
        valid = sessions(cal_name, inside[0], inside[-1])
        for d in inside.difference(valid):
            out.append(Suspect(code, d, "non_session", f"{d.date()} is not a {cal_name} trading session"))
        # consecutive = no calendar session between two bars
        pos = valid.get_indexer(dates)
    else:
        pos = np.arange(len(dates))
    # close-to-close moves between consecutive sessions (no session skipped), vectorised
    pos = np.asarray(pos)
    consecutive = np.r_[False, (pos[1:] >= 0) & (pos[:-1] >= 0) & (np.diff(pos) == 1)] if len(inside) \
        else np.r_[False, np.ones(len(dates) - 1, dtype=bool)]
    move = np.r_[np.nan, c[1:] / c[:-1] - 1.0]
    limits = np.full(len(dates), jump_limit(code, dates[-1]))
    if sym.board is Board.CHINEXT:
        limits[dates < pd.Timestamp("2020-08-24")] = 0.11
    with np.errstate(invalid="ignore"):
        jumps = np.flatnonzero(consecutive & (np.abs(move) > limits))
    shown = (lambda lim: lim - 0.01) if sym.market.value == "A" and not sym.is_index else (lambda lim: lim)
    for i in jumps:
        out.append(Suspect(code, dates[i], "jump",
                           f"close moved {move[i]:+.1%} from {c[i - 1]:g} to {c[i]:g}, beyond the "
                           f"{shown(limits[i]):.0%} daily limit"))
    out.sort(key=lambda s: (s.date, s.rule))
    return out
