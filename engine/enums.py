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
