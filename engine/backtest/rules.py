"""Dated market rules and costs (A-shares, Hong Kong) turned into per-session arrays for the simulator kernel.

Every rate is a *fraction* of traded value (0.001 = 0.1 %). A rule that changed on a date applies from that
session on (sessions are exchange-local dates). Sources: REFERENCE.md §2 (exchange and SFC/HKEX notices).

=====================  =============================  =============================================
column                 value                          since
=====================  =============================  =============================================
A stamp duty (sells)   0.001 → 0.0005                 2023-08-28
A transfer fee         0 → 0.00001 per side           2022-04-29
A handling fee         0.0000487 → 0.0000341          2023-08-28 (kept 0 before: set by the broker)
HK stamp duty          0.0013 → 0.001, both sides     2023-11-17 (rounded up to a whole HKD per order)
HK trading fee         0.0000565 per side             always
HK SFC levy            0.000027 per side              always
HK AFRC levy           0.0000015 per side             always
HK settlement fee      0 → 0.000042 per side          2025-06-30
ChiNext price limit    0.10 → 0.20                    2020-08-24
Main-board ST limit    0.05 → 0.10                    2026-07-06
=====================  =============================  =============================================
"""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from engine.enums import BOARD_CODE_BY_NAME, N_FEE_COLS, BoardCode, FeeCol

__all__ = ["fee_table", "board_codes", "lot_arrays", "listing_indices", "DEFAULT_HK_LOT", "RULE_DATES"]

DEFAULT_HK_LOT = 100  # shares; used for HK stocks without a board lot in the config (with a warning)

RULE_DATES = {
    "a_stamp_cut": pd.Timestamp("2023-08-28"),
    "a_transfer_start": pd.Timestamp("2022-04-29"),
    "a_handling_cut": pd.Timestamp("2023-08-28"),
    "hk_stamp_cut": pd.Timestamp("2023-11-17"),
    "hk_settlement_start": pd.Timestamp("2025-06-30"),
    "chinext_20": pd.Timestamp("2020-08-24"),
    "st_main_10": pd.Timestamp("2026-07-06"),
}


def fee_table(sessions: np.ndarray | pd.DatetimeIndex) -> np.ndarray:
    """``(n_sessions, N_FEE_COLS)`` float64 of the dated rates above (columns per :class:`engine.enums.FeeColT`)."""
    days = pd.DatetimeIndex(sessions)
    table = np.zeros((len(days), N_FEE_COLS))

    def since(key: str) -> np.ndarray:
        return np.asarray(days >= RULE_DATES[key])

    table[:, FeeCol.A_STAMP_SELL] = np.where(since("a_stamp_cut"), 0.0005, 0.001)
    table[:, FeeCol.A_TRANSFER] = np.where(since("a_transfer_start"), 0.00001, 0.0)
    table[:, FeeCol.A_HANDLING] = np.where(since("a_handling_cut"), 0.0000341, 0.0000487)
    table[:, FeeCol.HK_STAMP] = np.where(since("hk_stamp_cut"), 0.001, 0.0013)
    table[:, FeeCol.HK_TRADING] = 0.0000565
    table[:, FeeCol.HK_SFC] = 0.000027
    table[:, FeeCol.HK_AFRC] = 0.0000015
    table[:, FeeCol.HK_SETTLE] = np.where(since("hk_settlement_start"), 0.000042, 0.0)
    table[:, FeeCol.LIMIT_CHINEXT] = np.where(since("chinext_20"), 0.20, 0.10)
    table[:, FeeCol.LIMIT_ST_MAIN] = np.where(since("st_main_10"), 0.10, 0.05)
    return table


def board_codes(boards: np.ndarray) -> np.ndarray:
    """``(n_assets,)`` int64 board codes from the panel's board names (``"main"``, ``"star"``, …)."""
    out = np.empty(len(boards), dtype=np.int64)
    for j, name in enumerate(boards):
        key = str(name)
        if key not in BOARD_CODE_BY_NAME:
            raise ValueError(f"unknown board {key!r} for asset {j}; allowed: {', '.join(BOARD_CODE_BY_NAME)}")
        out[j] = BOARD_CODE_BY_NAME[key]
    return out


def lot_arrays(codes: np.ndarray, boards: np.ndarray, hk_lots: Mapping[str, int] | None = None,
               warn: bool = True, priced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lot step and minimum buy quantity in traded shares per asset: ``(lot_step, min_buy)``, float64.

    Main board / ChiNext / Beijing: 100 / 100. STAR: step 1 share, minimum 200. Hong Kong: the board lot from
    ``hk_lots`` (code → shares), else :data:`DEFAULT_HK_LOT` with a warning naming the codes (only those with
    prices when the ``priced`` mask is given). Indexes: 1 / 1.
    """
    hk_lots = dict(hk_lots or {})
    codes_b = board_codes(boards)
    step = np.ones(len(codes))
    min_buy = np.ones(len(codes))
    missing: list[str] = []
    for j, (code, b) in enumerate(zip(codes, codes_b)):
        if b in (BoardCode.MAIN, BoardCode.CHINEXT, BoardCode.BSE):
            step[j] = min_buy[j] = 100
        elif b == BoardCode.STAR:
            step[j], min_buy[j] = 1, 200
        elif b == BoardCode.HK:
            lot = hk_lots.get(str(code))
            if lot is None:
                if priced is None or priced[j]:
                    missing.append(str(code))
                lot = DEFAULT_HK_LOT
            if int(lot) <= 0:
                raise ValueError(f"portfolio.hk_lots[{code!r}] must be a positive number of shares, got {lot!r}")
            step[j] = min_buy[j] = int(lot)
    if missing and warn:
        warnings.warn(f"no board lot known for {', '.join(missing)}: using {DEFAULT_HK_LOT} shares "
                      "(set portfolio.hk_lots in the config)", stacklevel=2)
    return step, min_buy


def listing_indices(close: np.ndarray, listing_dates: Mapping[str, object] | None = None,
                    codes: np.ndarray | None = None, sessions: np.ndarray | None = None) -> np.ndarray:
    """Session index of each asset's listing (for the 5-session no-limit IPO window); -1 when not in the panel.

    Given ``listing_dates`` (code → date) the first session on/after that date is used. Otherwise an asset whose
    first bar comes *after* the panel's first session is taken to list on that bar; an asset with a bar on the
    first session is taken as listed before the panel (-1). Override with real listing dates where known.
    """
    n_sessions, n_assets = close.shape
    has_bar = np.isfinite(close)
    first = np.where(has_bar.any(axis=0), has_bar.argmax(axis=0), -1).astype(np.int64)
    out = np.where(first > 0, first, -1).astype(np.int64)
    if listing_dates and codes is not None and sessions is not None:
        days = pd.DatetimeIndex(sessions)
        for j, code in enumerate(codes):
            if str(code) in listing_dates:
                k = int(days.searchsorted(pd.Timestamp(listing_dates[str(code)])))
                out[j] = k if k < n_sessions and k > 0 else -1
    return out
