"""Integer codes and record dtypes shared by numba kernels and their pandas wrappers.

Each stage keeps its additions in its own clearly separated block (to avoid merge conflicts between branches).
Codes are plain ``NamedTuple`` singletons so numba can read them as compile-time integer constants.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# ---------------------------------------------------------------------------------------------------------------------
# Scoring (issue 4): engine/kernels/forward_returns.py, engine/score/
# ---------------------------------------------------------------------------------------------------------------------


class ExcessModeT(NamedTuple):
    """How the excess return over the benchmark is formed from stock return ``r`` and benchmark return ``b``."""

    Absolute: int = 0  # r - b   (the convention of Chinese broker rating definitions)
    Relative: int = 1  # (1 + r) / (1 + b) - 1   (geometric / price-relative excess)


ExcessMode = ExcessModeT()
EXCESS_MODE_NAMES = {"absolute": ExcessMode.Absolute, "relative": ExcessMode.Relative}


class WindowStatusT(NamedTuple):
    """Outcome of the forward-return kernel for one signal (``window_status`` output)."""

    Complete: int = 0        # stock and benchmark have data through the horizon end
    Incomplete: int = 1      # data ends before the horizon end: scored "so far" up to the last common bar
    NoBasePrice: int = 2     # stock has no bar on or before the base session (not listed yet / data starts later)
    NoBenchmark: int = 3     # benchmark has no bar on or before the base session (or no benchmark column)
    NoPriceSince: int = 4    # stock has no bar at or after the base session (data ended before publication)


WindowStatus = WindowStatusT()

#: Human-readable status strings used in the ``scores`` table (index = :data:`WindowStatus` code).
WINDOW_STATUS_NAMES = ("complete", "incomplete", "no base price", "no benchmark price", "no price since publication")

#: Status of a signal whose stock is absent from the panel or has no price at all (set by the wrapper, not a kernel).
STATUS_NO_PRICE_DATA = "no price data"

#: One scored window (per signal and horizon) as a record; the ``scores`` table is this plus the signal's columns.
score_dt = np.dtype([
    ("signal", np.int64),            # row of the (expanded) signals table
    ("stock_base_idx", np.int64),    # session of the stock's base close (-1: none)
    ("stock_end_idx", np.int64),     # session of the stock's end close (-1: none)
    ("bench_base_idx", np.int64),
    ("bench_end_idx", np.int64),
    ("stock_return", np.float64),    # fraction
    ("bench_return", np.float64),    # fraction
    ("excess_return", np.float64),   # fraction, by ExcessMode
    ("best_excess", np.float64),     # fraction, max along the path
    ("worst_excess", np.float64),    # fraction, min along the path
    ("touch_idx", np.int64),         # first session with the excess inside the band (-1: never)
    ("window_status", np.int8),      # WindowStatus code
])
# ---------------------------------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------------------------
# backtest (issue 5): order side, fill / rejection reasons, board codes, fee-table and parameter column layouts,
# the trade record dtype.
# ---------------------------------------------------------------------------------------------------------------


class SideT(NamedTuple):
    BUY: int = 0
    SELL: int = 1


Side = SideT()
SIDE_NAMES = ("buy", "sell")


class FillReasonT(NamedTuple):
    """Why an order filled in full, in part or not at all (``reason`` column of the trade records)."""

    FILLED: int = 0            # filled in full
    PARTIAL_CASH: int = 1      # buy cut to the cash available (after costs)
    NO_CASH: int = 2           # buy rejected: not enough cash for the smallest allowed quantity
    SUSPENDED: int = 3         # no bar / zero volume that session: untradeable
    LIMIT_UP: int = 4          # buy rejected: price at the daily up-limit at the fill
    LIMIT_DOWN: int = 5        # sell rejected: price at the daily down-limit at the fill
    T_PLUS_ONE: int = 6        # sell rejected: every share held was bought this session (A-share T+1)
    PARTIAL_T_PLUS_ONE: int = 7  # sell cut to the shares bought before this session (A-share T+1)
    BELOW_MIN_LOT: int = 8     # buy rejected: target below one board lot (STAR: below 200 shares)
    NO_PRICE: int = 9          # no fill price that session (NaN open/close: not listed yet, data gap)
    NOT_TRADABLE: int = 10     # the column is an index / benchmark, never traded
    STOP_LOSS: int = 11        # sell filled by the stop-loss during the session (at the stop or a lower open)
    NO_TRADED_PRICE: int = 12  # refused: no traded (raw) price that session and derived prices are off


FillReason = FillReasonT()
FILL_REASON_NAMES = (
    "filled", "partial_cash", "no_cash", "suspended", "limit_up", "limit_down", "t_plus_one",
    "partial_t_plus_one", "below_min_lot", "no_price", "not_tradable", "stop_loss", "no_traded_price",
)


class PriceBasisT(NamedTuple):
    """Where a fill's traded price came from (``price_basis`` column of the trade records)."""

    TRADED: int = 0     # the session's own raw close is known: traded price = adjusted × raw_close / close
    FACTOR: int = 1     # no raw price that session: adjusted price ÷ the nearest known adjustment factor
    ADJUSTED: int = 2   # no raw price known for the stock at all: the adjusted price is taken as traded


PriceBasis = PriceBasisT()
PRICE_BASIS_NAMES = ("traded", "nearest_factor", "adjusted")


class BoardCodeT(NamedTuple):
    """Board of listing as an int (mirrors :class:`engine.symbols.Board`)."""

    MAIN: int = 0
    CHINEXT: int = 1
    STAR: int = 2
    BSE: int = 3
    HK: int = 4
    INDEX: int = 5


BoardCode = BoardCodeT()
BOARD_CODE_BY_NAME = {"main": 0, "chinext": 1, "star": 2, "bse": 3, "hk": 4, "index": 5}


class FeeColT(NamedTuple):
    """Columns of the per-session fee table ``fee_table[session, col]``: rates as fractions of traded value."""

    A_STAMP_SELL: int = 0      # A-share stamp duty, sells only (0.001 → 0.0005 on 2023-08-28)
    A_TRANSFER: int = 1        # A-share transfer fee per side (0.00001 since 2022-04-29)
    A_HANDLING: int = 2        # A-share exchange handling fee per side (0.0000341 since 2023-08-28)
    HK_STAMP: int = 3          # HK stamp duty both sides (0.0013 → 0.001 on 2023-11-17), rounded UP to 1 HKD
    HK_TRADING: int = 4        # HK trading fee per side (0.0000565)
    HK_SFC: int = 5            # SFC transaction levy per side (0.000027)
    HK_AFRC: int = 6           # AFRC levy per side (0.0000015)
    HK_SETTLE: int = 7         # HK settlement fee per side (0.000042 from 2025-06-30)
    LIMIT_CHINEXT: int = 8     # ChiNext daily limit (0.10 before 2020-08-24, 0.20 from it)
    LIMIT_ST_MAIN: int = 9     # main-board ST daily limit (0.05; 0.10 from 2026-07-06)


FeeCol = FeeColT()
N_FEE_COLS = 10


class SimParamT(NamedTuple):
    """Columns of the per-variant parameter matrix ``params[variant, col]`` (float64)."""

    INIT_CASH: int = 0         # starting cash, account currency
    COMMISSION_RATE: int = 1   # broker commission per side, fraction of traded value
    COMMISSION_MIN: int = 2    # minimum commission per order, in the traded asset's currency
    COSTS_ON: int = 3          # 1.0 = apply commission and the dated taxes/fees, 0.0 = frictionless
    EXEC_AT_OPEN: int = 4      # 1.0 = weights decided at close t fill at open t+1; 0.0 = fill at close t
    T_PLUS_ONE_ON: int = 5     # 1.0 = A-share T+1 on shares bought this session
    LOTS_ON: int = 6           # 1.0 = round to board lots; 0.0 = fractional shares
    LIMITS_ON: int = 7         # 1.0 = no buy at limit-up / sell at limit-down
    SUSPENSIONS_ON: int = 8    # 1.0 = no trade on suspended sessions (tradable mask False)
    WEIGHT_SET: int = 9        # index into the leading axis of the weights array
    STOP_LOSS: int = 10        # stop-loss as a fraction below the average entry price (0 = off)
    RETRY_ON: int = 11         # 1.0 = an order rejected by suspension / limit / T+1 / no price stands until filled
    DERIVED_ON: int = 12       # 1.0 = fill at a price derived from the nearest factor (or adjusted) when no raw price


SimParam = SimParamT()
N_SIM_PARAMS = 13

trade_dt = np.dtype(
    [
        ("session", np.int32),   # session index (row of the panel)
        ("asset", np.int32),     # asset index (column of the panel)
        ("variant", np.int32),   # variant (row of the parameter matrix)
        ("side", np.int8),       # Side
        ("reason", np.int8),     # FillReason
        ("shares", np.float64),  # traded quantity in shares (traded basis); 0 for a rejection
        ("price", np.float64),   # fill price in the asset's currency, traded basis (see ``basis``)
        ("value", np.float64),   # traded value in the account currency (shares × price × fx)
        ("fees", np.float64),    # all costs of the order, account currency
        ("requested", np.float64),  # shares the target asked for (before lots, cash, T+1)
        ("basis", np.int8),      # PriceBasis of ``price``
    ],
    align=True,
)

# --- end backtest block ----------------------------------------------------------------------------------------
