"""The ``follow_ratings`` long book hedged with a short position in its benchmark (a futures-style overlay).

Reads / returns: as :mod:`strategies.follow_ratings` (same ``Params`` plus ``hedge_ratio``). The simulator trades
the long book with every market rule; :func:`overlay` then subtracts ``hedge_ratio`` × the benchmark's return on
the previous session's long value each session (a short index-futures overlay rebalanced daily, without its
margin, basis or costs). With ``hedge_ratio: 0`` the result is the plain long book; the benchmark-relative stats of
any strategy already measure it *against* its benchmark.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from engine.data.panel import Panel
from strategies import follow_ratings

KERNEL_PARAMS = follow_ratings.KERNEL_PARAMS


class Params(follow_ratings.Params):
    """``follow_ratings`` parameters plus the hedge ratio (1.0 = short the benchmark for the full long value)."""

    hedge_ratio: float = Field(1.0, ge=0.0, le=2.0)


def universe(signals: pd.DataFrame, params: Params) -> list[str]:
    """Codes of the followed signals (see :func:`strategies.follow_ratings.universe`)."""
    return follow_ratings.universe(signals, params)


def start_date(signals: pd.DataFrame, params: Params) -> pd.Timestamp | None:
    """Publication date of the first followed signal."""
    return follow_ratings.start_date(signals, params)


def target_weights(signals: pd.DataFrame, panel: Panel, params: Params) -> pd.DataFrame:
    """The long book of :func:`strategies.follow_ratings.target_weights`."""
    base = follow_ratings.Params(**params.model_dump(exclude={"hedge_ratio"}))
    return follow_ratings.target_weights(signals, panel, base)


def overlay(equity: pd.Series, cash: pd.Series, benchmark: pd.Series, params: Params) -> pd.Series:
    """Equity after the short overlay: each session adds ``-hedge_ratio × long value(t-1) × benchmark return(t)``.

    ``equity``/``cash`` in the account currency, ``benchmark`` index levels on the same sessions (forward-filled).
    """
    long_value = (equity - cash).shift(1).fillna(0.0)
    bench_return = benchmark.ffill().pct_change().fillna(0.0)
    hedge_pnl = -params.hedge_ratio * long_value * bench_return
    return equity + hedge_pnl.cumsum()
