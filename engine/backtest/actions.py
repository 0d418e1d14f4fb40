"""Traded prices and corporate actions from the panel's adjustment factor, for the share-based simulator.

The panel's ``open``/``low``/``close`` are adjusted (total-return, forward-adjusted in the shared files) and
``raw_close`` is the traded close where known; the adjustment factor is ``f = close / raw_close`` (README, "Cached
bar columns"). This module turns them into what :func:`engine.kernels.simulate.simulate_nb` reads:

1. :func:`traded_scale` — per session and stock, traded ÷ adjusted price (``1 / f``) and where it came from
   (:class:`engine.enums.PriceBasisT`): the session's own factor (``traded``); else the nearest known factor of the
   same stock — the last one before, or before the first raw price the first one after (``nearest_factor``: right
   when no corporate action falls between, which the data cannot show, so the trade says so); else, for a stock
   without any raw price, 1.0 (``adjusted``: the adjusted price is taken as traded).
2. :func:`detect_actions` — corporate actions from *steps* of the factor between consecutive sessions where it is
   known. A step counts only when it exceeds :data:`NOISE_MULTIPLE` × the largest change the rounding of the two
   prices can cause (raw prices on a cent grid, adjusted ones stored to 4 decimals): ``eps = 0.005/raw_prev +
   0.005/raw + 0.00005/close_prev + 0.00005/close``. On the 21 shared A-share files the rounding noise reaches
   2.6 × eps and the smallest real dividend (300781.SZ 2024-06-28, 0.09 %) 4.5 × eps, hence 3.

   The step ``g = f_t / f_prev`` (= traded ÷ adjusted before over after) is split into shares per share ``m`` and a
   cash dividend ``D`` per pre-action share with ``g = m × P / (P - D)`` (``P`` the previous raw close), the
   exchanges' ex-reference price formula ``(P - D) / m``:

   - ``g ≥ 1 +`` :data:`MIN_BONUS` (10 %): bonus shares / split, ``m`` on the 0.01 grid of A-share announcements
     ("每10股转增4.9股" = 1.49) at or below ``g`` (``g`` itself when within the noise of a grid value), the rest a
     dividend; below 10 %: a cash dividend only (``m = 1``). The data alone cannot tell a 12 % special dividend
     from 10送1 plus 1.8 %: either way value is conserved (``m × (P - D)/m + D = P``), only the split between
     shares and cash differs.
   - ``g ≤ 1 / (1 +`` :data:`MIN_BONUS`): a consolidation, ``m = g``, no dividend.
   - a smaller downward step beyond the noise is no corporate action (a factor cannot fall by a dividend): ignored
     and listed in :attr:`Actions.ignored`.

Units: dividends and reference prices in the stock's own currency per share; dates are session dates (the ex-date
is the first session with the new factor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.data.panel import Panel

__all__ = ["Actions", "scan", "traded_scale", "detect_actions", "split_step", "NOISE_MULTIPLE", "MIN_BONUS",
           "EV_COLUMNS"]

NOISE_MULTIPLE = 3.0   # a factor step must exceed 3 × the rounding bound eps (see the module docstring)
MIN_BONUS = 0.10       # steps of 10 % or more carry bonus shares (10送1 is the smallest common issue)
EV_COLUMNS = ("ratio", "dividend", "ex_reference", "step")  # columns of Actions.data


def traded_scale(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, basis)``: ``(n_sessions, n_assets)`` float64 traded ÷ adjusted price and int8 ``PriceBasis``;
    both ``(0, 0)`` when the panel has no raw price at all (every price is then taken as traded)."""
    scale, basis, _ = scan(panel)
    return scale, basis


@dataclass
class Actions:
    """Corporate actions in kernel form (sorted by session) plus a readable table.

    ``ptr``: ``(n_sessions + 1,)`` int64 (events of session ``i`` are ``ptr[i]:ptr[i+1]``), ``asset``:
    ``(n_events,)`` int64, ``data``: ``(n_events, 4)`` float64 with :data:`EV_COLUMNS`. ``table``: date, code,
    ratio (shares per share), dividend (per pre-action share, stock currency), ex_reference, step, prev_raw_close.
    ``ignored``: downward factor steps beyond the noise that are no corporate action (date, code, step).
    """

    ptr: np.ndarray
    asset: np.ndarray
    data: np.ndarray
    table: pd.DataFrame
    ignored: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "code", "step"]))

    @classmethod
    def empty(cls) -> "Actions":
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty((0, 4)),
                   pd.DataFrame(columns=["date", "code", "ratio", "dividend", "ex_reference", "step",
                                         "prev_raw_close"]))


def split_step(step: np.ndarray, prev_raw: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares per share ``m`` and cash dividend ``D`` per share for upward or consolidation factor steps (see the
    module docstring); ``D`` in the currency of ``prev_raw``."""
    step = np.asarray(step, dtype=float)
    tol = NOISE_MULTIPLE * np.asarray(eps, dtype=float) * step
    nearest = np.round(step * 100.0) / 100.0
    floor = np.floor(step * 100.0 + 1e-9) / 100.0
    bonus = np.where(np.abs(step - nearest) <= tol, nearest, floor)
    m = np.where(step >= 1.0 + MIN_BONUS, bonus, 1.0)
    m = np.where(step <= 1.0 / (1.0 + MIN_BONUS), step, m)
    div = np.where(step > 1.0, np.maximum(prev_raw * (1.0 - m / step), 0.0), 0.0)
    return m, div


def detect_actions(panel: Panel) -> Actions:
    """Corporate actions from the factor's steps (module docstring); empty when the panel has no raw price."""
    return scan(panel)[2]


def scan(panel: Panel) -> tuple[np.ndarray, np.ndarray, Actions]:
    """``(scale, basis, actions)`` in one pass over the factor (:func:`engine.kernels.factor_scan.factor_scan_nb`)."""
    from engine.kernels.factor_scan import factor_scan_nb

    n_sessions, _ = panel.shape
    if not np.isfinite(panel.raw_close).any():
        out = Actions.empty()
        out.ptr = np.zeros(n_sessions + 1, dtype=np.int64)
        return np.empty((0, 0)), np.empty((0, 0), dtype=np.int8), out
    scale, basis, rows, cols, step, prev_raw, eps, kind = factor_scan_nb(
        np.ascontiguousarray(panel.close, dtype=float), np.ascontiguousarray(panel.raw_close, dtype=float),
        NOISE_MULTIPLE, MIN_BONUS)
    dates = pd.DatetimeIndex(panel.sessions)
    codes = np.asarray(panel.codes).astype(str)
    down = kind == 1
    ignored = pd.DataFrame({"date": dates.take(rows[down]), "code": codes[cols[down]], "step": step[down]})
    real = ~down
    rows, cols, g, p_prev = rows[real], cols[real], step[real], prev_raw[real]   # sorted by session, then stock
    m, div = split_step(g, p_prev, eps[real])
    ref = p_prev / g
    ptr = np.zeros(n_sessions + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_sessions), out=ptr[1:])
    table = pd.DataFrame({"date": dates.take(rows), "code": codes[cols], "ratio": m, "dividend": div,
                          "ex_reference": ref, "step": g, "prev_raw_close": p_prev})
    data = np.ascontiguousarray(np.column_stack([m, div, ref, g]))
    actions = Actions(ptr=ptr, asset=cols.astype(np.int64), data=data, table=table, ignored=ignored)
    return scale, basis, actions
